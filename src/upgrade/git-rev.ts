// Which commit a git source moves to when its recipe is upgraded. A version is
// not a commit, so: an explicit `--rev` (a full commit id) wins; otherwise the
// remote's tag `v<VERSION>` or `<VERSION>` names it (annotated tags peeled to
// their commit). Both tags pointing at different commits is ambiguous and
// refused; no such tag is VERSION_NOT_FOUND with the nearest tags the remote has.
import { IntactError } from '../errors.js';
import { classifyGitRev } from '../recipe/index.js';
import { remoteTags } from './ls-remote.js';
import { compareVersions, tagCandidates, versionFromTag } from './versions.js';

export function checkRev(rev: string): string {
  const v = classifyGitRev(rev);
  if (!v.exact) {
    throw new IntactError('GIT_REV_FLOATING', `--rev ${JSON.stringify(rev)}: ${v.reason ?? 'not a full commit id'}`, {
      field: 'rev',
      found: rev,
      hint: v.hint ?? 'give the full 40-hex commit id',
    });
  }
  return rev;
}

export async function revForVersion(
  url: string,
  version: string,
  opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; recipeName?: string } = {},
): Promise<{ rev: string; tag: string }> {
  const tags = await remoteTags(url, opts);
  const found = tagCandidates(version).flatMap((name) => tags.filter((t) => t.name === name));
  const commits = [...new Set(found.map((t) => t.commit))];
  if (commits.length > 1) {
    throw new IntactError(
      'UPGRADE_REV_AMBIGUOUS',
      `${url} has tags ${found.map((t) => `${t.name} (${t.commit.slice(0, 10)})`).join(' and ')} for version ${version}, at different commits`,
      {
        url,
        hint: 'say which commit with --rev <full commit id>',
      },
    );
  }
  if (commits.length === 0) {
    const versions = [...new Set(tags.flatMap((t) => versionFromTag(t.name, opts.recipeName) ?? []))].sort(compareVersions);
    const nearest = nearestTo(versions, version);
    throw new IntactError(
      'VERSION_NOT_FOUND',
      `${url} has no tag ${tagCandidates(version).join(' or ')}` +
        (nearest.length > 0 ? `; versions it has near it: ${nearest.join(', ')}` : '; it has no version tags'),
      {
        url,
        found: version,
        hint: 'check the version, or give the commit with --rev <full commit id> when upstream tags releases differently',
      },
    );
  }
  return { rev: commits[0]!, tag: found[0]!.name };
}

function nearestTo(sortedVersions: readonly string[], v: string): string[] {
  let i = sortedVersions.findIndex((x) => compareVersions(x, v) > 0);
  if (i < 0) i = sortedVersions.length;
  return sortedVersions.slice(Math.max(0, i - 3), i + 3);
}
