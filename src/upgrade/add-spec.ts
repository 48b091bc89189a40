// The argument of `intact add`: `npm:package@version`, `git:<url>#<full commit>`
// or an http(s) URL. Floating forms are refused with the same errors as
// everywhere else in intact (src/recipe/exact.ts, src/fetch/npm.ts,
// src/fetch/git.ts); a name and version are guessed where the argument says them.
import { IntactError } from '../errors.js';
import { checkGitUrl } from '../fetch/git.js';
import { parseNpmSpec } from '../fetch/npm.js';
import { debFileReason, parseDebBinary, parseDebSource, type DebBinarySpec, type DebSourceSpec } from '../recipe/deb.js';
import { classifyGitRev, RECIPE_NAME } from '../recipe/index.js';
import { versionFromTag } from './versions.js';

export type AddSpec =
  | { kind: 'npm'; pkg: string; version: string }
  | { kind: 'deb'; spec: DebBinarySpec }
  | { kind: 'debSource'; spec: DebSourceSpec; file: string }
  | { kind: 'git'; url: string; rev: string }
  | { kind: 'url'; url: string };

const FORMS =
  'give npm:<package>@<version>, git:<url>#<full commit id>, deb:<package>=<Debian version>, debsource:<package>=<Debian version>/<file>, or an http(s):// URL';

export function parseAddSpec(arg: string): AddSpec {
  if (arg.startsWith('npm:')) {
    const s = parseNpmSpec(arg.slice(4), { field: 'npm' });
    return { kind: 'npm', pkg: s.name, version: s.version };
  }
  if (arg.startsWith('deb:')) {
    const r = parseDebBinary(arg.slice(4));
    if (!r.ok)
      throw new IntactError('DEB_SPEC_FLOATING', `${arg}: ${r.verdict.reason ?? 'not exact'}`, {
        found: arg,
        hint: r.verdict.hint ?? 'write deb:<package>=<exact Debian version>',
      });
    return { kind: 'deb', spec: r.spec };
  }
  if (arg.startsWith('debsource:')) {
    const rest = arg.slice('debsource:'.length);
    const slash = rest.indexOf('/');
    const r = parseDebSource(slash < 0 ? rest : rest.slice(0, slash));
    if (!r.ok)
      throw new IntactError('DEB_SPEC_FLOATING', `${arg}: ${r.verdict.reason ?? 'not exact'}`, {
        found: arg,
        hint: r.verdict.hint ?? 'write debsource:<package>=<exact Debian version>/<file>',
      });
    const file = slash < 0 ? '' : rest.slice(slash + 1);
    const why = debFileReason(file);
    if (why !== undefined)
      throw new IntactError('ADD_SPEC_INVALID', `${arg}: ${why}`, {
        found: arg,
        hint: 'write debsource:<package>=<version>/<file>, e.g. debsource:busybox=1:1.35.0-4/busybox_1.35.0.orig.tar.bz2',
      });
    return { kind: 'debSource', spec: r.spec, file };
  }
  if (arg.startsWith('git:')) {
    const rest = arg.slice(4);
    const hash = rest.lastIndexOf('#');
    const url = hash < 0 ? rest : rest.slice(0, hash);
    const rev = hash < 0 ? '' : rest.slice(hash + 1);
    checkGitUrl(url);
    const v = classifyGitRev(rev);
    if (!v.exact) {
      throw new IntactError(
        'GIT_REV_FLOATING',
        hash < 0
          ? `${arg} names no commit, so it would follow the remote's default branch`
          : `git rev ${JSON.stringify(rev)}: ${v.reason ?? 'not a full commit id'}`,
        {
          field: 'rev',
          found: rev,
          hint: `write git:${url}#<full commit id>; ${v.hint ?? ''}`.replace(/; $/, ''),
        },
      );
    }
    return { kind: 'git', url, rev };
  }
  if (/^https?:\/\//i.test(arg)) {
    try {
      new URL(arg);
    } catch {
      throw new IntactError('URL_INVALID', `${JSON.stringify(arg)} is not a URL`, { url: arg, hint: 'write a full http:// or https:// URL' });
    }
    if (/^[^/]*\/\/[^/@]*@/.test(arg)) {
      throw new IntactError('URL_INVALID', 'the URL carries credentials, and URLs are written into the recipe and the lock', {
        hint: 'remove user:password@ from the URL',
      });
    }
    return { kind: 'url', url: arg };
  }
  throw new IntactError('ADD_SPEC_INVALID', `cannot tell what ${JSON.stringify(arg)} is`, { found: arg, hint: FORMS });
}

/** Make a recipe name out of a package or file name: lower case, a safe alphabet. */
export function recipeNameFrom(raw: string): string | undefined {
  const n = raw
    .toLowerCase()
    .replace(/^@[^/]+\//, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '');
  return RECIPE_NAME.test(n) ? n : undefined;
}

const ARCHIVE_EXT = /\.(?:tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2?|tar\.zst|tzst|tar|zip|gz|xz|bz2|zst)$/i;

/** `foo-1.2.3.tar.gz` → foo and 1.2.3; a version-like folder in the path also names the version. */
export function guessFromUrl(url: string): { name?: string; version?: string } {
  const u = new URL(url);
  const parts = u.pathname
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p));
  const file = (parts.at(-1) ?? '').replace(ARCHIVE_EXT, '');
  const m = /^(.*)[-_]v?(\d[0-9A-Za-z.+_-]*)$/.exec(file);
  const out: { name?: string; version?: string } = {};
  if (m && versionFromTag(m[2]!) !== undefined) {
    const name = recipeNameFrom(m[1]!);
    if (name !== undefined) out.name = name;
    out.version = versionFromTag(m[2]!)!;
    return out;
  }
  const name = recipeNameFrom(file);
  if (name !== undefined) out.name = name;
  for (const p of parts.slice(0, -1).reverse()) {
    const v = versionFromTag(p);
    if (v !== undefined) {
      out.version = v;
      break;
    }
  }
  return out;
}

/** `https://host/org/tool.git` → tool. */
export function nameFromGitUrl(url: string): string | undefined {
  const last = url.replace(/\/+$/, '').split(/[/:]/).pop() ?? '';
  return recipeNameFrom(last.replace(/\.git$/i, ''));
}

/** A Debian version's upstream part: `1:1.35.0-4+b1` → 1.35.0, and a repack suffix (+dfsg, +ds1) dropped. */
export function upstreamOfDebVersion(v: string): string {
  return v
    .replace(/^\d+:/, '')
    .replace(/-[^-]*$/, '')
    .replace(/[+~](dfsg|ds|repack)[0-9.]*$/i, '');
}
