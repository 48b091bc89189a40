// The archive of a store entry, as pushed: DetTarWriter's deterministic tar
// (sorted names, uid/gid 0, no owner names, modes 0644/0755/0777, no times — the
// entry gets SOURCE_DATE_EPOCH when it is normalised after unpacking, as every
// build output does) compressed with gzip at a fixed level. Equal trees give
// equal archives on one zlib version, so two pushers of one entry upload the
// same blobs; a different zlib may give other bytes, which is harmless: each
// pusher signs the digests of the archive it uploads.
//
// A large entry is cut into parts (PART_TAR_BYTES of tar each, at entry
// boundaries, in the one sorted order): every part is a complete tar.gz of its
// own, a layer of the artifact with its own signed digest. A puller can then
// verify and unpack part n while part n+1 is still downloading, and the archive
// parser still never sees a byte that was not verified (a single blob could
// only be verified once it had arrived whole).
//
// Each part also has the sha256 of every CHUNK_BYTES of its compressed bytes,
// signed with the rest (artifact.ts): a puller verifies a part chunk by chunk
// as it arrives and unpacks it while it is still downloading
// (verified-part.ts), which matters when one large file (the Zig binary: 70% of
// its archive) makes one part most of the download.
//
// Unpacking is not here: a pulled part goes through src/fetch/extract like any
// download (safe paths, no devices, no links out, bomb limits).
import { createHash } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { open, readdir, readlink, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { IntactError } from '../errors.js';
import { compareTarNames, DetTarWriter, tarName } from '../fetch/det-tar.js';

/** Fixed: part of what makes the archive deterministic. 6 is gzip's default and tar czf's. */
export const GZIP_LEVEL = 6;
/** Tar bytes per part (fixed too: it decides where parts end). ~5 MiB of gzip for source-like trees. */
export const PART_TAR_BYTES = 24 * 1024 * 1024;
/** Compressed bytes per signed chunk digest: the most a puller's unpacking lags behind its download. */
export const CHUNK_BYTES = 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

export interface ArchivePart {
  file: string;
  /** `sha256:<hex>` of the compressed bytes. */
  digest: string;
  size: number;
  /** Hex sha256 of each CHUNK_BYTES of the compressed bytes (the last chunk may be shorter). */
  chunks: string[];
}

interface Item {
  rel: Buffer;
  abs: Buffer;
  kind: 'd' | 'f' | 'l';
  tar: Buffer;
}

/** Writes the archive of the tree below `dir` as parts `<outPrefix>.<n>.tar.gz` (which must not exist). */
export async function packTree(dir: string, outPrefix: string, signal?: AbortSignal, partTarBytes = PART_TAR_BYTES): Promise<ArchivePart[]> {
  const items: Item[] = [];
  await walk(Buffer.from(dir), Buffer.alloc(0), items, dir);
  items.sort((a, b) => compareTarNames(a.tar, b.tar));
  const parts: ArchivePart[] = [];
  let part: PartWriter | undefined;
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (const it of items) {
      signal?.throwIfAborted();
      if (part !== undefined && part.tarBytes >= partTarBytes) {
        parts.push(await part.finish());
        part = undefined;
      }
      part ??= new PartWriter(`${outPrefix}.${parts.length}.tar.gz`, signal);
      if (it.kind === 'd') part.tar.dir(it.rel);
      else if (it.kind === 'l') part.tar.symlink(it.rel, await readlink(it.abs, { encoding: 'buffer' }));
      else await addFile(part, it, buf);
      await part.drain();
    }
    part ??= new PartWriter(`${outPrefix}.${parts.length}.tar.gz`, signal);
    parts.push(await part.finish());
    part = undefined;
    return parts;
  } catch (e) {
    await part?.abort();
    await Promise.all(parts.map((p) => rm(p.file, { force: true })));
    throw e instanceof IntactError ? e : new IntactError('IO', `cannot pack ${dir}: ${(e as Error).message}`, { file: dir, cause: e });
  }
}

/** One part: a tar stream into gzip into a file, hashed as it is written. */
class PartWriter {
  readonly tar: DetTarWriter;
  tarBytes = 0;
  readonly #gzip = createGzip({ level: GZIP_LEVEL });
  readonly #hash = createHash('sha256');
  readonly #chunks = new ChunkHasher(CHUNK_BYTES);
  readonly #written: Promise<void>;
  readonly #signal: AbortSignal | undefined;
  #size = 0;
  #full = false;

