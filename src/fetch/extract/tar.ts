// Reads a tar archive (plain or compressed) and hands its entries to a visitor.
// node-tar's Parser does the parsing only (ustar, pax, GNU long names, checksum
// checks in strict mode); writing is ours (writer.ts), because node-tar's own
// unpacker is 3x slower (docs/measured.md §2). Decompression is ours too, never
// the Parser's, so the Parser never guesses a second layer of compression: gzip
// and xz as stream stages (gzip on zlib's thread pool, in parallel with our
// writes), bzip2 and pure-JS zstd as decoders driven from the sink (decoder.ts).
//
// Memory stays flat: pipeline() applies backpressure from the file down, and the
// visitor consumes every body chunk synchronously, so nothing queues up.
import { createReadStream } from 'node:fs';
import { Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { bunzip2 } from './bzip2.js';
import { isTarHeader, type Compression } from './detect.js';
import type { EntryKind, ReadContext, Visitor } from './entry.js';
import { Budget } from './limits.js';
import { asCorrupt, problem } from './problem.js';
import type { SyncDecoder, SyncDecoderFactory } from './decoder.js';
import { unxz } from './xz.js';
import { nativeUnzstd, unzstd } from './zstd.js';

const KINDS: Record<string, EntryKind> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'dir',
  GNUDumpDir: 'dir',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
  CharacterDevice: 'special',
  BlockDevice: 'special',
  FIFO: 'special',
};

const CHUNK = 1 << 20;
/** Small enough that the ratio check sees a bomb within maxRatio x 256 KiB of output. */
const SOURCE_CHUNK = 256 * 1024;

/** How a compression is undone: a stream stage with its own backpressure, or a decoder on our thread. */
type Stage = { stream: Duplex } | { inline: SyncDecoderFactory } | undefined;

function stage(c: Compression): Stage {
  switch (c) {
    case 'none':
      return undefined;
    case 'gzip':
      // highWaterMark (a stream option zlib passes through, untyped): room to inflate ahead while we write.
      return { stream: createGunzip({ chunkSize: 128 * 1024, highWaterMark: CHUNK } as ZlibOptions) };
    case 'xz':
      return { stream: unxz() };
    case 'bzip2':
      return { inline: bunzip2 };
    case 'zstd': {
      const native = nativeUnzstd();
      return native === undefined ? { inline: unzstd } : { stream: native };
    }
  }
}

export async function readTar(file: string, compression: Compression, visitor: Visitor, ctx: ReadContext): Promise<void> {
  const source = ctx.input?.() ?? createReadStream(file, { highWaterMark: compression === 'none' ? CHUNK : SOURCE_CHUNK });
  // Bytes handed to the decompressor, not bytes read ahead from disk: the ratio
  // check must see a bomb's real ratio, not one diluted by buffering.
  let consumed = 0;
  source.on('data', (c: string | Buffer) => {
    consumed += c.length;
  });
  const budget = new Budget(ctx.limits, ctx.where, () => consumed);
  const how = stage(compression);
  const sink = new TarSink(visitor, budget, ctx.where, compression, how !== undefined && 'inline' in how ? how.inline : undefined);
  const what = compression === 'none' ? 'tar archive' : `${compression}-compressed tar archive`;
  try {
    if (how !== undefined && 'stream' in how) await pipeline(source, how.stream, sink, { signal: ctx.signal });
    else await pipeline(source, sink, { signal: ctx.signal });
  } catch (err) {
    throw asCorrupt(err, ctx.where, what);
  }
}

/** Thrown out of an inline decoder to stop it once the archive was refused. */
const STOP = Symbol('stop');

/** node-tar's Parser behind a Writable, so that pipeline() drives it and sees its errors. */
class TarSink extends Writable {
  readonly #parser: Parser;
  readonly #visitor: Visitor;
  readonly #budget: Budget;
  readonly #where: string;
  readonly #compression: Compression;
  readonly #decoder: SyncDecoder | undefined;
  /** The first bytes, held until a whole header block proves this is tar. */
  #head: Buffer[] | undefined = [];
  #headBytes = 0;
  #error: unknown;
  #ended = false;

