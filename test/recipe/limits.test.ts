// A recipe's own build limits (`limits:`): read within their bounds, a value past
// its bound reported at its line, and kept out of the recipe hash (a limit bounds
// how a build runs, not what it makes). Defect class: build limits could be
// raised only through an environment variable, for every build at once.
import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipe/parse.js';
import { recipeHash } from '../../src/recipe/hash.js';
import { resolveLimits } from '../../src/build/limits.js';
import { DEFAULT_BUILD_LIMITS } from '../../src/recipe/limits.js';

const recipe = (limits: string) => `name: big
version: 1.0.0
${limits}build:
  - mkdir: $out
`;

describe('recipe limits', () => {
  it('reads every limit within its bound', () => {
    const r = parseRecipe(recipe('limits:\n  time: 4h\n  silent: 90m\n  log: 128MiB\n  disk: 32GiB\n  processes: 8192\n'), 'recipes/big.yaml');
    expect(r.findings).toEqual([]);
    expect(r.recipe!.recipe.limits).toEqual({ time: '4h', silent: '90m', log: '128MiB', disk: '32GiB', processes: 8192 });
  });

  it.each([
    ['time: 30h', 4, 'limits.time', /at most 24h/],
    ['disk: 300GiB', 4, 'limits.disk', /at most 256GiB/],
    ['processes: 100000', 4, 'limits.processes', /at most 65536/],
  ])('refuses %s past its bound, at its file and line', (line, at, field, why) => {
    const r = parseRecipe(recipe(`limits:\n  ${line}\n`), 'recipes/big.yaml');
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ code: 'RECIPE_SCHEMA', file: 'recipes/big.yaml', line: at, field });
    expect(r.findings[0]!.message).toMatch(why);
    expect(r.findings[0]!.hint).toMatch(/docs\/builds\.md/);
  });

  it('refuses an unknown limit and a value without its unit, through the schema', () => {
    for (const bad of ['cpus: 4', 'time: 4', 'log: 4h']) {
      const r = parseRecipe(recipe(`limits:\n  ${bad}\n`), 'recipes/big.yaml');
      expect(r.findings.map((f) => [f.code, f.line])).toEqual([['RECIPE_SCHEMA', 4]]);
    }
  });

  it('leaves the recipe hash alone: raising a limit does not make the lock stale', () => {
    const a = parseRecipe(recipe(''), 'recipes/big.yaml').recipe!.recipe;
    const b = parseRecipe(recipe('limits: { time: 4h }\n'), 'recipes/big.yaml').recipe!.recipe;
    expect(recipeHash(b, {})).toBe(recipeHash(a, {}));
  });

  it("takes the defaults, then the recipe's, then the command line's", () => {
    expect(resolveLimits(undefined, undefined)).toEqual(DEFAULT_BUILD_LIMITS);
    expect(resolveLimits({ timeMs: 1, processes: 5 }, { timeMs: 2 })).toEqual({ ...DEFAULT_BUILD_LIMITS, timeMs: 2, processes: 5 });
  });
});
