// The store half of `intact why NAME`: for each entry of NAME, the chains by
// which live gc roots reach it, project → installed entry → ... → NAME (through
// metadata `deps`), i.e. exactly what keeps it from being collected.
import { byCodePoint } from '../canonical-json.js';
import { listStore, matchesName } from './listing.js';
import type { StoreLayout } from './paths.js';
import { readRoots } from './roots.js';

export interface WhyChain {
  project: string;
  /** Entry labels (`name@version`) from the one the project installed to the one asked about. */
  path: string[];
  /** The root is a running install's, not yet the project's profile. */
  pending: boolean;
}

export interface WhyEntry {
  entry: string;
  label: string;
  chains: WhyChain[];
  /** Entries in the store (reachable or not) whose metadata lists it as a dependency. */
  neededBy: string[];
}

export async function whyInStore(store: StoreLayout, name: string): Promise<WhyEntry[]> {
  const listing = await listStore(store);
  const byKey = new Map(listing.entries.map((e) => [e.key, e] as const));
  const label = (k: string): string => byKey.get(k)?.label ?? k;
  const targets = listing.entries.filter((e) => matchesName(e, name));
  const roots = await readRoots(store);
  const out: WhyEntry[] = [];
  for (const t of targets) {
    const chains: WhyChain[] = [];
    for (const r of roots.live) {
      // Breadth first from the root's entries: the shortest chain to the target.
      const parent = new Map<string, string | null>();
      const queue: string[] = [];
      for (const f of r.entries) {
        const k = f.slice(0, 32);
        if (!parent.has(k)) {
          parent.set(k, null);
          queue.push(k);
        }
      }
      while (queue.length > 0 && !parent.has(t.key)) {
        const k = queue.shift()!;
        for (const d of byKey.get(k)?.meta?.deps ?? []) {
          if (parent.has(d)) continue;
          parent.set(d, k);
          queue.push(d);
        }
      }
      if (!parent.has(t.key)) continue;
      const path: string[] = [];
      for (let k: string | null = t.key; k !== null; k = parent.get(k) ?? null) path.unshift(label(k));
      chains.push({ project: r.project, path, pending: r.pending !== undefined });
    }
    const neededBy = listing.entries
      .filter((e) => e.meta?.deps.includes(t.key))
      .map((e) => e.label)
      .sort(byCodePoint);
    out.push({ entry: t.folder, label: t.label, chains, neededBy });
  }
  return out;
}
