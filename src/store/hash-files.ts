// Hashing many files on every core: the content half of a tree walk. The walk
// (tree-scan.ts) lists a tree's files; this opens, reads and hashes them, the
// calling thread and worker threads taking batches from one queue, so a tree of
// many files costs about its bytes over the cores' sha256 throughput.
//
// Measured (bench/verify-store.mjs, the default set's 5 entries: 455 MB in 13.6k
// files, 2 cores): one thread spent 0.30 s in read, 0.25 s in sha256 and 0.25 s in
// open/fstat/close; those are independent per file, so two threads halve them.
//
// One function, hashOne, runs in both places: workers get its source text (a
// worker needs a file or a string, and a string works the same from src/ under
// the tests and from dist/), so what a worker computes is what the thread does.
import { constants } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { Tick } from './slice.js';

export type FileHash =
  /** f or x: its sha256; `writable` when any write bit is set. */
  | { kind: 'f' | 'x'; digest: Uint8Array; bytes: number; writable: boolean }
  /** unreadable: it could not be opened or read; changed: it is no longer a file. */
  | { kind: 'unreadable' | 'changed'; detail: string; code?: string };

/** Below this many files a tree is hashed on the calling thread alone: a worker costs ~20-40 ms to start. */
const PARALLEL_FROM = 64;
/** Files per batch: small enough to balance two threads, large enough that messages cost nothing. */
const BATCH = 64;
const BUFFER_SIZE = 1024 * 1024;

interface Fns {
  fs: Pick<typeof fs, 'openSync' | 'fstatSync' | 'readSync' | 'closeSync'>;
  crypto: Pick<typeof crypto, 'createHash'>;
}

/**
 * Hash one file, never following a symlink (O_NOFOLLOW: a file swapped for a
 * link since the walk fails instead of hashing the target; O_NONBLOCK: one
 * swapped for a fifo cannot block). Self-contained: its source is sent to workers.
 */
function hashOne(f: Fns, path: Uint8Array, buf: Uint8Array, flags: number, ixusr: number): FileHash {
  let fd: number;
  try {
    fd = f.fs.openSync(path as Buffer, flags);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ELOOP'
      ? { kind: 'changed', detail: 'it became a symlink while being read' }
      : { kind: 'unreadable', detail: (e as Error).message, ...(code ? { code } : {}) };
  }
  try {
    // f or x is settled here (fstat), which saves an lstat per file.
    const st = f.fs.fstatSync(fd);
    if (!st.isFile()) return { kind: 'changed', detail: 'it changed type while being hashed' };
    const h = f.crypto.createHash('sha256');
    let bytes = 0;
    // Read to the size fstat gave, then once more only if that read filled the
    // buffer: a file that fits is one read, not a read and an empty one.
    for (;;) {
      const n = f.fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(n === buf.length ? buf : buf.subarray(0, n));
      bytes += n;
      if (n < buf.length && bytes >= st.size) break;
    }
    return { kind: st.mode & ixusr ? 'x' : 'f', digest: h.digest(), bytes, writable: (st.mode & 0o222) !== 0 };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { kind: 'unreadable', detail: (e as Error).message, ...(code ? { code } : {}) };
  } finally {
    f.fs.closeSync(fd);
  }
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
// getBuiltinModule, not require: an eval'd worker is ES module code when the
// process runs with --input-type=module, CommonJS otherwise.
const WORKER_SOURCE = `
const { parentPort } = process.getBuiltinModule('node:worker_threads');
const f = { fs: process.getBuiltinModule('node:fs'), crypto: process.getBuiltinModule('node:crypto') };
const hashOne = ${hashOne.toString()};
const buf = Buffer.allocUnsafe(${BUFFER_SIZE});
parentPort.on('message', (paths) => {
  parentPort.postMessage(paths.map((p) => hashOne(f, p, buf, ${OPEN_FLAGS}, ${constants.S_IXUSR})));
});
`;

/** A worker and its batches in flight, answered in the order sent. */
interface Hasher {
  worker: Worker;
  waiting: { resolve: (r: FileHash[]) => void; reject: (e: Error) => void }[];
}

let pool: Hasher[] | undefined;
let threadBuf: Buffer | undefined;

/** Workers beside the calling thread: one fewer than the cores, at least one. */
function hashers(): Hasher[] {
  pool ??= Array.from({ length: Math.max(1, availableParallelism() - 1) }, () => {
    const h: Hasher = { worker: new Worker(WORKER_SOURCE, { eval: true }), waiting: [] };
    h.worker.on('message', (r: FileHash[]) => {
      h.waiting.shift()!.resolve(r);
      if (h.waiting.length === 0) h.worker.unref();
    });
    h.worker.on('error', (e) => {
      pool = undefined;
      for (const w of h.waiting.splice(0)) w.reject(e);
    });
    h.worker.unref();
    return h;
  });
  return pool;
}

/** One batch on a worker; it keeps the process alive only while it works. */
function onWorker(h: Hasher, paths: Buffer[]): Promise<FileHash[]> {
  return new Promise((resolve, reject) => {
    h.worker.ref();
    h.waiting.push({ resolve, reject });
    h.worker.postMessage(paths);
  });
}

/** Batches a worker holds at once, so it never waits for this thread to hand it the next. */
const IN_FLIGHT = 4;

/** Hash every file, results in the order of `paths`. */
export async function hashFiles(paths: readonly Buffer[], tick: Tick): Promise<FileHash[]> {
  threadBuf ??= Buffer.allocUnsafe(BUFFER_SIZE);
  const buf = threadBuf;
  const f: Fns = { fs, crypto };
  const out: FileHash[] = new Array(paths.length);
  let next = 0;
  const take = (): [number, Buffer[]] | undefined => {
    if (next >= paths.length) return undefined;
    const start = next;
    next = Math.min(paths.length, next + BATCH);
    return [start, paths.slice(start, next) as Buffer[]];
  };
  const parallel = paths.length >= PARALLEL_FROM;
  const onThread = async (): Promise<void> => {
    for (let b = take(); b; b = take()) {
      for (let i = 0; i < b[1].length; i++) out[b[0] + i] = hashOne(f, b[1][i]!, buf, OPEN_FLAGS, constants.S_IXUSR);
      // With workers, yield after every batch so their answers are taken and
      // their next batches sent without delay; alone, in the usual slices.
      if (parallel) await new Promise<void>((resolve) => setImmediate(resolve));
      else await tick();
    }
  };
  if (!parallel) {
    await onThread();
    return out;
  }
  const viaWorker = async (h: Hasher): Promise<void> => {
    for (let b = take(); b; b = take()) {
      const got = await onWorker(h, b[1]);
      for (let i = 0; i < got.length; i++) out[b[0] + i] = fromWorker(got[i]!);
    }
  };
  const lanes = hashers().flatMap((h) => Array.from({ length: IN_FLIGHT }, () => viaWorker(h)));
  await Promise.all([...lanes, onThread()]);
  return out;
}

/** A digest crosses from a worker as a plain Uint8Array: make it a Buffer again. */
function fromWorker(r: FileHash): FileHash {
  if (r.kind !== 'f' && r.kind !== 'x') return r;
  return { ...r, digest: Buffer.from(r.digest.buffer, r.digest.byteOffset, r.digest.byteLength) };
}
