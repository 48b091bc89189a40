// One recipe's text → a checked recipe, or findings that name the file and the
// place: YAML (yaml.ts), the schema (schema.ts), then the exact-version and pin
// rules (rules.ts). Its own module because it is the heavy part of loading
// (js-yaml, the compiled schema, semver): load.ts imports it only for a recipe
// the memo (memo.ts) does not already hold.
import { finding, type Finding } from '../errors.js';
import { checkRules } from './rules.js';
import { validateShape } from './schema.js';
import type { LoadedRecipe, Recipe } from './types.js';
import { parseYaml } from './yaml.js';

/** Parse and check one recipe's text. `file` is project-relative, for messages. */
export function parseRecipe(text: string, file: string): { recipe?: LoadedRecipe; findings: Finding[] } {
  const nul = text.indexOf('\u0000');
  if (nul >= 0 || /[\u0001-\u0008\u000e-\u001f]/.test(text)) {
    return {
      findings: [
        finding('RECIPE_NOT_TEXT', 'the recipe is not UTF-8 text (it holds binary bytes)', {
          file,
          hint: 'a recipe is a YAML text file; restore it from git or rewrite it',
        }),
      ],
    };
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
    out.push(
      finding('RECIPE_NAME_MISMATCH', `the recipe is named "${recipe.name}" but its file is ${file}`, {
        file,
        ...locate(['name']),
        field: 'name',
        hint: `rename the file to recipes/${recipe.name}.yaml or set \`name: ${expected}\``,
        expected,
        found: recipe.name,
      }),
    );
  }
  return { recipe: { recipe, file, locate }, findings: out };
}

function expectedName(file: string): string | undefined {
  const m = /(?:^|\/)([^/]+)\.yaml$/.exec(file);
  return m?.[1];
}
