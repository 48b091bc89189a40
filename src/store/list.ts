// `intact list`: what the store holds, entry by entry, with how each got there
// (built here or substituted from a binary cache), the sandbox level it was built
// at, its size, and whether a gc root still reaches it (and which projects').
import { byCodePoint } from '../canonical-json.js';
import { listStore } from './listing.js';
import type { StoreLayout } from './paths.js';
import { readRoots, reachable } from './roots.js';

export interface ListedEntry {
  entry: string;
  key: string;
  name?: string;
  version?: string;
  /** Bytes of file content, as recorded when it was added. */
  size?: number;
  origin?: string;
  sandbox?: string;
  output?: string;
  /** A live root reaches it: gc keeps it. */
  reachable: boolean;
  /** The projects whose roots reach it. */
  projects: string[];
  /** Set when the metadata is missing or does not fit the folder. */
  problem?: string;
}

export async function listEntries(store: StoreLayout): Promise<ListedEntry[]> {
  const listing = await listStore(store);
  const roots = await readRoots(store);
  const metas = new Map(listing.entries.filter((e) => e.meta).map((e) => [e.key, e.meta!] as const));
  const reach = reachable(roots.live, (k) => metas.get(k), new Set(listing.entries.map((e) => e.key)));
  const out: ListedEntry[] = listing.entries.map((e) => {
    const m = e.meta;
    return {
      entry: e.folder,
      key: e.key,
      ...(m ? { name: m.name, version: m.version, size: m.size, origin: m.origin, sandbox: m.sandbox, output: m.output } : {}),
      reachable: reach.keys.has(e.key),
      projects: reach.via.get(e.key) ?? [],
      ...(e.metaProblem ? { problem: e.metaProblem } : {}),
    };
  });
  return out.sort((a, b) => byCodePoint(a.name ?? a.entry, b.name ?? b.entry) || byCodePoint(a.version ?? '', b.version ?? '') || byCodePoint(a.key, b.key));
}
