// The output hash of a store entry: a hash of a folder's content that ignores
// everything a filesystem adds by itself (times, owners, inode order, permission
// bits other than "executable"), so the same build gives the same hash anywhere.
//
// Format 1, exactly (bump the version line if any of it changes):
//
//   sha256( "intact-tree-1\n" || record* )  rendered as "sha256-" + base64
//
// One record per entry below the root (the root itself has none), in ascending
// byte order of the entry's path relative to the root ('/'-separated, the raw
// bytes of the names, which are UTF-8 in practice):
//
//   type    1 byte   'd' directory, 'f' regular file, 'x' regular file whose
//                    owner-execute bit is set, 'l' symbolic link
//   path    u32 big-endian byte length, then the path bytes
//   f, x    32 bytes: the sha256 of the file's content
//   l       u32 big-endian byte length, then the link target as readlink gives it
//   d       nothing
//
// Every variable-length field is length-prefixed, so no two trees share a byte
// string. An empty directory has a record, so it counts. Any other kind of entry
// (fifo, socket, device) is an error: a store entry never holds one.
//
// Speed (docs/measured.md §5): the walk and the reads are synchronous calls in
// 20 ms slices through one reused 1 MiB buffer (src/store/tree-scan.ts); on the
// 13,550-file Zig entry that takes ~0.5 s where fs.promises took 1.6-3.1 s.
//
// The records a hash was made of are kept for the few most recent trees, so that
// adding a just-hashed build to the store can record its file manifest
// (src/store/manifest.ts) without reading every file a second time.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { IntactError } from '../errors.js';
import { scanTree, type TreeRecord } from './tree-scan.js';

export const TREE_HASH_FORMAT = 'intact-tree-1';

/** Hash the tree below `dir` (which must be a directory) as documented above. */
export async function treeHash(dir: string): Promise<string> {
  const { records } = await scanTree(dir);
  const hash = hashRecords(records);
  remember(dir, hash, records);
  return hash;
}

/**
 * The tree hash of `dir` when it was made by moving in, whole, trees that were
 * scanned before (their records relative to each one's own root, which is
 * `dir`'s root too): the records of a folder several of them share count once.
 * For trees that arrive in parts (src/cache/receive.ts), so that each part is
 * hashed while the next one is still downloading. Anything else found twice
 * means the parts overlap, which joining refuses before this is asked.
 */
export function joinedTreeHash(dir: string, parts: readonly (readonly TreeRecord[])[]): string {
  const records = parts.flat().sort((a, b) => Buffer.compare(a.rel, b.rel));
  const once = records.filter((r, i) => {
    const prev = records[i - 1];
    if (prev === undefined || !prev.rel.equals(r.rel)) return true;
    if (r.kind === 'd' && prev.kind === 'd') return false;
    throw new IntactError('INTERNAL', `${r.rel.toString()} is in two of the parts joined into ${dir}`, { file: dir });
  });
  const hash = hashRecords(once);
  remember(dir, hash, once);
  return hash;
}

/** The tree hash of records sorted by the bytes of their paths (as scanTree returns them). */
export function hashRecords(records: readonly TreeRecord[]): string {
  const h = createHash('sha256');
  h.update(`${TREE_HASH_FORMAT}\n`);
  for (const e of records) {
    h.update(e.kind);
    h.update(u32(e.rel.length));
    h.update(e.rel);
    if (e.kind === 'l') h.update(u32(e.payload!.length));
    if (e.kind !== 'd') h.update(e.payload!);
  }
  return `sha256-${h.digest('base64')}`;
}

/**
 * The records of a recent treeHash(dir) that gave `hash`, once (they are
 * forgotten when taken); undefined when not at hand.
 */
export function takeRecords(dir: string, hash: string): TreeRecord[] | undefined {
  const key = resolve(dir);
  const got = recent.get(key);
  if (got?.hash !== hash) return undefined;
  recent.delete(key);
  return got.records;
}

/** A few trees: a build hashes its output and adds it right after; ~3 MB for the Zig entry. */
const RECENT = 4;
const recent = new Map<string, { hash: string; records: TreeRecord[] }>();

function remember(dir: string, hash: string, records: TreeRecord[]): void {
  const key = resolve(dir);
  recent.delete(key);
  recent.set(key, { hash, records });
  while (recent.size > RECENT) recent.delete(recent.keys().next().value!);
}

/** One buffer for every length field: update() copies it, and verify hashes ~14k records per large entry. */
const U32 = Buffer.alloc(4);

function u32(n: number): Buffer {
  U32.writeUInt32BE(n);
  return U32;
}
