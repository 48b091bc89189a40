// Names of temporary files and folders in a folder several processes (and hosts,
// on a shared store) write to: `<prefix>-<host>-<pid>-<rest>`. The host and pid
// say whose a leftover is, so a later run removes what a killed one left behind
// without touching the work of a live one. The one place these names are made
// and read; the store's tmp/ holds downloads (dl), builds (build), cache work
// (cache), gc and repair folders (gc, repair) and pending gc roots (pending).
// Files written beside their final name (no-follow writes, the lockfile, the
// profile) use `.<name>.<pid>.<hex>.<host>.tmp` (dotTempName; without the host,
// as before it was added, they count as this host's) and are swept the
// same way. The sandbox's folders in the OS temp folder (build/sandbox/skeleton.ts) are
// another kind: one machine's, so they name no host, and only their owner's uid
// may remove them.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from './process-alive.js';

/** This host's name as it appears in temp names: no '-', so the fields split cleanly. */
export const HOST = hostname().replace(/[^A-Za-z0-9.]/g, '_') || 'host';

// A leading dot: the extractor's work folder beside a temp it unpacks into
// (`.<temp>.extract-XXXXXX`, src/fetch/extract) is that temp's owner's too; a
// killed `intact lock` left one in the store's tmp/ that nothing swept.
const OWNER = /^\.?([a-z]+)-(.+?)-(\d+)-/;

/** A temp name of this process: `<prefix>-<host>-<pid>-<rest>`. */
export function tempName(prefix: string, rest: string): string {
  return `${prefix}-${HOST}-${process.pid}-${rest}`;
}

/**
 * Every prefix of a temp in the store's tmp/ (and `publish`, the last step of an
 * entry, in the store's root): what a dead process left of each is swept by
 * every run (src/store/leftovers.ts).
 */
export const STORE_TEMP_PREFIXES = ['dl', 'build', 'cache', 'gc', 'repair', 'meta', 'files', 'tree', 'verify', 'publish'] as const;

const DOT_TEMP = /^\.(.+?)\.(\d+)\.[0-9a-f]{8}(?:\.(.+))?\.tmp$/;

/** A temp file beside `name`, in its folder: `.<name>.<pid>.<8 hex>.<host>.tmp`. */
export function dotTempName(name: string): string {
  return `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.${HOST}.tmp`;
}

/** Who made a dotTempName: its host and pid; undefined for any other name. */
export function dotTempOwner(name: string): { host: string; pid: number } | undefined {
  const m = DOT_TEMP.exec(name);
  return m ? { host: m[3] ?? HOST, pid: Number(m[2]) } : undefined;
}

/** Who made a temp name of one of these prefixes: its host and pid; undefined for any other name. */
export function tempOwner(name: string, prefixes: readonly string[]): { host: string; pid: number } | undefined {
  const m = OWNER.exec(name);
  return m && prefixes.includes(m[1]!) ? { host: m[2]!, pid: Number(m[3]) } : undefined;
}

/** True for a temp of another process of this host that is gone (never for this process's own). */
export function leftByDeadProcess(owner: { host: string; pid: number }): boolean {
  return owner.host === HOST && owner.pid !== process.pid && !processAlive(owner.pid);
}

/**
 * Remove every temp in `dir` of these prefixes (none: the dotTempName files) left
 * by a process of this host that is gone; `remove` knows how (a read-only tree needs more than rm). Returns
 * the paths removed. A missing folder has nothing to sweep.
 */
export async function sweepLeftovers(dir: string, prefixes: readonly string[], remove: (path: string) => Promise<void>): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const owner = prefixes.length === 0 ? dotTempOwner(name) : tempOwner(name, prefixes);
    if (!owner || !leftByDeadProcess(owner)) continue;
    await remove(join(dir, name));
    out.push(join(dir, name));
  }
  return out;
}
