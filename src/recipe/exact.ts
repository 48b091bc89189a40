// The exact-version rule, in one place: intact rejects every floating version
// (ranges, dist-tags, moving words, branches, short or symbolic git revs).
//
// Two dialects, because the same text means different things:
// - `recipe` versions (a recipe's own `version`, and `deps` entries naming one)
//   are upstream version strings: `3.44.2`, `9.4p1`, `2024.01.15`, `1.2.3-r1`
//   and `5.2` are all exact. Only range syntax and moving words float.
// - `npm` versions follow npm's semantics, where `5.2` is the range `5.2.x`:
//   only a full, valid semver version is exact.
// Only the three functions used: the whole of semver costs twice the load time.
import semverClean from 'semver/functions/clean.js';
import semverValid from 'semver/functions/valid.js';
import validRange from 'semver/ranges/valid.js';
import { RECIPE_NAME, splitSpec } from './spec.js';

export type Dialect = 'recipe' | 'npm';

export interface VersionVerdict {
  exact: boolean;
  /** Why it floats or is malformed, for the message. */
  reason?: string;
  /** What to write instead. */
  hint?: string;
}

/** Words that name a moving target rather than a version (matched case-insensitively). */
export const MOVING_WORDS = [
  'latest',
  'next',
  'stable',
  'lts',
  'nightly',
  'edge',
  'main',
  'master',
  'head',
  'trunk',
  'canary',
  'beta',
  'alpha',
  'rc',
  'dev',
  'current',
  'release',
  'snapshot',
  'tip',
  'newest',
  'unstable',
  'develop',
  'default',
  'any',
] as const;
const MOVING = new Set<string>(MOVING_WORDS);

const RANGE_CHARS = /[\^~*<>=|]/;
/** A component that is a wildcard: `1.x`, `1.X.3`, `x`. */
const WILDCARD_PART = /(^|[.])[xX*](?=$|[.+-])/;
const HYPHEN_RANGE = /\s-\s/;
/** Upstream versions: starts with an alphanumeric, then a small safe alphabet. */
const RECIPE_VERSION = /^[0-9A-Za-z][0-9A-Za-z._+-]*$/;

function example(dialect: Dialect): string {
  return dialect === 'npm' ? 'write the full version, e.g. 1.2.3' : 'write the exact version, e.g. 3.44.2';
}

/** Classify a version string. Never throws. */
export function classifyVersion(input: unknown, dialect: Dialect): VersionVerdict {
  if (typeof input !== 'string') {
    return { exact: false, reason: `a version must be a string, found ${describe(input)}`, hint: 'quote it in YAML, e.g. version: "1.10"' };
  }
  const v = input;
  if (v.trim() === '') return { exact: false, reason: 'the version is empty', hint: example(dialect) };
  if (MOVING.has(v.toLowerCase())) {
    return { exact: false, reason: `"${v}" is a moving tag, not a version`, hint: `${example(dialect)}; intact never follows tags` };
  }
  if (HYPHEN_RANGE.test(v)) {
    return { exact: false, reason: `"${v}" is a hyphen range`, hint: example(dialect) };
  }
  if (RANGE_CHARS.test(v)) {
    const exactInside = semverValid(semverClean(v.replace(/^[=v]+/, '')) ?? '');
    const hint = exactInside && /^=?v?\d/.test(v) && !/[\^~*<>|]/.test(v) ? `write it without the operator: ${exactInside}` : example(dialect);
    return { exact: false, reason: `"${v}" is a version range`, hint };
  }
  if (WILDCARD_PART.test(v)) {
    return { exact: false, reason: `"${v}" is a wildcard range`, hint: example(dialect) };
  }
  if (/\s/.test(v)) {
    return { exact: false, reason: `"${v}" contains white space`, hint: `${example(dialect)}, with no spaces` };
  }
  if (dialect === 'npm') {
    if (semverValid(v) === v) return { exact: true };
    if (validRange(v) !== null) {
      return { exact: false, reason: `"${v}" is a range in npm's semantics`, hint: `write the full version, e.g. ${partialExample(v)}` };
    }
    if (/^v\d/.test(v) && semverValid(v.slice(1)) === v.slice(1)) {
      return { exact: false, reason: `"${v}" has a "v" prefix, which npm versions do not use`, hint: `write ${v.slice(1)}` };
    }
    return { exact: false, reason: `"${v}" is not a version (a dist-tag or a typo)`, hint: example(dialect) };
  }
  if (!RECIPE_VERSION.test(v)) {
    return { exact: false, reason: `"${v}" has characters a version may not use`, hint: 'use letters, digits and . _ + - only, e.g. 9.4p1 or 2024.01.15' };
  }
  if (!/\d/.test(v)) {
    // No digit at all: a word such as a tag or branch name, never a release.
    return { exact: false, reason: `"${v}" has no digits: it names a tag or a branch, not a version`, hint: example(dialect) };
  }
  return { exact: true };
}