  constructor(visitor: Visitor, budget: Budget, where: string, compression: Compression, inline: SyncDecoderFactory | undefined) {
    super({ highWaterMark: CHUNK });
    this.#visitor = visitor;
    this.#budget = budget;
    this.#where = where;
    this.#compression = compression;
    this.#decoder = inline?.((data) => {
      this.#tar(data);
      if (this.#error !== undefined) throw STOP;
    });
    this.#parser = new Parser({ strict: true });
    this.#parser.on('entry', (e: ReadEntry) => this.#entry(e));
    // Types the Parser does not know (sparse, multi-volume, ...) and oversized pax headers.
    this.#parser.on('ignoredEntry', (e: ReadEntry) => this.#entry(e, 'unsupported'));
    this.#parser.on('error', (err: Error) =>
      this.#fail(problem('EXTRACT_CORRUPT', where, undefined, `is not a valid tar archive: ${err.message}.`, { cause: err })),
    );
    this.#parser.on('end', () => {
      this.#ended = true;
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // Parse and write in a microtask, not inside the decompressor's callback: zlib
    // pushes its output synchronously and only then queues the next inflate on its
    // thread, so deferring lets inflating and writing files overlap (Zig package:
    // 2.3 s -> 1.6 s).
    queueMicrotask(() => {
      this.#run(() => (this.#decoder === undefined ? this.#tar(chunk) : this.#decoder.push(chunk)));
      cb(this.#error as Error | undefined);
    });
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#run(() => this.#decoder?.end());
    if (this.#error === undefined && this.#head !== undefined) this.#fail(this.#notTar());
    if (this.#error === undefined) this.#parser.end();
    if (this.#error === undefined && !this.#ended) {
      this.#fail(problem('EXTRACT_CORRUPT', this.#where, undefined, 'ends before its tar archive does (truncated file).'));
    }
    cb(this.#error as Error | undefined);
  }

  /** Runs decoder work; a decoder's own exceptions mean corrupt data, STOP means we already failed. */
  #run(f: () => void): void {
    if (this.#error !== undefined) return;
    try {
      f();
    } catch (err) {
      if (err !== STOP) this.#fail(asCorrupt(err, this.#where, `${this.#compression}-compressed tar archive`));
    }
  }

  /** Uncompressed tar bytes, in order. */
  #tar(chunk: Uint8Array): void {
    if (this.#error !== undefined) return;
    let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.#head !== undefined) {
      this.#head.push(data);
      this.#headBytes += data.length;
      if (this.#headBytes < 512) return;
      data = Buffer.concat(this.#head);
      this.#head = undefined;
      if (!isTarHeader(data)) return this.#fail(this.#notTar());
    }
    this.#parser.write(data);
  }

  #notTar(): Error {
    return this.#compression === 'none'
      ? problem('EXTRACT_CORRUPT', this.#where, undefined, 'is not a valid tar archive (bad header checksum).')
      : problem('EXTRACT_UNSUPPORTED', this.#where, undefined, `is ${this.#compression}-compressed but holds no tar archive.`, {
          hint: 'intact unpacks compressed tar archives, not single compressed files; decompress it in a build step, or fetch an archive.',
        });
  }

  #fail(err: unknown): void {
    this.#error ??= err;
  }

  #entry(e: ReadEntry, forced?: EntryKind): void {
    if (this.#error !== undefined) {
      e.resume();
      return;
    }
    const name = e.path;
    try {
      // Parser differential: node-tar ignores `path`/`linkpath` in a global pax
      // header, GNU tar applies them to the entries that follow (node-tar's
      // global-header.tar: GNU writes `ab`, node-tar `one-byte.txt`). A reviewer
      // listing the archive with GNU tar must see the names intact writes, so
      // such archives are refused rather than read one way or the other.
      const global = e.globalExtended;
      if (global && (global.path !== undefined || global.linkpath !== undefined)) {
        throw problem(
          'EXTRACT_UNSAFE_PATH',
          this.#where,
          name,
          `follows a global pax header that sets ${global.path !== undefined ? '`path`' : '`linkpath`'}, which tar tools read differently.`,
          {
            hint: 'Tar implementations disagree on which name such an entry has; repack the archive without global path headers, or fetch another release file.',
          },
        );
      }
      this.#budget.entry(name);
      const body = this.#visitor.entry({
        name,
        kind: forced ?? KINDS[e.type] ?? 'unsupported',
        typeName: e.type,
        mode: e.mode ?? 0,
        size: e.size,
        ...(e.linkpath === undefined ? {} : { target: e.linkpath }),
      });
      e.on('data', (c: Buffer) => {
        if (this.#error !== undefined) return;
        try {
          this.#budget.add(name, c.length);
          body?.write(c);
        } catch (err) {
          this.#fail(err);
        }
      });
      if (body !== undefined) {
        e.on('end', () => {
          try {
            body.end();
          } catch (err) {
            this.#fail(err);
          }
        });
      }
    } catch (err) {
      this.#fail(err);
      e.resume();
    }
  }
}
