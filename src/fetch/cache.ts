// The content-addressed download cache inside the store. A file's path is a pure
// function of its hash (`cache/<algorithm>/<2 hex>/<hex>`), bytes are hashed while
// they stream into a temp file under `<store>/tmp` (same filesystem), and only a
// verified, fsynced file is renamed into place. So a crash at any point leaves at
// most a temp file behind, never a partial cache entry, and a cache hit is
// re-hashed before it is trusted.
import { createReadStream, ftruncateSync, writeSync } from 'node:fs';
import { chmod, link, lstat, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { IntactError } from '../errors.js';
import { createHasher, parseStrongIntegrity, renderIntegrity, sameIntegrity, type HashAlgorithm, type Hasher, type StrongIntegrity } from './sri.js';
import type { ByteSink } from './types.js';
import { tempName } from '../temp-name.js';
import { layoutOf, type StoreLayout } from '../store/paths.js';

export interface IngestOptions {
  /** The pinned SRI; absent on a first lock. */
  expected?: string;
  /**
   * The algorithm of the returned integrity. Defaults to the expected one, or
   * sha512 on a first lock. When it differs from `expected`'s, both are computed
   * and the file is reachable under both.
   */
  algorithm?: HashAlgorithm;
  /** The URL or spec the bytes come from, for messages. */
  what: string;
  signal?: AbortSignal;
}

export interface Ingested {
  integrity: string;
  path: string;
  bytes: number;
  cached: boolean;
}

export type Producer = (sink: ByteSink) => Promise<void>;

export class DownloadCache {
  /** The store this cache lives in (its temp folder, and the git fetcher's mirrors, are there too). */
  readonly store: StoreLayout;

  constructor(storeDir: string) {
    this.store = layoutOf(resolve(storeDir));
  }

  get tmpDir(): string {
    return this.store.tmp;
  }

  /** Where the bytes with this integrity live (whether or not they are there yet). */
  pathFor(integrity: string): string {
    return this.#pathOf(parseStrongIntegrity(integrity));
  }

  /** True when an entry exists; says nothing about its content (ingest verifies). */
  async has(integrity: string): Promise<boolean> {
    try {
      return (await lstat(this.pathFor(integrity))).isFile();
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * Returns a verified file for the bytes `producer` writes, or for `expected`
   * straight from the cache. Throws INTEGRITY_MISMATCH (nothing stored) when the
   * bytes do not hash to `expected`.
   */
  async ingest(opts: IngestOptions, producer: Producer): Promise<Ingested> {
    const expected = opts.expected === undefined ? undefined : parseStrongIntegrity(opts.expected);
    const want: HashAlgorithm = opts.algorithm ?? expected?.algorithm ?? 'sha512';
    const algorithms = [...new Set<HashAlgorithm>([...(expected ? [expected.algorithm] : []), want])];
    opts.signal?.throwIfAborted();

    if (expected) {
      const hit = await this.#verifyCached(expected, algorithms, want, opts.signal);
      if (hit) return hit;
    }

    await mkdir(this.tmpDir, { recursive: true });
    const tmp = join(this.tmpDir, tempName('dl', `${randomBytes(8).toString('hex')}.part`));
    let fh: FileHandle | undefined = await open(tmp, 'wx', 0o644);
    let placed = false;
    try {
      const sink = new FileSink(fh.fd, algorithms);
      try {
        await producer(sink);
      } finally {
        sink.close();
      }
      opts.signal?.throwIfAborted();
      // Durability before visibility: the name must never point at unsynced bytes.
      await fh.sync();
      await fh.close();
      fh = undefined;

      const digests = sink.digests();
      const got = (a: HashAlgorithm): StrongIntegrity => digests.get(a)!;
      if (expected && !sameIntegrity(got(expected.algorithm), expected)) {
        throw mismatch(opts.what, expected, got(expected.algorithm));
      }
      const primary = got(want);
      await chmod(tmp, 0o444);
      const finalPath = this.#pathOf(primary);
      await mkdir(dirname(finalPath), { recursive: true });
      // rename replaces an existing entry atomically; with the same hash it has the
      // same bytes, so two processes storing one file at once both succeed.
      await rename(tmp, finalPath);
      placed = true;
      for (const a of algorithms) if (a !== want) await this.#alias(finalPath, got(a));
      return { integrity: renderIntegrity(primary), path: finalPath, bytes: sink.bytes, cached: false };
    } finally {
      if (fh) await fh.close().catch(() => {});
      if (!placed) await rm(tmp, { force: true });
    }
  }

  #pathOf(i: StrongIntegrity): string {
    return join(this.store.cache, i.algorithm, i.hex.slice(0, 2), i.hex);
  }

  /** Makes a stored file reachable under a second hash too (same inode). */
  async #alias(existing: string, i: StrongIntegrity): Promise<void> {
    const p = this.#pathOf(i);
    await mkdir(dirname(p), { recursive: true });
    try {
      await link(existing, p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }

  /** A cache hit, re-hashed; a corrupted entry is removed so the caller refetches. */
  async #verifyCached(
    expected: StrongIntegrity,
    algorithms: HashAlgorithm[],
    want: HashAlgorithm,
    signal: AbortSignal | undefined,
  ): Promise<Ingested | undefined> {
    const p = this.#pathOf(expected);
    try {
      const st = await lstat(p);
      if (!st.isFile()) {
        await rm(p, { recursive: true, force: true });
        return undefined;
      }
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    const hashers = algorithms.map(createHasher);
    let bytes = 0;
    for await (const chunk of createReadStream(p, { signal, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      for (const h of hashers) h.update(chunk);
      bytes += chunk.length;
    }
    const digests = new Map(hashers.map((h) => [h.algorithm, h.digest()] as const));
    if (!sameIntegrity(digests.get(expected.algorithm)!, expected)) {
      await rm(p, { force: true });
      return undefined;
    }
    const primary = digests.get(want)!;
    if (want !== expected.algorithm) await this.#alias(p, primary);
    return { integrity: renderIntegrity(primary), path: p, bytes, cached: true };
  }
}

/**
 * Writes each chunk to the temp file and the hashes in the same synchronous call,
 * so the HTTP body never waits on us (docs/measured.md §1).
 */
class FileSink implements ByteSink {
  readonly #fd: number;
  readonly #algorithms: HashAlgorithm[];
  #hashers: Hasher[];
  #bytes = 0;
  #closed = false;

  constructor(fd: number, algorithms: HashAlgorithm[]) {
    this.#fd = fd;
    this.#algorithms = algorithms;
    this.#hashers = algorithms.map(createHasher);
  }

  get bytes(): number {
    return this.#bytes;
  }

  write(chunk: Uint8Array): void {
    if (this.#closed) throw new IntactError('INTERNAL', 'A download wrote after it had finished.');
    let off = 0;
    // Explicit positions: after reset() the file offset would otherwise leave a hole.
    while (off < chunk.length) off += writeSync(this.#fd, chunk, off, chunk.length - off, this.#bytes + off);
    for (const h of this.#hashers) h.update(chunk);
    this.#bytes += chunk.length;
  }

  reset(): void {
    if (this.#closed) throw new IntactError('INTERNAL', 'A download reset after it had finished.');
    ftruncateSync(this.#fd, 0);
    this.#hashers = this.#algorithms.map(createHasher);
    this.#bytes = 0;
  }

  close(): void {
    this.#closed = true;
  }

  digests(): Map<HashAlgorithm, StrongIntegrity> {
    return new Map(this.#hashers.map((h) => [h.algorithm, h.digest()] as const));
  }
}

function mismatch(what: string, expected: StrongIntegrity, found: StrongIntegrity): IntactError {
  const exp = renderIntegrity(expected);
  const got = renderIntegrity(found);
  return new IntactError('INTEGRITY_MISMATCH', `${what} did not match its pinned integrity: expected ${exp}, got ${got}.`, {
    hint:
      'The bytes differ from what was locked: the file may have been replaced upstream, or a mirror serves different bytes. ' +
      'Nothing was stored. If the change is legitimate, review it and re-pin with `intact lock`.',
    expected: exp,
    found: got,
    ...(/^[a-z][a-z0-9+.-]*:\/\//i.test(what) ? { url: what } : {}),
  });
}

function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
