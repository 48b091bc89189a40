// One archive part as it downloads: written to a temporary file and verified
// chunk by chunk against the signed digests (artifact.ts: `archive.chunk`, and
// each part's `chunks`), so that the extractor can unpack the part while it is
// still on the wire and yet never reads a byte that was not verified. Without
// chunk digests (an artifact pushed before they existed) the whole part is the
// one chunk and its digest the part's: it becomes readable when it has arrived.
//
// As a ByteSink (the download side) every write is synchronous, so the HTTP body
// never pauses (docs/measured.md §1). The reader side (`reader()`) is a stream
// that waits for more verified bytes and ends at the part's size.
//
// A download that starts over (a server that would not resume) replays bytes the
// reader may already have read: below the verified mark they are hashed again,
// but never written again, so what the reader can see only ever grows.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, openSync, read, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import { IntactError } from '../errors.js';
import type { ByteSink } from '../fetch/types.js';

export interface PartChunks {
  /** Bytes per chunk; the last chunk may be shorter. */
  size: number;
  /** sha256 of each chunk, in order (ceil(part size / chunk size) of them). */
  digests: readonly Buffer[];
}

const READ_CHUNK = 256 * 1024;

export class VerifiedPart implements ByteSink {
  #fd: number;
  /** Bytes received in this attempt. */
  #pos = 0;
  /** Bytes on disk that matched their chunk's digest; only ever grows. */
  #verified = 0;
  #index = 0;
  #hash: Hash = createHash('sha256');
  #failed: Error | undefined;
  #waiters: (() => void)[] = [];

  constructor(
    readonly path: string,
    readonly size: number,
    readonly chunks: PartChunks,
    /** Names the part in messages: registry, key and part number. */
    readonly where: string,
  ) {
    if (chunks.size <= 0 || chunks.digests.length !== Math.ceil(size / chunks.size)) {
      throw new IntactError('INTERNAL', `${where}: ${chunks.digests.length} chunk digests do not cover ${size} bytes in chunks of ${chunks.size}`);
    }
    this.#fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  }

  get bytes(): number {
    return this.#pos;
  }

  write(data: Uint8Array): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#pos + data.length > this.size) {
      throw this.fail(
        new IntactError('CACHE_DIGEST_MISMATCH', `${this.where} is longer than its signed size of ${this.size} bytes`, { expected: String(this.size) }),
      );
    }
    let off = 0;
    while (off < data.length) {
      const end = Math.min((this.#index + 1) * this.chunks.size, this.size);
      const n = Math.min(end - this.#pos, data.length - off);
      const slice = data.subarray(off, off + n);
      if (this.#pos + n > this.#verified) {
        // Only the bytes past the verified mark; the ones below it are on disk and were verified.
        const skip = Math.max(0, this.#verified - this.#pos);
        let w = skip;
        while (w < n) w += writeSync(this.#fd, slice, w, n - w, this.#pos + w);
      }
      this.#hash.update(slice);
      this.#pos += n;
      off += n;
      if (this.#pos === end) this.#endChunk();
    }
  }

  reset(): void {
    this.#pos = 0;
    this.#index = 0;
    this.#hash = createHash('sha256');
  }

  /** Stops readers with `err` (the download failed); returns it, to throw. */
  fail(err: Error): Error {
    this.#failed ??= err;
    this.#wake();
    return this.#failed;
  }

  /** Resolves once the first `n` bytes (at most the size) are verified. */
  async verified(n: number): Promise<void> {
    const want = Math.min(n, this.size);
    while (this.#verified < want) {
      if (this.#failed !== undefined) throw this.#failed;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** The verified bytes from the start, as they become verified; ends at the part's size. */
  reader(): Readable {
    let at = 0;
    const r = new Readable({
      highWaterMark: READ_CHUNK,
      read: () => {
        this.verified(at + 1).then(
          () => {
            if (at >= this.size) {
              r.push(null);
              return;
            }
            const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, this.#verified - at));
            read(this.#fd, buf, 0, buf.length, at, (err, got) => {
              if (err) r.destroy(err);
              else if (got === 0) r.destroy(new IntactError('IO', `${this.path} is shorter than the ${this.#verified} bytes verified`, { file: this.path }));
              else {
                at += got;
                r.push(got < buf.length ? buf.subarray(0, got) : buf);
              }
            });
          },
          (err: unknown) => r.destroy(err as Error),
        );
      },
    });
    return r;
  }

  /** Closes the file; call only when neither the download nor a reader uses it any more. */
  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
    this.fail(new IntactError('INTERNAL', `${this.where} was closed`));
  }

  #endChunk(): void {
    const expected = this.chunks.digests[this.#index]!;
    const got = this.#hash.digest();
    if (!got.equals(expected)) {
      const start = this.#index * this.chunks.size;
      throw this.fail(
        new IntactError('CACHE_DIGEST_MISMATCH', `${this.where}: the blob's bytes do not match its digest (signed for bytes ${start}-${this.#pos - 1})`, {
          expected: expected.toString('hex'),
          found: got.toString('hex'),
          hint: "the registry's storage or something in front of it changed the bytes; nothing was added to the store",
        }),
      );
    }
    this.#verified = Math.max(this.#verified, this.#pos);
    this.#index++;
    this.#hash = createHash('sha256');
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
