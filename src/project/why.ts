// `intact why NAME`: what needs NAME. Two answers, because they can differ: the
// store's (which installed entries of which projects reach NAME's entries, so gc
// keeps them: src/store/why.ts), and the project's recipes (which recipes depend
// on NAME, directly or through others, whether or not they are installed).
import { byCodePoint } from '../canonical-json.js';
import { IntactError } from '../errors.js';
import { requireRecipes } from '../recipe/names.js';
import { projectState } from '../lock/index.js';
import type { StoreLayout } from '../store/paths.js';
import { whyInStore, type WhyEntry } from '../store/why.js';

export interface WhyResult {
  name: string;
  store: WhyEntry[];
  /** Recipes of the project that need NAME: each with the shortest dependency path to it. */
  recipes: { recipe: string; path: string[] }[];
  /** NAME is a recipe of the project. */
  isRecipe: boolean;
}

export async function why(store: StoreLayout, projectDir: string | undefined, name: string): Promise<WhyResult> {
  const inStore = await whyInStore(store, name);
  const recipes: WhyResult['recipes'] = [];
  let isRecipe = false;
  let known: string[] | undefined;
  if (projectDir !== undefined) {
    const { graph } = await projectState(projectDir);
    known = [...graph.byName.keys()].sort(byCodePoint);
    const bare = name.includes('@') ? name.slice(0, name.lastIndexOf('@')) : name;
    isRecipe = graph.byName.has(bare);
    for (const r of known) {
      if (r === bare) continue;
      const path = shortestPath(graph.edges, r, bare);
      if (path) recipes.push({ recipe: r, path });
    }
  }
  if (inStore.length === 0 && !isRecipe) {
    // In a project, a name that is neither one of its recipes nor in the store is bad input.
    if (known !== undefined) requireRecipes([name], known);
    throw new IntactError('NOT_INSTALLED', `nothing named ${name} is in the store`, {
      hint: '`intact list` shows what the store holds',
    });
  }
  return { name, store: inStore, recipes, isRecipe };
}

function shortestPath(edges: ReadonlyMap<string, readonly string[]>, from: string, to: string): string[] | undefined {
  const parent = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  while (queue.length > 0) {
    const n = queue.shift()!;
    if (n === to) break;
    for (const d of edges.get(n) ?? []) {
      if (parent.has(d)) continue;
      parent.set(d, n);
      queue.push(d);
    }
  }
  if (!parent.has(to)) return undefined;
  const path: string[] = [];
  for (let n: string | null = to; n !== null; n = parent.get(n) ?? null) path.unshift(n);
  return path;
}
