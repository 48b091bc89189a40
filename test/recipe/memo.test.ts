// The recipe memo (src/recipe/memo.ts): a recipe whose text did not change is
// taken from it; a changed, broken or forged one is never.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadRecipes } from '../../src/recipe/load.js';
import { cleanupProjects, makeProject } from '../helpers/project.js';

const GOOD = 'name: tool\nversion: 1.0.0\nsources:\n  - url: https://a.invalid/tool.tgz\ndeps: [zig@0.11.0]\n';
const MEMO = '.intact/recipes.memo';

describe('recipe memo', () => {
  let before: string | undefined;
  beforeAll(async () => {
    before = process.env['XDG_CACHE_HOME'];
    process.env['XDG_CACHE_HOME'] = await makeProject();
  });
  afterAll(() => {
    if (before === undefined) delete process.env['XDG_CACHE_HOME'];
    else process.env['XDG_CACHE_HOME'] = before;
  });
  afterEach(cleanupProjects);

  it('remembers a clean recipe and gives it back with its places', async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': GOOD });
    const first = await loadRecipes(dir);
    expect(first.findings).toEqual([]);
    expect(await readFile(join(dir, MEMO), 'utf8')).toContain('"recipes/tool.yaml"');
    const again = await loadRecipes(dir);
    expect(again.recipes[0]!.recipe).toEqual(first.recipes[0]!.recipe);
    expect(again.recipes[0]!.locate(['deps', 0])).toEqual({ line: 5, col: 8 });
  });

  it('parses a recipe again when its text changed, so a floating version is still found', async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': GOOD });
    await loadRecipes(dir);
    await writeFile(join(dir, 'recipes/tool.yaml'), GOOD.replace('1.0.0', '^1.0.0'));
    expect((await loadRecipes(dir)).findings.map((f) => f.code)).toContain('VERSION_FLOATING');
  });

  it('ignores a memo it did not sign: a forged one in a commit changes nothing', async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': GOOD.replace('1.0.0', 'latest') });
    const bad = await loadRecipes(dir);
    expect(bad.findings.length).toBeGreaterThan(0);
    const sha = (await import('node:crypto')).createHash('sha256').update(GOOD.replace('1.0.0', 'latest')).digest('hex');
    const body = JSON.stringify({ format: 'intact-recipe-memo-1', stamp: 'x', recipes: { 'recipes/tool.yaml': [sha, { name: 'tool', version: '1.0.0' }] } });
    await mkdir(join(dir, '.intact'));
    await writeFile(join(dir, MEMO), `${'0'.repeat(64)}\n${body}`);
    expect((await loadRecipes(dir)).findings.map((f) => f.code)).toEqual(bad.findings.map((f) => f.code));
  });
});
