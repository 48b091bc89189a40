// The repository files a recipe references (file sources, patches): what its
// recipe hash covers besides the recipe itself. Apart from the rules (rules.ts)
// so hashing a recipe from the memo loads no checker.
import type { Recipe } from './types.js';
import type { FieldPath } from './yaml-full.js';

/** Repository files a recipe references (file sources and patches), with their fields. */
export function referencedFiles(recipe: Recipe): { path: string; field: FieldPath }[] {
  const out: { path: string; field: FieldPath }[] = [];
  recipe.sources?.forEach((s, i) => {
    if ('file' in s) out.push({ path: s.file, field: ['sources', i, 'file'] });
  });
  recipe.build?.forEach((s, i) => {
    if ('patch' in s) out.push({ path: s.patch, field: ['build', i, 'patch'] });
  });
  return out;
}
