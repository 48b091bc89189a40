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
// Speed (shared TRAPS.md #5): files are read through a reused 1 MiB buffer per
// reader, and two readers run at once so that one file's read overlaps another's
// hashing; whole-file buffers would cost hundreds of MB on a large tree.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';

export const TREE_HASH_FORMAT = 'intact-tree-1';

const BUFFER_SIZE = 1024 * 1024;
const READERS = 2;

type Kind = 'd' | 'f' | 'x' | 'l';

interface Entry {
  kind: Kind;
  /** Relative path, raw bytes. */
  rel: Buffer;
  /** Absolute path for the filesystem. */
  abs: Buffer;
  /** f/x: content sha256; l: link target. */
  payload?: Buffer;
}

/** Hash the tree below `dir` (which must be a directory) as documented above. */
export async function treeHash(dir: string): Promise<string> {
  const root = await lstat(dir).catch((e: unknown) => {
    throw new IntactError('IO', `cannot read ${dir}: ${(e as Error).message}`, { file: dir, cause: e });
  });
  if (!root.isDirectory()) {
    throw new IntactError('TREE_HASH_UNSUPPORTED', `${dir} is not a directory`, { file: dir });
  }

  const entries: Entry[] = [];
  await walk(Buffer.from(dir), Buffer.alloc(0), entries, dir);
  entries.sort((a, b) => Buffer.compare(a.rel, b.rel));
  await hashFiles(entries.filter((e) => e.kind === 'f' || e.kind === 'x'), dir);

  const h = createHash('sha256');
  h.update(`${TREE_HASH_FORMAT}\n`);
  for (const e of entries) {
    h.update(e.kind);
    h.update(u32(e.rel.length));
    h.update(e.rel);
    if (e.kind === 'l') h.update(u32(e.payload!.length));
    if (e.kind !== 'd') h.update(e.payload!);
  }
  return `sha256-${h.digest('base64')}`;
}

async function walk(abs: Buffer, rel: Buffer, out: Entry[], root: string): Promise<void> {
  const names = await readdir(abs, { withFileTypes: true, encoding: 'buffer' }).catch((e: unknown) => {
    throw ioError(abs, e, root);
  });
  const subdirs: [Buffer, Buffer][] = [];
  for (const d of names) {
    const childAbs = Buffer.concat([abs, SLASH, d.name]);
    const childRel = rel.length === 0 ? Buffer.from(d.name) : Buffer.concat([rel, SLASH, d.name]);
    if (d.isDirectory()) {
      out.push({ kind: 'd', rel: childRel, abs: childAbs });
      subdirs.push([childAbs, childRel]);
    } else if (d.isSymbolicLink()) {
      const target = await readlink(childAbs, { encoding: 'buffer' }).catch((e: unknown) => {
        throw ioError(childAbs, e, root);
      });
      out.push({ kind: 'l', rel: childRel, abs: childAbs, payload: target });
    } else if (d.isFile()) {
      // f or x is settled when the file is opened (fstat), which saves an lstat per file.
      out.push({ kind: 'f', rel: childRel, abs: childAbs });
    } else {
      throw new IntactError('TREE_HASH_UNSUPPORTED', `${childRel.toString()} in ${root} is a ${kindOf(d)}; a tree holds only directories, files and symlinks`, {
        file: join(root, childRel.toString()),
        hint: 'remove it; store entries may not contain devices, fifos or sockets',
      });
    }
  }
  for (const [a, r] of subdirs) await walk(a, r, out, root);
}

/** Hash file contents with READERS readers, each with its own reused buffer. */
async function hashFiles(files: Entry[], root: string): Promise<void> {
  let next = 0;
  const reader = async (): Promise<void> => {
    const buf = Buffer.allocUnsafe(BUFFER_SIZE);
    while (next < files.length) {
      const e = files[next++]!;
      await hashOne(e, buf, root);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READERS, files.length) }, reader));
}

async function hashOne(e: Entry, buf: Buffer, root: string): Promise<void> {
  // O_NOFOLLOW: if the file was swapped for a symlink since readdir, fail instead of hashing the target.
  const fh = await open(e.abs, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: unknown) => {
    throw ioError(e.abs, err, root);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw ioError(e.abs, new Error('changed type while being hashed'), root);
    if (st.mode & constants.S_IXUSR) e.kind = 'x';
    const h = createHash('sha256');
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
    e.payload = h.digest();
  } finally {
    await fh.close();
  }
}

const SLASH = Buffer.from('/');

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function kindOf(d: { isFIFO(): boolean; isSocket(): boolean; isBlockDevice(): boolean; isCharacterDevice(): boolean }): string {
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  if (d.isBlockDevice()) return 'block device';
  if (d.isCharacterDevice()) return 'character device';
  return 'special file';
}

function ioError(abs: Buffer, e: unknown, root: string): IntactError {
  const file = abs.toString();
  return new IntactError('IO', `cannot read ${file} while hashing ${root}: ${(e as Error).message}`, { file, cause: e });
}
