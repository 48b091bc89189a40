// What an upgrade changes in a recipe: its `version`, and every source that uses
// the version — an npm spec at that version, URLs and mirrors and nested archive
// paths that contain it, and git sources (whose new commit the caller resolved).
// Pure: it plans YAML edits (made by yaml-edit.ts) and says what it changed,
// what it left alone and why, for the summary.
//
// A version inside a URL is replaced only where it stands alone: `foo-1.2.3.tar.gz`
// and `/v1.2.3/` change, `11.2.3` and `1.2.30` do not. Encodings other than the
// literal version (`3440200` for 3.44.2) are not guessed: such a recipe is edited
// by hand, and the summary says so.
import { IntactError } from '../errors.js';
import { classifyNpmSpec, depEntries, splitSpec } from '../recipe/index.js';
import type { LoadedRecipe } from '../recipe/types.js';
import type { YamlEdit } from './yaml-edit.js';

export interface FieldChange {
  field: string;
  from: string;
  to: string;
}

export interface VersionEditPlan {
  edits: YamlEdit[];
  changes: FieldChange[];
  /** Declared pins removed because they pinned the old release's bytes. */
  dropped: { field: string; value: string }[];
  /** Sources the upgrade did not change, and why. */
  untouched: { field: string; why: string }[];
  /** Indexes of the sources that changed. */
  changedSources: number[];
}

function escapeYaml(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `s` with every standalone occurrence of version `from` replaced by `to`. */
export function replaceVersion(s: string, from: string, to: string): string {
  return s.replace(new RegExp(`(?<![0-9A-Za-z.])(v?)${escapeYaml(from)}(?![0-9A-Za-z]|\\.[0-9])`, 'g'), (_m, v: string) => `${v}${to}`);
}

/** 1-based numbers of the lines that still mention `version` standalone. */
export function linesMentioning(text: string, version: string): number[] {
  const re = new RegExp(`(?<![0-9A-Za-z.])v?${escapeYaml(version)}(?![0-9A-Za-z]|\\.[0-9])`);
  return text.split('\n').flatMap((l, i) => (re.test(l) ? [i + 1] : []));
}

/**
 * Plan the edits that move `loaded` from its version to `to`. `revs` maps the
 * index of each git source to its new commit.
 */
export function planVersionEdit(loaded: LoadedRecipe, to: string, revs: ReadonlyMap<number, string>): VersionEditPlan {
  const { recipe, file } = loaded;
  const from = recipe.version;
  const plan: VersionEditPlan = {
    edits: [{ path: ['version'], value: to }],
    changes: [{ field: 'version', from, to }],
    dropped: [],
    untouched: [],
    changedSources: [],
  };
  const set = (path: (string | number)[], field: string, a: string, b: string): void => {
    if (a === b) return;
    plan.edits.push({ path, value: b });
    plan.changes.push({ field, from: a, to: b });
  };
  (recipe.sources ?? []).forEach((src, i) => {
    const at = `sources[${i}]`;
    const before = plan.changes.length;
    if ('npm' in src) {
      const spec = splitSpec(src.npm);
      if (spec && spec.version === from) {
        const next = `${spec.name}@${to}`;
        const verdict = classifyNpmSpec(next);
        if (!verdict.exact) {
          throw new IntactError('NPM_SPEC_FLOATING', `${at}: upgrading to ${to} would make the npm spec "${next}", which floats: ${verdict.reason ?? ''}`, {
            file,
            ...loaded.locate(['sources', i, 'npm']),
            field: `${at}.npm`,
            found: next,
            hint: `npm versions are full semver versions: upgrade to e.g. ${to}.0 (\`intact upgrade ${recipe.name} <major.minor.patch>\`)`,
          });
        }
        set(['sources', i, 'npm'], `${at}.npm`, src.npm, next);
      } else {
        plan.untouched.push({ field: `${at}.npm`, why: `${src.npm} is not at version ${from}` });
      }
    }
    if ('url' in src) {
      set(['sources', i, 'url'], `${at}.url`, src.url, replaceVersion(src.url, from, to));
      (src.mirrors ?? []).forEach((m, j) => set(['sources', i, 'mirrors', j], `${at}.mirrors[${j}]`, m, replaceVersion(m, from, to)));
      if (plan.changes.length === before)
        plan.untouched.push({ field: `${at}.url`, why: `the URL does not contain ${from}; edit it by hand if it encodes the version otherwise` });
    }
    if ('git' in src) {
      const rev = revs.get(i);
      if (rev !== undefined) set(['sources', i, 'rev'], `${at}.rev`, src.rev, rev);
    }
    if ('file' in src) plan.untouched.push({ field: `${at}.file`, why: 'vendored files are updated by hand' });
    const locationChanged = plan.changes.length > before;
    if (src.archive !== undefined) set(['sources', i, 'archive'], `${at}.archive`, src.archive, replaceVersion(src.archive, from, to));
    if (src.path !== undefined) set(['sources', i, 'path'], `${at}.path`, src.path, replaceVersion(src.path, from, to));
    if (plan.changes.length === before) return;
    plan.changedSources.push(i);
    // A declared pin names the old release's bytes; keeping it would refuse the new ones.
    if (src.integrity !== undefined && locationChanged) {
      plan.edits.push({ path: ['sources', i, 'integrity'], delete: true });
      plan.dropped.push({ field: `${at}.integrity`, value: src.integrity });
    }
    if (src.archiveIntegrity !== undefined) {
      plan.edits.push({ path: ['sources', i, 'archiveIntegrity'], delete: true });
      plan.dropped.push({ field: `${at}.archiveIntegrity`, value: src.archiveIntegrity });
    }
  });
  return plan;
}

/** Edits that make a dependent recipe depend on `name@to` instead of `name@from`. */
export function planDepEdit(loaded: LoadedRecipe, name: string, from: string, to: string): { edits: YamlEdit[]; changes: FieldChange[] } {
  const edits: YamlEdit[] = [];
  const changes: FieldChange[] = [];
  for (const { field, i, spec: d } of depEntries(loaded.recipe)) {
    if (d !== `${name}@${from}`) continue;
    edits.push({ path: [field, i], value: `${name}@${to}` });
    changes.push({ field: `${field}[${i}]`, from: d, to: `${name}@${to}` });
  }
  return { edits, changes };
}
