// intact.lock: parse with errors that say what went wrong and what to do, and
// serialize deterministically (parse ∘ serialize is the identity, byte for byte).
import { canonicalJson, nameMap } from '../canonical-json.js';
import { IntactError } from '../errors.js';
import { PLATFORMS, type SourceKind } from '../recipe/types.js';
import { hasCredentials } from '../recipe/url-secrets.js';
import { jsonDuplicateKey, jsonErrorOffset } from './json-error.js';
import { LOCKFILE_VERSION, type LockEntry, type LockedSource, type Lockfile } from './types.js';

export const LOCK_FILE = 'intact.lock';

export function emptyLock(): Lockfile {
  return { lockfileVersion: LOCKFILE_VERSION, recipes: nameMap() };
}

/** Always in the current format: the model holds nothing an older one needs. */
export function serializeLock(lock: Lockfile): string {
  return canonicalJson({ ...lock, lockfileVersion: LOCKFILE_VERSION });
}

const CONFLICT = /^(<{7}|={7}|>{7}|\|{7})(?: |$)/m;

/** Parse intact.lock. Throws IntactError (exit 2) for anything unusable. */
export function parseLock(text: string, file = LOCK_FILE): Lockfile {
  const conflict = CONFLICT.exec(text);
  if (conflict) {
    throw new IntactError('LOCK_CONFLICT', 'the lockfile has merge-conflict markers', {
      file,
      ...lineCol(text, conflict.index),
      hint: 'do not merge the lock by hand: resolve the conflicts in recipes/, then take either side of intact.lock (`git checkout --theirs intact.lock`) and run `intact lock` to regenerate it',
    });
  }
  if (text.trim() === '') {
    throw new IntactError('LOCK_CORRUPT', 'the lockfile is empty', { file, hint: 'run `intact lock` to write it again' });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const found = jsonErrorOffset(text);
    const offset = found < 0 ? text.length : found;
    const truncated = offset >= text.length;
    const near = JSON.stringify(text.slice(offset, offset + 12));
    throw new IntactError('LOCK_CORRUPT', truncated ? 'the lockfile is cut off (truncated JSON)' : `the lockfile is not valid JSON (near ${near})`, {
      cause: e,
      file,
      ...lineCol(text, offset),
      hint: 'restore it from git (`git checkout intact.lock`) or run `intact lock` to write it again',
    });
  }
  // Strict: JSON.parse keeps the last of two equal keys, a reader sees the first.
  const dup = jsonDuplicateKey(text);
  if (dup) {
    throw new IntactError('LOCK_INVALID', `the lockfile gives ${JSON.stringify(dup.key)} twice in one object; the second would silently win`, {
      file,
      ...lineCol(text, dup.at),
      field: dup.key,
      hint: 'the lock is machine-written and never repeats a key: restore it from git, or run `intact lock` to regenerate it, and find out who edited it',
    });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw foreign(file, 'it is JSON but not an object');
  }
  const obj = data as Record<string, unknown>;
  if (!('lockfileVersion' in obj) || !('recipes' in obj)) {
    const npm = 'packages' in obj || 'dependencies' in obj;
    throw foreign(file, npm ? 'it looks like an npm package-lock.json' : 'it has no `lockfileVersion` and `recipes`');
  }
  const version = obj['lockfileVersion'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw invalid(file, text, 'lockfileVersion', `lockfileVersion must be a positive whole number, found ${JSON.stringify(version)}`);
  }
  if (version > LOCKFILE_VERSION) {
    throw new IntactError('LOCK_VERSION_NEWER', `the lockfile has lockfileVersion ${version}; this intact reads up to ${LOCKFILE_VERSION}`, {
      file,
      ...findKey(text, 'lockfileVersion'),
      expected: String(LOCKFILE_VERSION),
      found: String(version),
      hint: 'a newer intact wrote it: upgrade intact (the version in package.json) rather than rewriting the lock',
    });
  }
  const recipes = obj['recipes'];
  if (recipes === null || typeof recipes !== 'object' || Array.isArray(recipes)) {
    throw invalid(file, text, 'recipes', '`recipes` must be an object keyed by recipe name');
  }
  const extra = Object.keys(obj).filter((k) => k !== 'lockfileVersion' && k !== 'recipes');
  if (extra.length > 0) throw invalid(file, text, extra[0]!, `unknown top-level field \`${extra[0]}\``);
  // A null-prototype map: `__proto__` stays an entry (and is then reported as
  // one no recipe has), `constructor` is not found on a plain object's prototype.
  const out: Lockfile = { lockfileVersion: version, recipes: nameMap() };
  for (const [name, entry] of Object.entries(recipes as Record<string, unknown>)) {
    out.recipes[name] = checkEntry(file, text, name, entry, version);
  }
  return out;
}

