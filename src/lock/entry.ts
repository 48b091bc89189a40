// Making a lock entry from a recipe and its pinned sources. Pure: `intact lock`
// does the fetching and hands the pins here, so the entry's shape is decided in
// one place.
import { byCodePoint } from '../canonical-json.js';
import { allDeps } from '../recipe/types.js';
import type { RecipeState } from './check.js';
import type { LockEntry, LockedSource } from './types.js';

export function makeEntry(state: RecipeState, sources: LockedSource[], output?: LockEntry['output']): LockEntry {
  const { recipe } = state.loaded;
  const entry: LockEntry = {
    version: recipe.version,
    recipeHash: state.hash,
    sources,
    deps: allDeps(recipe).sort(byCodePoint),
  };
  if (Object.keys(state.files).length > 0) entry.files = state.files;
  if (output && Object.keys(output).length > 0) entry.output = output;
  return entry;
}
