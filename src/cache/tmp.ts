// Temporary files and folders of the cache, inside `<store>/tmp` (the same
// filesystem as the entries, so the final step is a rename). Names carry the
// host and pid, so a later run removes what a killed one left behind without
// touching the work of a live one.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { StoreLayout } from '../store/paths.js';
import { processAlive } from '../process-alive.js';

const PREFIX = 'cache-';
const HOST = hostname().replace(/[^A-Za-z0-9.]/g, '_') || 'host';
const RE = /^cache-(.+)-(\d+)-[0-9a-f]+(?:-.*)?$/;

export function tempPath(store: StoreLayout, what: string): string {
  return join(store.tmp, `${PREFIX}${HOST}-${process.pid}-${randomBytes(6).toString('hex')}-${what.replace(/[^A-Za-z0-9._-]/g, '_')}`);
}

/** Removes a file or a tree, even one made read-only by normalisation. */
export { removeTree } from '../store/remove-tree.js';
import { removeTree } from '../store/remove-tree.js';

/** Leftovers of cache work by processes of this host that are gone. */
export async function cleanStale(store: StoreLayout): Promise<void> {
  for (const name of await readdir(store.tmp).catch(() => [] as string[])) {
    const m = RE.exec(name);
    if (!m || m[1] !== HOST || processAlive(Number(m[2]))) continue;
    await removeTree(join(store.tmp, name));
  }
}

