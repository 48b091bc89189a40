// Ordering upstream versions, which are not all semver: `3.44.2`, `9.4p1`,
// `2024.01.15`, `1.0rc1`. Semver's order when both sides are semver; otherwise a
// natural order of numeric and word runs, where a pre-release word (rc, beta,
// alpha, ...) sorts before the release it leads to. And which git tags name a
// version: `v1.2.3`, `1.2.3`, `name-1.2.3`, `release-1.2.3`.
import semverCompare from 'semver/functions/compare.js';
import semverPrerelease from 'semver/functions/prerelease.js';
import semverValid from 'semver/functions/valid.js';
import { classifyVersion } from '../recipe/exact.js';

const PRE_WORDS = /^(?:alpha|beta|rc|pre|preview|dev|snapshot|nightly|canary|next|a|b|c|m|milestone|ea|insiders)$/i;

type Token = { n: number; s?: undefined } | { s: string; n?: undefined };

function tokens(v: string): Token[] {
  const out: Token[] = [];
  for (const m of v.matchAll(/(\d+)|([A-Za-z]+)/g)) out.push(m[1] !== undefined ? { n: Number(m[1]) } : { s: m[2]!.toLowerCase() });
  return out;
}

/** Negative when a < b, positive when a > b, 0 when they are the same version. */
export function compareVersions(a: string, b: string): number {
  if (semverValid(a) === a && semverValid(b) === b) return semverCompare(a, b);
  const x = tokens(a);
  const y = tokens(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined || q === undefined) {
      // 1.0 vs 1.0rc1: the longer one is a pre-release of the shorter; 1.0 vs 1.0.1 or 9.4 vs 9.4p1: later.
      const rest = (p ?? q)!;
      const longerIsPre = rest.s !== undefined && PRE_WORDS.test(rest.s);
      const sign = p === undefined ? -1 : 1;
      return longerIsPre ? -sign : sign;
    }
    if (p.n !== undefined && q.n !== undefined) {
      if (p.n !== q.n) return p.n - q.n;
    } else if (p.s !== undefined && q.s !== undefined) {
      if (p.s !== q.s) {
        const pp = PRE_WORDS.test(p.s);
        const qp = PRE_WORDS.test(q.s);
        if (pp !== qp) return pp ? -1 : 1;
        return p.s < q.s ? -1 : 1;
      }
    } else {
      // A number against a word: 1.0.1 against 1.0rc1, so the word is the pre-release.
      const word = (p.s ?? q.s)!;
      if (PRE_WORDS.test(word)) return p.n !== undefined ? 1 : -1;
      return p.n !== undefined ? -1 : 1;
    }
  }
  return a === b ? 0 : a < b ? -1 : 1;
}

/** A version that its publisher marks as not final: a semver pre-release, or rc/beta/alpha/... words. */
export function isPrerelease(v: string): boolean {
  if (semverValid(v) === v) return semverPrerelease(v) !== null;
  return tokens(v).some((t) => t.s !== undefined && PRE_WORDS.test(t.s));
}

/**
 * The version a git tag names, or undefined for tags that are not versions
 * (`latest`, `stable`, `docs-2021`). Accepted forms: `1.2.3`, `v1.2.3`,
 * `<name>-1.2.3` / `<name>_1.2.3` / `<name>@1.2.3` for the recipe's name,
 * `release-1.2.3`, `version-1.2.3`.
 */
export function versionFromTag(tag: string, recipeName?: string): string | undefined {
  let v = tag.replace(/^refs\/tags\//, '');
  const prefixes = ['release-', 'release_', 'version-', 'version_'];
  if (recipeName !== undefined) prefixes.unshift(`${recipeName}-`, `${recipeName}_`, `${recipeName}@`);
  for (const p of prefixes) {
    if (v.toLowerCase().startsWith(p.toLowerCase())) {
      v = v.slice(p.length);
      break;
    }
  }
  v = v.replace(/^[vV](?=\d)/, '');
  if (!/^\d/.test(v)) return undefined;
  return classifyVersion(v, 'recipe').exact ? v : undefined;
}

/** The tag names under which a version is looked for in a remote, in order of preference. */
export function tagCandidates(version: string): string[] {
  return [`v${version}`, version];
}
