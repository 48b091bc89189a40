// Walking and hashing a folder into the records the tree hash is made of (one per
// entry below the root: type, relative path, content sha256 or link target; see
// tree-hash.ts for the format). The tree hash, the per-entry file manifest and
// `verify --store` all come from this one walk, so they cannot disagree.
//
// Speed (docs/measured.md §5; src/store/slice.ts): the walk is synchronous calls
// in 20 ms slices; the files are hashed after it on every core, each thread with
// one reused 1 MiB buffer (src/store/hash-files.ts). On the 13,550-file Zig entry
// the fs.promises version took 1.6-3.1 s, one thread about 0.5 s.
//
// Two modes: strict (the default, for hashing a build's output) throws at the
// first entry it cannot hash; `collect` (for verifying a store) records each
// problem and goes on, so one run reports everything.
import { lstatSync, readdirSync, readlinkSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { hashFiles, type FileHash } from './hash-files.js';
import { slicer } from './slice.js';

export type Kind = 'd' | 'f' | 'x' | 'l';

export interface TreeRecord {
  kind: Kind;
  /** Path relative to the root, '/'-separated, raw bytes. */
  rel: Buffer;
  /** f, x: the content's sha256 (32 bytes); l: the link target as readlink gives it; d: none. */
  payload?: Buffer;
}

export interface ScanIssue {
  rel: Buffer;
  /** special: a fifo, socket or device; unreadable: the walk could not read it; changed: it changed type while being read. */
  what: 'special' | 'unreadable' | 'changed';
  detail: string;
}

export interface TreeScan {
  /** Sorted by the bytes of `rel`: the order the tree hash uses. */
  records: TreeRecord[];
  /** Bytes of file content read. */
  bytes: number;
  /** Only in `collect` mode; strict mode throws instead. */
  issues: ScanIssue[];
  /** With `writable`: relative paths of folders and files with any write bit ('' is the root). */
  writable: Buffer[];
}

export interface ScanOptions {
  /** Record problems instead of throwing at the first. */
  collect?: boolean;
  /** Also list folders and files that carry a write bit (one lstat per folder). */
  writable?: boolean;
}

/** Files per chunk handed to the hashers during the walk. */
const CHUNK = 1024;
const SLASH = Buffer.from('/');
const EMPTY = Buffer.alloc(0);

/** Walk and hash the tree below `dir`, which must be a directory. */
export async function scanTree(dir: string, opts: ScanOptions = {}): Promise<TreeScan> {
  let root;
  try {
    root = lstatSync(dir);
  } catch (e) {
    throw new IntactError('IO', `cannot read ${dir}: ${(e as Error).message}`, { file: dir, cause: e });
  }
  if (!root.isDirectory()) throw new IntactError('TREE_HASH_UNSUPPORTED', `${dir} is not a directory`, { file: dir });

  const tick = slicer();
  const out: TreeScan = { records: [], bytes: 0, issues: [], writable: [] };
  if (opts.writable && (root.mode & 0o222) !== 0) out.writable.push(EMPTY);

  const problem = (rel: Buffer, what: ScanIssue['what'], detail: string, cause?: unknown): void => {
    if (!opts.collect) {
      const file = join(dir, rel.toString());
      if (what === 'special') {
        throw new IntactError('TREE_HASH_UNSUPPORTED', `${rel.toString()} in ${dir} is a ${detail}; a tree holds only directories, files and symlinks`, {
          file,
          hint: 'remove it; store entries may not contain devices, fifos or sockets',
        });
      }
      throw new IntactError('IO', `cannot read ${file} while hashing ${dir}: ${detail}`, { file, cause });
    }
    out.issues.push({ rel, what, detail });
  };

  // Files are listed by the walk and hashed after it, on every core (hash-files.ts).
  const files: Buffer[] = [];
  const fileRels: Buffer[] = [];
  const absRoot = Buffer.from(dir);
  // Files go to the hashers in chunks while the walk goes on, so the worker
  // hashes while this thread lists folders (it sat idle through the walk).
  const hashed: FileHash[] = [];
  const chunks: Promise<void>[] = [];
  let handed = 0;
  const handOver = (): void => {
    const start = handed;
    handed = files.length;
    const chunk = hashFiles(files.slice(start), tick).then((r) => {
      for (let i = 0; i < r.length; i++) hashed[start + i] = r[i]!;
    });
    // Awaited below; until then a failure must not count as unhandled.
    chunk.catch(() => undefined);
    chunks.push(chunk);
  };
  const pending: [Buffer, Buffer][] = [[absRoot, EMPTY]];
  while (pending.length > 0) {
    const [abs, rel] = pending.pop()!;
    if (files.length - handed >= CHUNK) handOver();
    await tick();
    let names: Dirent<Buffer>[];
    try {
      names = readdirSync(abs, { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      problem(rel, 'unreadable', (e as Error).message, e);
      continue;
    }
    for (const d of names) {
      const childAbs = Buffer.concat([abs, SLASH, d.name]);
      const childRel = rel.length === 0 ? Buffer.from(d.name) : Buffer.concat([rel, SLASH, d.name]);
      if (d.isDirectory()) {
        out.records.push({ kind: 'd', rel: childRel });
        pending.push([childAbs, childRel]);
        if (opts.writable) {
          try {
            if ((lstatSync(childAbs).mode & 0o222) !== 0) out.writable.push(childRel);
          } catch (e) {
            problem(childRel, 'unreadable', (e as Error).message, e);
          }
        }
      } else if (d.isSymbolicLink()) {
        try {
          out.records.push({ kind: 'l', rel: childRel, payload: readlinkSync(childAbs, { encoding: 'buffer' }) });
        } catch (e) {
          problem(childRel, 'unreadable', (e as Error).message, e);
        }
      } else if (d.isFile()) {
        files.push(childAbs);
        fileRels.push(childRel);
      } else {
        problem(childRel, 'special', kindOf(d));
      }
    }
  }
  if (files.length > handed) handOver();
  await Promise.all(chunks);
  for (let i = 0; i < hashed.length; i++) {
    const h = hashed[i]!;
    const rel = fileRels[i]!;
    if ('detail' in h) {
      problem(rel, h.kind, h.detail);
      continue;
    }
    out.records.push({ kind: h.kind, rel, payload: h.digest as Buffer });
    out.bytes += h.bytes;
    if (opts.writable && h.writable) out.writable.push(rel);
  }
  out.records.sort((a, b) => Buffer.compare(a.rel, b.rel));
  out.writable.sort(Buffer.compare);
  return out;
}

function kindOf(d: { isFIFO(): boolean; isSocket(): boolean; isBlockDevice(): boolean; isCharacterDevice(): boolean }): string {
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  if (d.isBlockDevice()) return 'block device';
  if (d.isCharacterDevice()) return 'character device';
  return 'special file';
}
