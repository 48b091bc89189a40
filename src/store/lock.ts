// One lock per store key between processes, so two `intact install`s on one store
// never build the same entry at once (the second waits, then finds it present).
// proper-lockfile: mkdir-based (atomic on every filesystem, NFS included), with
// an mtime heartbeat so a lock left by a killed process goes stale and is taken over.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoreLayout } from './paths.js';

export type Release = () => Promise<void>;

/**
 * A lock not refreshed for this long belongs to a dead process. Short, because
 * a build killed with SIGKILL makes the next install wait this long; long
 * enough that a busy machine still refreshes in time (every STALE_MS / 5).
 */
const STALE_MS = 10_000;

export async function lockKey(store: StoreLayout, key: string, onWait?: () => void): Promise<Release> {
  const { default: lockfile } = await import('proper-lockfile');
  await mkdir(store.locks, { recursive: true });
  const file = join(store.locks, key);
  await writeFile(file, '', { flag: 'a' });
  let waited = false;
  for (;;) {
    try {
      const release = await lockfile.lock(file, { stale: STALE_MS, update: STALE_MS / 5, realpath: false });
      return async () => {
        await release().catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
      if (!waited) onWait?.();
      waited = true;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * The lock of `key` if nobody holds it, else undefined at once (no waiting): gc
 * and repair skip a key another process is building rather than queue behind it.
 */
export async function tryLockKey(store: StoreLayout, key: string): Promise<Release | undefined> {
  const { default: lockfile } = await import('proper-lockfile');
  await mkdir(store.locks, { recursive: true });
  const file = join(store.locks, key);
  await writeFile(file, '', { flag: 'a' });
  try {
    const release = await lockfile.lock(file, { stale: STALE_MS, update: STALE_MS / 5, realpath: false });
    return async () => {
      await release().catch(() => undefined);
    };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw e;
  }
}
