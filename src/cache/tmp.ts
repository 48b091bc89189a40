// Temporary files and folders of the cache, inside `<store>/tmp` (the same
// filesystem as the entries, so the final step is a rename). Names carry the
// host and pid, so a later run removes what a killed one left behind without
// touching the work of a live one.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { StoreLayout } from '../store/paths.js';
import { sweepLeftovers, tempName } from '../temp-name.js';

export function tempPath(store: StoreLayout, what: string): string {
  return join(store.tmp, tempName('cache', `${randomBytes(6).toString('hex')}-${what.replace(/[^A-Za-z0-9._-]/g, '_')}`));
}

/** Removes a file or a tree, even one made read-only by normalisation. */
export { removeTree } from '../store/remove-tree.js';
import { removeTree } from '../store/remove-tree.js';

/** Leftovers of cache work by processes of this host that are gone. */
export async function cleanStale(store: StoreLayout): Promise<void> {
  await sweepLeftovers(store.tmp, ['cache'], removeTree);
}
