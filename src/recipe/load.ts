// Reading recipes from disk: one file, or the whole recipes/ folder. Whatever a
// user puts there (garbage, a huge file, a wrong name) becomes findings that name
// the file and place; nothing here throws for bad content.
import { readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { finding, type Finding } from '../errors.js';
import { RECIPE_NAME } from './exact.js';
import { checkRules } from './rules.js';
import { validateShape } from './schema.js';
import type { LoadedRecipe, Recipe } from './types.js';
import { parseYaml } from './yaml.js';

/** Recipes are small; anything larger is a mistake (or an attack on the parser). */
export const MAX_RECIPE_BYTES = 1024 * 1024;
export const RECIPES_DIR = 'recipes';

export interface LoadResult {
  recipes: LoadedRecipe[];
  findings: Finding[];
}

/** Parse and check one recipe's text. `file` is project-relative, for messages. */
export function parseRecipe(text: string, file: string): { recipe?: LoadedRecipe; findings: Finding[] } {
  const nul = text.indexOf('\u0000');
  if (nul >= 0 || /[\u0001-\u0008\u000e-\u001f]/.test(text)) {
    return { findings: [finding('RECIPE_NOT_TEXT', 'the recipe is not UTF-8 text (it holds binary bytes)', { file, hint: 'a recipe is a YAML text file; restore it from git or rewrite it' })] };
  }
  const { value, locate, findings } = parseYaml(text.replace(/^\ufeff/, ''), file);
  if (findings.length > 0) return { findings };
  const shape = validateShape(value, file, locate);
  if (shape.length > 0) {
    // Still report floating versions and weak pins the schema does not judge.
    const rules = value && typeof value === 'object' && !Array.isArray(value) ? checkRules(value as Recipe, file, locate) : [];
    const seen = new Set(shape.map((f) => f.field));
    return { findings: [...shape, ...rules.filter((f) => !seen.has(f.field))] };
  }
  const recipe = value as Recipe;
  const out = checkRules(recipe, file, locate);
  const expected = expectedName(file);
  if (expected !== undefined && recipe.name !== expected) {
    out.push(finding('RECIPE_NAME_MISMATCH', `the recipe is named "${recipe.name}" but its file is ${file}`, {
      file, ...locate(['name']), field: 'name',
      hint: `rename the file to recipes/${recipe.name}.yaml or set \`name: ${expected}\``,
      expected, found: recipe.name,
    }));
  }
  return { recipe: { recipe, file, locate }, findings: out };
}

function expectedName(file: string): string | undefined {
  const m = /(?:^|\/)([^/]+)\.yaml$/.exec(file);
  return m?.[1];
}

/**
 * Read one recipe file; `rel` is its project-relative path. Synchronous reads on
 * purpose: for hundreds of small files they cost a third of fs/promises' (measured
 * with bench/verify-static.mjs), and verify reads nothing large.
 */
export function loadRecipeFile(projectDir: string, rel: string): { recipe?: LoadedRecipe; findings: Finding[] } {
  const abs = join(projectDir, rel);
  let buf: Buffer;
  try {
    const st = statSync(abs);
    if (!st.isFile()) {
      return { findings: [finding('RECIPE_UNREADABLE', `${rel} is not a regular file`, { file: rel, hint: 'recipes/ holds one <name>.yaml file per recipe' })] };
    }
    if (st.size > MAX_RECIPE_BYTES) {
      return { findings: [finding('RECIPE_TOO_LARGE', `the recipe is ${st.size} bytes; the limit is ${MAX_RECIPE_BYTES}`, { file: rel, hint: 'a recipe describes a package; vendored sources belong in files it references (`file:` sources)' })] };
    }
    buf = readFileSync(abs);
  } catch (e) {
    return { findings: [finding('RECIPE_UNREADABLE', `cannot read the recipe: ${(e as Error).message}`, { file: rel, hint: 'check that the file exists and is readable' })] };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return { findings: [finding('RECIPE_NOT_TEXT', 'the recipe is not UTF-8 text (it holds binary bytes)', { file: rel, hint: 'a recipe is a YAML text file; restore it from git or rewrite it' })] };
  }
  return parseRecipe(text, rel);
}

/** Load every recipe of the project. Findings cover the folder itself too. */
export async function loadRecipes(projectDir: string): Promise<LoadResult> {
  const dir = join(projectDir, RECIPES_DIR);
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return {
      recipes: [],
      findings: [finding('RECIPES_DIR_MISSING', `there is no ${RECIPES_DIR}/ folder in ${projectDir}`, { file: RECIPES_DIR, hint: 'run `intact init` to create one, or run intact from the project folder' })],
    };
  }
  const recipes: LoadedRecipe[] = [];
  const findings: Finding[] = [];
  const files: string[] = [];
  for (const n of names) {
    const rel = `${RECIPES_DIR}/${n}`;
    if (n.startsWith('.')) continue;
    if (n.endsWith('.yml')) {
      findings.push(finding('RECIPE_FILE_NAME', `${rel} ends in .yml; recipes end in .yaml`, { file: rel, hint: `rename it to ${RECIPES_DIR}/${n.slice(0, -4)}.yaml` }));
      continue;
    }
    if (!n.endsWith('.yaml')) continue;
    if (!RECIPE_NAME.test(n.slice(0, -5))) {
      findings.push(finding('RECIPE_FILE_NAME', `"${n}" is not a valid recipe file name`, { file: rel, hint: 'recipe files are named <name>.yaml, with a lower-case name of letters, digits and . _ -' }));
      continue;
    }
    files.push(rel);
  }
  const loaded = files.map((rel) => loadRecipeFile(projectDir, rel));
  for (const r of loaded) {
    findings.push(...r.findings);
    if (r.recipe) recipes.push(r.recipe);
  }
  if (files.length === 0 && findings.length === 0) {
    findings.push(finding('RECIPES_EMPTY', `${RECIPES_DIR}/ holds no recipes`, { file: RECIPES_DIR, hint: 'add one with `intact add`, or write recipes/<name>.yaml (see docs/recipes.md)' }));
  }
  return { recipes, findings };
}
