// Reading recipes from disk: one file, or the whole recipes/ folder. Whatever a
// user puts there (garbage, a huge file, a wrong name) becomes findings that name
// the file and place; nothing here throws for bad content.
import { readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { finding, type Finding } from '../errors.js';
import { RECIPE_NAME } from './spec.js';
import { openMemo } from './memo.js';
import type { LoadedRecipe } from './types.js';

/** Recipes are small; anything larger is a mistake (or an attack on the parser). */
export const MAX_RECIPE_BYTES = 1024 * 1024;
export const RECIPES_DIR = 'recipes';

export interface LoadResult {
  recipes: LoadedRecipe[];
  findings: Finding[];
}

/**
 * Read one recipe file's text; `rel` is its project-relative path. Synchronous
 * reads on purpose: for hundreds of small files they cost a third of
 * fs/promises' (measured with bench/verify-static.mjs), and verify reads nothing large.
 */
function readRecipeText(projectDir: string, rel: string): { text: string } | { findings: Finding[] } {
  const abs = join(projectDir, rel);
  let buf: Buffer;
  try {
    const st = statSync(abs);
    if (!st.isFile()) {
      return {
        findings: [finding('RECIPE_UNREADABLE', `${rel} is not a regular file`, { file: rel, hint: 'recipes/ holds one <name>.yaml file per recipe' })],
      };
    }
    if (st.size > MAX_RECIPE_BYTES) {
      return {
        findings: [
          finding('RECIPE_TOO_LARGE', `the recipe is ${st.size} bytes; the limit is ${MAX_RECIPE_BYTES}`, {
            file: rel,
            hint: 'a recipe describes a package; vendored sources belong in files it references (`file:` sources)',
          }),
        ],
      };
    }
    buf = readFileSync(abs);
  } catch (e) {
    return {
      findings: [
        finding('RECIPE_UNREADABLE', `cannot read the recipe: ${(e as Error).message}`, { file: rel, hint: 'check that the file exists and is readable' }),
      ],
    };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf) };
  } catch {
    return {
      findings: [
        finding('RECIPE_NOT_TEXT', 'the recipe is not UTF-8 text (it holds binary bytes)', {
          file: rel,
          hint: 'a recipe is a YAML text file; restore it from git or rewrite it',
        }),
      ],
    };
  }
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
      findings: [
        finding('RECIPES_DIR_MISSING', `there is no ${RECIPES_DIR}/ folder in ${projectDir}`, {
          file: RECIPES_DIR,
          hint: 'run `intact init` to create one, or run intact from the project folder',
        }),
      ],
    };
  }
  const recipes: LoadedRecipe[] = [];
  const findings: Finding[] = [];
  const files: string[] = [];
  for (const n of names) {
    const rel = `${RECIPES_DIR}/${n}`;
    if (n.startsWith('.')) continue;
    if (n.endsWith('.yml')) {
      findings.push(
        finding('RECIPE_FILE_NAME', `${rel} ends in .yml; recipes end in .yaml`, { file: rel, hint: `rename it to ${RECIPES_DIR}/${n.slice(0, -4)}.yaml` }),
      );
      continue;
    }
    if (!n.endsWith('.yaml')) continue;
    if (!RECIPE_NAME.test(n.slice(0, -5))) {
      findings.push(
        finding('RECIPE_FILE_NAME', `"${n}" is not a valid recipe file name`, {
          file: rel,
          hint: 'recipe files are named <name>.yaml, with a lower-case name of letters, digits and . _ -',
        }),
      );
      continue;
    }
    files.push(rel);
  }
  // A recipe whose text the memo holds is taken from it; the parser and its
  // modules are loaded only for the others (memo.ts).
  const memo = openMemo(projectDir);
  let parse: typeof import('./parse.js').parseRecipe | undefined;
  for (const rel of files) {
    const read = readRecipeText(projectDir, rel);
    if ('findings' in read) {
      findings.push(...read.findings);
      continue;
    }
    const hit = memo.get(rel, read.text);
    if (hit) {
      recipes.push(hit);
      continue;
    }
    parse ??= (await import('./parse.js')).parseRecipe;
    const r = parse(read.text, rel);
    findings.push(...r.findings);
    if (r.recipe) recipes.push(r.recipe);
    if (r.recipe && r.findings.length === 0) memo.put(rel, read.text, r.recipe.recipe);
  }
  memo.save(files);
  if (files.length === 0 && findings.length === 0) {
    findings.push(
      finding('RECIPES_EMPTY', `${RECIPES_DIR}/ holds no recipes`, {
        file: RECIPES_DIR,
        hint: 'add one with `intact add`, or write recipes/<name>.yaml (see docs/recipes.md)',
      }),
    );
  }
  return { recipes, findings };
}
