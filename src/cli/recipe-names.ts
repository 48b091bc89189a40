// Recipe names from the command line are checked before a command does any work:
// a name that is no recipe of the project is bad input (USAGE, exit 2) for every
// command, through the one helper in src/recipe/names.ts (requireRecipes). A recipe's name
// is its file's (RECIPE_NAME_MISMATCH otherwise), so nothing is parsed for this.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { requireRecipes } from '../recipe/names.js';
import type { StoreLayout } from '../store/paths.js';

/** The project's recipe names, from recipes/<name>.yaml, sorted. */
export async function projectRecipes(project: string): Promise<string[]> {
  const files = await readdir(join(project, 'recipes')).catch(() => [] as string[]);
  return files
    .filter((f) => f.endsWith('.yaml') && !f.startsWith('.'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Refuse any name that is no recipe of the project (USAGE). */
export async function checkRecipeNames(project: string, names: readonly string[]): Promise<void> {
  if (names.length > 0) requireRecipes(names, await projectRecipes(project));
}

/** A store key, or an entry folder `<key>-<name>-<version>` (src/store/key.ts). */
const STORE_ID = /^[0-9a-z]{32}(-|$)/;

/**
 * For commands that work on the store's entries (`verify --store`, `repair`):
 * besides recipes of the project (also as `name@version`), a name may be an
 * entry folder, a key, or an entry the store holds for another project (a shared
 * store). Only a name that is none of these is refused; the store itself says
 * NOT_INSTALLED for a recipe it has no entry of.
 */
export async function checkStoreNames(project: string, store: StoreLayout, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const recipes = await projectRecipes(project);
  const bare = (n: string): string => (n.lastIndexOf('@') > 0 ? n.slice(0, n.lastIndexOf('@')) : n);
  let rest = names.filter((n) => !recipes.includes(bare(n)) && !STORE_ID.test(n));
  if (rest.length === 0) return;
  const { listStore, matchesName } = await import('../store/listing.js');
  const { entries } = await listStore(store);
  rest = rest.filter((n) => !entries.some((e) => matchesName(e, n)));
  requireRecipes(rest, recipes);
}