  constructor(
    readonly file: string,
    signal?: AbortSignal,
  ) {
    this.#signal = signal;
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.#hash.update(chunk);
        this.#chunks.update(chunk);
        this.#size += chunk.length;
        cb(null, chunk);
      },
    });
    this.#written = pipeline(this.#gzip, counter, createWriteStream(file, { flags: 'wx', mode: 0o644 }), signal ? { signal } : {});
    this.#written.catch(() => undefined);
    // The writer is synchronous; the pack loop waits for gzip to drain, so memory stays flat.
    this.tar = new DetTarWriter({
      write: (chunk) => {
        this.tarBytes += chunk.length;
        // gzip keeps a reference until it has compressed it: hand over a copy, never the reused buffer.
        if (!this.#gzip.write(Buffer.from(chunk))) this.#full = true;
      },
    });
  }

  async drain(): Promise<void> {
    if (!this.#full) return;
    this.#full = false;
    await once(this.#gzip, 'drain', this.#signal ? { signal: this.#signal } : {});
  }

  async finish(): Promise<ArchivePart> {
    this.tar.end();
    this.#gzip.end();
    await this.#written;
    return { file: this.file, digest: `sha256:${this.#hash.digest('hex')}`, size: this.#size, chunks: this.#chunks.end() };
  }

  async abort(): Promise<void> {
    this.#gzip.destroy();
    await this.#written.catch(() => undefined);
    await rm(this.file, { force: true });
  }
}

/** The sha256 of every `size` bytes of a stream, however its writes fall. */
export class ChunkHasher {
  readonly #digests: string[] = [];
  #hash = createHash('sha256');
  #filled = 0;

  constructor(readonly size: number) {}

  update(data: Buffer): void {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(this.size - this.#filled, data.length - off);
      this.#hash.update(data.subarray(off, off + n));
      this.#filled += n;
      off += n;
      if (this.#filled === this.size) {
        this.#digests.push(this.#hash.digest('hex'));
        this.#hash = createHash('sha256');
        this.#filled = 0;
      }
    }
  }

  /** The digests, the last (shorter) chunk's included. */
  end(): string[] {
    if (this.#filled > 0) this.#digests.push(this.#hash.digest('hex'));
    this.#filled = 0;
    return this.#digests;
  }
}

async function addFile(part: PartWriter, it: Item, buf: Buffer): Promise<void> {
  // O_NOFOLLOW: a file swapped for a symlink since the walk fails instead of packing its target.
  const fh = await open(it.abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new IntactError('IO', `${it.rel.toString()} changed type while being packed`, { file: it.abs.toString() });
    part.tar.file(it.rel, st.size, (st.mode & 0o100) !== 0);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      part.tar.data(buf.subarray(0, bytesRead));
      await part.drain();
    }
  } finally {
    await fh.close();
  }
}

async function walk(abs: Buffer, rel: Buffer, out: Item[], root: string): Promise<void> {
  for (const d of await readdir(abs, { withFileTypes: true, encoding: 'buffer' })) {
    const childAbs = Buffer.concat([abs, SLASH, d.name]);
    const childRel = rel.length === 0 ? Buffer.from(d.name) : Buffer.concat([rel, SLASH, d.name]);
    if (d.isDirectory()) {
      out.push({ rel: childRel, abs: childAbs, kind: 'd', tar: tarName(childRel, true) });
      await walk(childAbs, childRel, out, root);
    } else if (d.isSymbolicLink()) {
      out.push({ rel: childRel, abs: childAbs, kind: 'l', tar: tarName(childRel, false) });
    } else if (d.isFile()) {
      out.push({ rel: childRel, abs: childAbs, kind: 'f', tar: tarName(childRel, false) });
    } else {
      throw new IntactError('TREE_HASH_UNSUPPORTED', `${childRel.toString()} in ${root} is neither a folder, a file nor a symlink; it cannot be pushed`, {
        file: childAbs.toString(),
        hint: 'store entries never hold devices, fifos or sockets; run `intact verify --store`',
      });
    }
  }
}

const SLASH = Buffer.from('/');
