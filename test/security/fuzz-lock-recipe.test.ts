// Property-based: the lock reader and the recipe reader against generated and
// damaged input. Invariants: a failure is an IntactError (a finding for
// recipes) and never INTERNAL; a lock that parses serializes and parses back to
// the same thing; a key repeated anywhere is refused; RSS stays bounded.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIntactError } from '../../src/errors.js';
import { parseLock, serializeLock } from '../../src/lock/parse.js';
import { parseRecipe } from '../../src/recipe/parse.js';
import { FUZZ_RUNS, RSS_BUDGET } from './fuzz-runs.js';

const PIN = `sha512-${createHash('sha512').update('x').digest('base64')}`;
const VALID_LOCK = serializeLock({
  lockfileVersion: 1,
  recipes: {
    a: {
      version: '1.0.0',
      recipeHash: 'sha256-abc',
      sources: [{ kind: 'url', url: 'https://e.test/a.tgz', mirrors: ['https://m.test/a.tgz'], integrity: PIN }],
      deps: [],
      keys: { 'linux-x64': 'k' },
    },
    constructor: { version: '2.0.0', recipeHash: 'sha256-def', sources: [], deps: ['a@1.0.0'] },
  },
});
const VALID_RECIPE = `name: a\nversion: 1.0.0\nsources:\n  - url: https://e.test/a.tgz\n    integrity: ${PIN}\n    strip: 1\ndeps: [b@2.0.0]\nbuild:\n  - run: [make, install]\nbin: [bin/a]\n`;

const NAMES = ['__proto__', 'constructor', 'toString', 'a', 'lockfileVersion', 'recipes', 'integrity', 'sources', 'version', 'hasOwnProperty', ''];

/** Expect only IntactErrors (never INTERNAL), or success. */
function lockOutcome(text: string): void {
  let lock;
  try {
    lock = parseLock(text);
  } catch (e) {
    if (!isIntactError(e)) throw new Error(`not an IntactError: ${(e as Error)?.stack ?? String(e)}`);
    expect(e.code).not.toBe('INTERNAL');
    expect(e.file).toBe('intact.lock');
    return;
  }
  expect(parseLock(serializeLock(lock))).toEqual(lock);
}

function bounded(): () => void {
  const before = process.memoryUsage().rss;
  return () => expect(process.memoryUsage().rss - before).toBeLessThan(RSS_BUDGET);
}

/** Any JSON value, with keys drawn from names that have broken readers before. */
const jsonish = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...NAMES), fc.string()), tie('value')), { maxLength: 5 }),
}));

function render(v: unknown): string {
  if (Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string')) {
    // An object as pairs: duplicates survive into the text, as a hostile hand wrote them.
    return `{${(v as [string, unknown][]).map(([k, x]) => `${JSON.stringify(k)}: ${render(x)}`).join(', ')}}`;
  }
  if (Array.isArray(v)) return `[${v.map(render).join(', ')}]`;
  return JSON.stringify(v) ?? 'null';
}

describe('lock reader properties', () => {
  it('any JSON-shaped text: an IntactError or a lock that round-trips', () => {
    const done = bounded();
    fc.assert(
      fc.property(jsonish.object, fc.constantFrom(...NAMES), (obj, name) => {
        lockOutcome(render(obj));
        lockOutcome(`{"lockfileVersion": 1, "recipes": {${JSON.stringify(name)}: ${render(obj)}}}`);
      }),
      { numRuns: FUZZ_RUNS * 5 },
    );
    done();
  });

  it('damage to a valid lock: an IntactError or a lock that round-trips', () => {
    const done = bounded();
    fc.assert(
      fc.property(fc.nat(VALID_LOCK.length), fc.nat(VALID_LOCK.length), fc.string({ maxLength: 12 }), (at, len, insert) => {
        lockOutcome(VALID_LOCK.slice(0, at) + insert + VALID_LOCK.slice(Math.min(VALID_LOCK.length, at + (len % 16))));
      }),
      { numRuns: FUZZ_RUNS * 5 },
    );
    done();
  });

  it('a key repeated in any object of a valid lock is refused', () => {
    const lines = VALID_LOCK.split('\n');
    const keyed = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*"[^"]+": /.test(l) && !l.trimEnd().endsWith('{') && !l.trimEnd().endsWith('['));
    fc.assert(
      fc.property(fc.constantFrom(...keyed), ([line, i]) => {
        const copy = [...lines];
        copy.splice(i, 0, line.trimEnd().endsWith(',') ? line : `${line},`);
        expect(() => parseLock(copy.join('\n'))).toThrow(expect.objectContaining({ code: 'LOCK_INVALID' }));
      }),
      { numRuns: Math.min(FUZZ_RUNS, keyed.length * 3) },
    );
  });
});

describe('recipe reader properties', () => {
  const check = (text: string): void => {
    let r;
    try {
      r = parseRecipe(text, 'recipes/a.yaml');
    } catch (e) {
      throw new Error(`parseRecipe threw instead of reporting: ${(e as Error)?.stack ?? String(e)}`);
    }
    for (const f of r.findings) {
      expect(f.code).not.toBe('INTERNAL');
      expect(f.file).toBe('recipes/a.yaml');
    }
  };

  it('damage to a valid recipe: findings, never a throw or INTERNAL', () => {
    const done = bounded();
    fc.assert(
      fc.property(
        fc.nat(VALID_RECIPE.length),
        fc.nat(16),
        fc.oneof(
          fc.string({ maxLength: 12 }),
          fc.constantFrom('&a', '*a', '<<: *a', '!!js/function', '- ', ': ', '__proto__: {}', '{', '[', '"\\u0000"', '\t', '%YAML 1.1\n', '---\n'),
        ),
        (at, len, insert) => {
          check(VALID_RECIPE.slice(0, at) + insert + VALID_RECIPE.slice(Math.min(VALID_RECIPE.length, at + len)));
        },
      ),
      { numRuns: FUZZ_RUNS * 5 },
    );
    done();
  });

  it('any YAML-shaped mapping: findings, never a throw or INTERNAL', () => {
    const done = bounded();
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('name', 'version', 'sources', 'deps', 'build', 'bin', 'platforms', '__proto__', 'constructor'),
          fc.jsonValue({ maxDepth: 3 }),
        ),
        (obj) => {
          check(JSON.stringify(obj));
        },
      ),
      { numRuns: FUZZ_RUNS * 5 },
    );
    done();
  });
});
