// Size changes where they are known: a recipe's store entry is found by its
// store key, computed from the snapshot's recipes and lock exactly as a build
// would (src/lock/keys.ts), and the store's metadata records its size. A side
// that was never built here has no size, and the report says nothing about it.
import { lockKeys } from '../lock/keys.js';
import { readMeta } from '../store/entry.js';
import type { StoreLayout } from '../store/paths.js';
import { buildGraph } from '../recipe/index.js';
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
  // Not for this platform, or a dependency cannot be planned there: no key, no size.
  for (const [name, k] of lockKeys(graph, lock)) {
    const key = k[platform];
    if (key !== undefined && lock.recipes[name]!.version === graph.byName.get(name)!.recipe.version) keys.set(name, key);
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
