// One lock per store key between processes, so two `intact install`s on one store
// never build the same entry at once (the second waits, then finds it present).
// proper-lockfile: mkdir-based (atomic on every filesystem, NFS included), with
// an mtime heartbeat so a lock left by a killed process goes stale and is taken over.
// The holder writes its host and PID into `locks/<key>`, so a waiter names it at
// once, and takes over at once when that process of this host is gone.
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { processAlive } from '../process-alive.js';
import { HOST } from '../temp-name.js';
import { writeNoFollow } from './no-follow.js';
import type { StoreLayout } from './paths.js';

export type Release = () => Promise<void>;

/**
 * A lock not refreshed for this long belongs to a dead process. Short, because
 * a build killed with SIGKILL on another host makes the next install wait this
 * long; long enough that a busy machine still refreshes in time (every STALE_MS / 5).
 */
export const STALE_MS = 10_000;

/**
 * How long a second process waits for a key another one is building before it
 * gives up (STORE_LOCK_TIMEOUT): longer than any ordinary build, short enough that
 * a CI job does not hang for hours behind a stuck one. INTACT_LOCK_TIMEOUT
 * (seconds) changes it.
 */
export const LOCK_WAIT_MS = 60 * 60_000;

export interface Holder {
  host: string;
  pid: number;
}

/** Who holds (or last held) the lock of `key`, as it wrote itself down. */
export function lockHolder(store: StoreLayout, key: string): Holder | undefined {
  try {
    const m = /^(\S+) (\d+)\n?$/.exec(readFileSync(join(store.locks, key), 'utf8'));
    return m ? { host: m[1]!, pid: Number(m[2]) } : undefined;
  } catch {
    return undefined;
  }
}

export function describeHolder(h: Holder | undefined): string {
  if (!h) return 'another intact process';
  return h.host === HOST ? `intact process ${h.pid}` : `intact process ${h.pid} on ${h.host}`;
}

/** The lock's folder (proper-lockfile's), left behind when its holder was killed. */
export function lockDir(store: StoreLayout, key: string): string {
  return join(store.locks, `${key}.lock`);
}

export async function lockKey(store: StoreLayout, key: string, onWait?: (holder: string) => void, timeoutMs = waitLimit()): Promise<Release> {
  const since = Date.now();
  let waited = false;
  for (;;) {
    const release = await tryLockKey(store, key);
    if (release) return release;
    const holder = lockHolder(store, key);
    // A holder of this host that is gone cannot refresh its lock: take it over now, not in STALE_MS.
    if (holder && holder.host === HOST && holder.pid !== process.pid && !processAlive(holder.pid)) {
      await rm(lockDir(store, key), { recursive: true, force: true });
      continue;
    }
    if (!waited) onWait?.(describeHolder(holder));
    waited = true;
    if (Date.now() - since >= timeoutMs) throw lockTimeout(store, key, holder, timeoutMs);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function waitLimit(): number {
  const s = Number(process.env['INTACT_LOCK_TIMEOUT']);
  return Number.isFinite(s) && s > 0 ? s * 1000 : LOCK_WAIT_MS;
}

function lockTimeout(store: StoreLayout, key: string, holder: Holder | undefined, ms: number): IntactError {
  return new IntactError(
    'STORE_LOCK_TIMEOUT',
    `gave up after ${Math.round(ms / 1000)} s waiting for ${describeHolder(holder)}, which is building store key ${key}`,
    {
      file: lockDir(store, key),
      hint: `let that process finish (or stop it) and run the command again; if no such process exists, remove ${lockDir(store, key)}; INTACT_LOCK_TIMEOUT=<seconds> waits longer`,
    },
  );
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
    // No-follow: the holder's name replaces whatever was planted there.
    await writeNoFollow(store.locks, key, `${HOST} ${process.pid}\n`).catch(() => undefined);
    return async () => {
      await release().catch(() => undefined);
    };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw e;
  }
}