function partialExample(v: string): string {
  const parts = v.split('.').filter((p) => /^\d+$/.test(p));
  while (parts.length < 3) parts.push('0');
  return parts.slice(0, 3).join('.');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'number' ? `the number ${v}` : `a ${typeof v}`;
}

/** Full commit ids: sha1 (40) or sha256 (64) object names, lowercase hex. */
const FULL_REV = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function classifyGitRev(input: unknown): VersionVerdict {
  if (typeof input !== 'string' || input === '') {
    return { exact: false, reason: 'rev is missing or empty', hint: 'give the full 40-hex commit id, e.g. from `git rev-parse v1.2.3^{commit}`' };
  }
  if (FULL_REV.test(input)) return { exact: true };
  if (/^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$/.test(input)) {
    return { exact: false, reason: `"${input}" has upper-case hex digits`, hint: `write it in lower case: ${input.toLowerCase()}` };
  }
  if (/^[0-9a-f]{4,39}$/.test(input)) {
    return { exact: false, reason: `"${input}" is a short commit id, which can become ambiguous`, hint: `give all 40 hex digits: \`git rev-parse ${input}\`` };
  }
  return {
    exact: false,
    reason: `"${input}" is a branch or tag name, which can move`,
    hint: `pin the commit it points to: \`git ls-remote <url> ${input}\` or \`git rev-parse ${input}^{commit}\``,
  };
}

/** npm package names: lower case, url-safe, optionally scoped. */
const NPM_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

export interface SpecVerdict extends VersionVerdict {
  name?: string;
  version?: string;
}

/** An npm source spec: `package@exact-version`; aliases, tags, URLs and ranges float or are refused. */
export function classifyNpmSpec(input: unknown): SpecVerdict {
  if (typeof input !== 'string' || input.trim() === '') {
    return { exact: false, reason: 'the npm spec is empty', hint: 'write package@version, e.g. esbuild@0.19.12' };
  }
  if (/^(npm|file|git|git\+\w+|https?|github|link|workspace):/.test(input)) {
    return { exact: false, reason: `"${input}" is an alias or a URL spec, not package@version`, hint: 'write package@version, e.g. esbuild@0.19.12' };
  }
  const parts = splitSpec(input);
  if (!parts) {
    return { exact: false, reason: `"${input}" has no version`, hint: `write ${input}@<exact version>, e.g. ${input}@1.2.3` };
  }
  if (!NPM_NAME.test(parts.name) || parts.name.length > 214) {
    return { exact: false, reason: `"${parts.name}" is not a valid npm package name`, hint: 'npm names are lower case, e.g. @scope/name' };
  }
  const v = classifyVersion(parts.version, 'npm');
  return v.exact ? { exact: true, name: parts.name, version: parts.version } : { ...v, hint: `${v.hint} (${parts.name}@<version>)` };
}

/** A dependency: `name@version` of another recipe, exact in the recipe dialect. */
export function classifyDep(input: unknown): SpecVerdict {
  if (typeof input !== 'string' || input.trim() === '') {
    return { exact: false, reason: 'the dependency is empty', hint: 'write name@version, e.g. zig@0.11.0' };
  }
  const parts = splitSpec(input);
  if (!parts) {
    return { exact: false, reason: `"${input}" has no version`, hint: `write ${input}@<exact version>, as in that recipe's version field` };
  }
  if (!RECIPE_NAME.test(parts.name)) {
    return { exact: false, reason: `"${parts.name}" is not a recipe name`, hint: 'recipe names are lower case letters, digits and . _ -' };
  }
  const v = classifyVersion(parts.version, 'recipe');
  return v.exact ? { exact: true, name: parts.name, version: parts.version } : v;
}
