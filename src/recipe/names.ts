// The one answer, for every command that takes recipe names, to a name that is
// no recipe of the project: USAGE (exit 2), naming it and listing the recipes.
import { byCodePoint } from '../canonical-json.js';
import { IntactError } from '../errors.js';

/**
 * Called before any work; a recipe that is merely not locked or not built keeps
 * its own code (NOT_LOCKED, NOT_INSTALLED).
 */
export function requireRecipes(names: readonly string[], recipes: Iterable<string>): void {
  const known = new Set(recipes);
  const unknown = [...new Set(names.filter((n) => !known.has(n)))];
  if (unknown.length === 0) return;
  const list = [...known].sort(byCodePoint).join(', ');
  const quoted = unknown.map((n) => `"${n}"`).join(', ');
  throw new IntactError('USAGE', unknown.length === 1 ? `there is no recipe named ${quoted}` : `there are no recipes named ${quoted}`, {
    hint: list ? `the recipes are: ${list}` : 'the project has no recipes yet: add one with `intact add`',
  });
}
