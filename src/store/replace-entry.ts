// Replacing a damaged entry with a fresh, checked build of the same key (repair).
// The store never lacks a whole entry for the key except for the instant between
// two renames: the damaged folder is renamed aside into the store's tmp, the new
// one renamed into its place, and only then is the old one deleted. Metadata and
// manifest are written first, as when adding (src/store/entry.ts). The caller
// holds the key's lock, so no build of the key and no gc of it run meanwhile.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { entryPath, writeMeta, type EntryMeta } from './entry.js';
import { writeManifest } from './manifest.js';
import type { StoreLayout } from './paths.js';
import { removeTree } from './remove-tree.js';
import { tempName } from '../temp-name.js';
import { hashRecords } from './tree-hash.js';
import type { TreeRecord } from './tree-scan.js';

/**
 * Put `staged` (inside `store.tmp`, checked, normalised, hashed to `meta.output`
 * with `records`) in place of whatever the store holds for `meta.key`.
 */
export async function replaceEntry(store: StoreLayout, staged: string, meta: EntryMeta, records: TreeRecord[]): Promise<void> {
  if (hashRecords(records) !== meta.output) {
    throw new IntactError('OUTPUT_MISMATCH', `the rebuilt ${meta.name} does not hash to ${meta.output}; nothing was replaced`, {
      file: staged,
      expected: meta.output,
      found: hashRecords(records),
    });
  }
  const final = entryPath(store, meta.key, meta.name, meta.version);
  await writeManifest(store, meta.key, { output: meta.output, records });
  await writeMeta(store, meta);
  await mkdir(store.tmp, { recursive: true });
  const aside = join(store.tmp, tempName('repair', randomBytes(4).toString('hex')));
  const old = await lstat(final).catch(() => undefined);
  // Renaming a folder to another parent rewrites its `..`, which needs u+w on it.
  // Security: chmod only a real folder; chmod follows symlinks, and a damaged
  // entry may be a symlink to anywhere.
  if (old?.isDirectory()) await chmod(final, 0o755);
  await chmod(staged, 0o755);
  if (old) await rename(final, aside);
  try {
    await rename(staged, final);
  } catch (e) {
    if (old) await rename(aside, final).catch(() => undefined);
    throw new IntactError('IO', `cannot move the rebuilt ${meta.name} into the store: ${(e as Error).message}`, {
      file: final,
      cause: e,
      hint: 'check free space and permissions of the store folder',
    });
  }
  await chmod(final, 0o555);
  if (old) await removeTree(aside);
}
