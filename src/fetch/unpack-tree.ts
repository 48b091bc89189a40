// The tree hash of a source as a build would see it: the verified download
// unpacked with the source's own options (strip, nested archive, path; npm's
// package folder removed) into a scratch folder, hashed, and removed. Recorded
// in the lock as `tree` by `intact lock`, compared by `intact verify --fetch`.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { removeTree } from '../store/remove-tree.js';
import { join } from 'node:path';
import type { Source } from '../recipe/types.js';
import { treeHash } from '../store/tree-hash.js';
import { extract } from './extract/index.js';
import { tempName } from '../temp-name.js';

/** Extraction options for a source, exactly as builds use them. */
export function unpackOptions(
  source: Source,
  archiveIntegrity?: string,
): { strip?: number; archive?: string; archiveIntegrity?: string; path?: string; expect?: 'deb' | 'file' } {
  // npm tarballs hold one top folder (`package/`), removed as npm does; with a
  // nested archive, `strip` applies to the inner one (docs/sources.md).
  const strip = (source.strip ?? 0) + ('npm' in source && source.archive === undefined ? 1 : 0);
  return {
    ...(strip > 0 ? { strip } : {}),
    ...(source.archive !== undefined ? { archive: source.archive, ...(archiveIntegrity ? { archiveIntegrity } : {}) } : {}),
    ...(source.path !== undefined ? { path: source.path } : {}),
    ...('deb' in source ? { expect: 'deb' as const } : {}),
    ...(source.unpack === false ? { expect: 'file' as const } : {}),
  };
}

export async function unpackedTree(file: string, source: Source, tmpDir: string, archiveIntegrity?: string, name?: string): Promise<string> {
  await mkdir(tmpDir, { recursive: true });
  const dest = join(tmpDir, tempName('tree', randomBytes(4).toString('hex')));
  try {
    await extract(file, dest, { ...unpackOptions(source, archiveIntegrity), ...(name ? { name } : {}) });
    return await treeHash(dest);
  } finally {
    await removeTree(dest);
  }
}