function checkEntry(file: string, text: string, name: string, e: unknown, version: number): LockEntry {
  const bad = (field: string, what: string): IntactError => invalid(file, text, field, `recipes.${name}: ${what}`, name);
  if (e === null || typeof e !== 'object' || Array.isArray(e)) throw bad(name, 'the entry must be an object');
  const o = e as Record<string, unknown>;
  const str = (k: string): string => {
    if (typeof o[k] !== 'string' || o[k] === '') throw bad(k, `\`${k}\` must be a non-empty string`);
    return o[k] as string;
  };
  const strList = (k: string): string[] => {
    const v = o[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(k, `\`${k}\` must be a list of strings`);
    return v as string[];
  };
  const strMap = (k: string, keys?: readonly string[]): Record<string, string> | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      throw bad(k, `\`${k}\` must map names to strings`);
    }
    const unknown = keys ? Object.keys(v).find((x) => !keys.includes(x)) : undefined;
    if (unknown !== undefined) throw bad(k, `\`${k}\` has the unknown key "${unknown}"`);
    return v as Record<string, string>;
  };
  // Version 1 recorded the closure too: still checked for shape, then dropped (derived from deps).
  const known = version === 1 ? KNOWN_V1 : KNOWN;
  const extra = Object.keys(o).find((k) => !known.includes(k));
  if (extra !== undefined) throw bad(extra, `unknown field \`${extra}\``);
  if (version === 1) strList('closure');
  if (!Array.isArray(o['sources'])) throw bad('sources', '`sources` must be a list');
  const entry: LockEntry = {
    version: str('version'),
    recipeHash: str('recipeHash'),
    sources: (o['sources'] as unknown[]).map((s, i) => checkSource(s, (what) => bad('sources', `sources[${i}]: ${what}`))),
    deps: strList('deps'),
  };
  const files = strMap('files');
  if (files) entry.files = files;
  const keys = strMap('keys', PLATFORMS);
  if (keys) entry.keys = keys;
  const output = strMap('output', PLATFORMS);
  if (output) entry.output = output;
  return entry;
}

const KNOWN = ['version', 'recipeHash', 'files', 'sources', 'deps', 'keys', 'output'];
const KNOWN_V1 = [...KNOWN, 'closure'];
const SOURCE_KEYS = [
  'kind',
  'url',
  'mirrors',
  'npm',
  'git',
  'rev',
  'file',
  'deb',
  'debSource',
  'debFile',
  'debPath',
  'size',
  'integrity',
  'archive',
  'archiveIntegrity',
  'tree',
  'platforms',
];
const KINDS: readonly SourceKind[] = ['url', 'npm', 'git', 'file', 'deb', 'debSource'];

function checkSource(s: unknown, bad: (what: string) => IntactError): LockedSource {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) throw bad('must be an object');
  const o = s as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => !SOURCE_KEYS.includes(k));
  if (extra !== undefined) throw bad(`unknown field \`${extra}\``);
  if (!KINDS.includes(o['kind'] as SourceKind)) throw bad(`\`kind\` must be one of ${KINDS.join(', ')}`);
  for (const k of ['url', 'npm', 'git', 'rev', 'file', 'deb', 'debSource', 'debFile', 'debPath', 'integrity', 'archive', 'archiveIntegrity', 'tree']) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw bad(`\`${k}\` must be a string`);
  }
  if (o['size'] !== undefined && (typeof o['size'] !== 'number' || !Number.isSafeInteger(o['size']) || o['size'] < 0))
    throw bad('`size` must be a whole number of bytes');
  const kind = o['kind'] as SourceKind;
  if (typeof o[kind] !== 'string') throw bad(`a ${kind} source needs \`${kind}\``);
  if (kind === 'debSource' && typeof o['debFile'] !== 'string') throw bad('a debSource source needs `debFile`');
  // The archive-relative path is joined to every configured mirror: it must stay under the archive's root.
  if (
    (kind === 'deb' || kind === 'debSource') &&
    (typeof o['debPath'] !== 'string' || !/^pool\/[A-Za-z0-9._+~%/-]+$/.test(o['debPath']) || /(^|\/)\.\.?(\/|$)/.test(o['debPath']))
  ) {
    throw bad("`debPath` must be a path under the archive's pool/, as the index gives it");
  }
  if (typeof o['integrity'] !== 'string') throw bad('`integrity` is missing');
  for (const k of ['mirrors', 'platforms']) {
    const v = o[k];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) throw bad(`\`${k}\` must be a list of strings`);
  }
  // A lock is published with the repository: it never holds a password.
  if ([o['url'], ...((o['mirrors'] as string[] | undefined) ?? [])].some((u) => typeof u === 'string' && hasCredentials(u))) {
    throw bad('a URL carries credentials (user:password@); remove them from the recipe and the lock');
  }
  return o as unknown as LockedSource;
}

function foreign(file: string, why: string): IntactError {
  return new IntactError('LOCK_FOREIGN', `${file} is not an intact lockfile: ${why}`, {
    file,
    hint: 'intact.lock is written by `intact lock`; move the other file away, then run `intact lock`',
  });
}

function invalid(file: string, text: string, key: string, message: string, under?: string): IntactError {
  return new IntactError('LOCK_INVALID', message, {
    file,
    ...findKey(text, key, under),
    hint: 'the lock is machine-written: restore it from git, or run `intact lock` to regenerate it',
  });
}

/** 1-based line and column of a character offset. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return { line, col: offset - last };
}

/**
 * Where `"key":` stands, searching after `"under":` when given. The lock is one
 * fact per line, so this textual search finds the right line in a file intact wrote.
 */
export function findKey(text: string, key: string, under?: string): { line?: number; col?: number } {
  let from = 0;
  if (under !== undefined) {
    const u = text.indexOf(`${JSON.stringify(under)}:`);
    if (u >= 0) from = u;
  }
  const i = text.indexOf(`${JSON.stringify(key)}:`, from);
  return i < 0 ? {} : lineCol(text, i);
}
