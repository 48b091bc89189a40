// What a dead process left in a store: temps in tmp/ (downloads' .part files,
// metadata and manifest temps, build, unpack and cache folders), an entry it was
// publishing, no-follow temps beside logs and metadata, and key locks nobody
// refreshes. Every run that writes to the store sweeps them (install, build,
// fetch, lock, repair), `gc` too, and `verify --store` reports them. Only what a
// process of this host that is gone left is touched: a live process's work, or a
// process's of another host sharing the store, never is (src/temp-name.ts).
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../process-alive.js';
import { dotTempOwner, HOST, leftByDeadProcess, STORE_TEMP_PREFIXES, tempOwner } from '../temp-name.js';
import { lockHolder, STALE_MS } from './lock.js';
import type { StoreLayout } from './paths.js';
import { removeTree } from './remove-tree.js';

/** Every leftover of a dead process in the store, by path (nothing is removed). */
export async function findLeftovers(store: StoreLayout): Promise<string[]> {
  const out: string[] = [];
  const names = async (dir: string): Promise<string[]> => readdir(dir).catch(() => [] as string[]);
  for (const n of await names(store.tmp)) {
    const o = tempOwner(n, STORE_TEMP_PREFIXES);
    if (o && leftByDeadProcess(o)) out.push(join(store.tmp, n));
  }
  for (const n of await names(store.root)) {
    const o = tempOwner(n, ['publish']);
    if (o && leftByDeadProcess(o)) out.push(join(store.root, n));
  }
  for (const dir of [store.logs, store.meta, store.roots, store.locks]) {
    for (const n of await names(dir)) {
      const o = dotTempOwner(n);
      if (o && leftByDeadProcess(o)) out.push(join(dir, n));
    }
  }
  for (const n of await names(store.locks)) {
    if (n.endsWith('.lock') && (await staleLock(store, n.slice(0, -'.lock'.length)))) out.push(join(store.locks, n));
  }
  return out.sort();
}

/**
 * Remove every leftover; returns the paths removed. A store this process may not
 * write (read-only, another user's) is left as it is: sweeping is never the
 * reason a command fails.
 */
export async function sweepStore(store: StoreLayout): Promise<string[]> {
  const removed: string[] = [];
  for (const p of await findLeftovers(store)) {
    try {
      await removeTree(p);
      removed.push(p);
    } catch {
      // EROFS, EACCES: the next run that may write removes it.
    }
  }
  return removed;
}

/** A key's lock folder whose holder is gone (this host) or has not refreshed it for STALE_MS. */
async function staleLock(store: StoreLayout, key: string): Promise<boolean> {
  const st = await lstat(join(store.locks, `${key}.lock`)).catch(() => undefined);
  if (!st) return false;
  const h = lockHolder(store, key);
  if (h && h.host === HOST && h.pid !== process.pid) return !processAlive(h.pid);
  return Date.now() - st.mtimeMs > 2 * STALE_MS;
}
