// Size changes where they are known: a recipe's store entry is found by its
// store key, computed from the snapshot's recipes and lock exactly as a build
// would (src/build/plan.ts), and the store's metadata records its size. A side
// that was never built here has no size, and the report says nothing about it.
import { planBuild, type BuildPlan } from '../build/plan.js';
import { readMeta } from '../store/entry.js';
import type { StoreLayout } from '../store/paths.js';
import { buildGraph, topoOrder } from '../recipe/index.js';
import type { LoadedRecipe, Platform } from '../recipe/types.js';
import type { DiffReport } from './diff.js';
import type { Snapshot } from './snapshot.js';

/** name → store key of each recipe that can be planned for `platform`. */
export function storeKeys(snap: Snapshot, platform: Platform): Map<string, string> {
  const keys = new Map<string, string>();
  const lock = snap.lock;
  if (!lock) return keys;
  const loaded = [...snap.recipes.values()].flatMap((r): LoadedRecipe[] => (r.loaded ? [r.loaded] : []));
  const { graph, findings } = buildGraph(loaded);
  if (findings.some((f) => f.code === 'DEP_CYCLE')) return keys;
  const plans = new Map<string, BuildPlan>();
  for (const name of topoOrder(graph)) {
    const r = graph.byName.get(name);
    const entry = lock.recipes[name];
    if (!r || !entry || entry.version !== r.recipe.version) continue;
    try {
      const plan = planBuild(r.recipe, entry, platform, plans);
      plans.set(name, plan);
      keys.set(name, plan.key);
    } catch {
      // not for this platform, or a dependency could not be planned: no size
    }
  }
  return keys;
}

export async function attachSizes(report: DiffReport, base: Snapshot, head: Snapshot, store: StoreLayout, platform: Platform): Promise<void> {
  const before = storeKeys(base, platform);
  const after = storeKeys(head, platform);
  for (const r of report.recipes) {
    const [a, b] = await Promise.all([sizeOf(store, before.get(r.name)), sizeOf(store, after.get(r.name))]);
    if (a === undefined && b === undefined) continue;
    r.size = { ...(a !== undefined ? { before: a } : {}), ...(b !== undefined ? { after: b } : {}) };
  }
}

async function sizeOf(store: StoreLayout, key: string | undefined): Promise<number | undefined> {
  if (key === undefined) return undefined;
  const meta = await readMeta(store, key);
  return typeof meta?.size === 'number' ? meta.size : undefined;
}
