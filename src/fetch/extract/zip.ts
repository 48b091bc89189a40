// Reads a zip archive and hands its entries to a visitor. yauzl (well kept,
// 100M+ downloads a month) reads the central directory with random access, so
// only one entry's stream is open at a time and memory stays flat. We take
// names raw (decodeStrings: false) and decode them with yauzl's own decoder
// (CP437 or UTF-8, Info-ZIP Unicode path field), turning backslashes into `/` as
// Windows zippers mean them, so that paths.ts judges exactly the name that would
// be written. yauzl checks declared sizes against the data; it does not check
// CRC-32, so we do.
//
// Speed: through yauzl's own file reader, a 13,550-file zip took 7.5 s: every
// central directory record costs two thread-pool reads, every entry a read
// stream and an inflater. So yauzl reads through SyncReader (its documented
// RandomAccessReader extension point) doing plain preads, and small entries (the
// vast majority) are read with two preads and inflated by inflateRawSync, capped
// at the declared size; large ones still stream, so memory stays bounded.
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { crc32, inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import type { Entry, EntryKind, ReadContext, Visitor } from './entry.js';
import { Budget } from './limits.js';
import { asCorrupt, problem } from './problem.js';

const S_IFMT = 0o170000;
const TYPES: Record<number, [EntryKind, string]> = {
  0o100000: ['file', 'File'],
  0o040000: ['dir', 'Directory'],
  0o120000: ['symlink', 'SymbolicLink'],
  0o020000: ['special', 'CharacterDevice'],
  0o060000: ['special', 'BlockDevice'],
  0o010000: ['special', 'FIFO'],
  0o140000: ['special', 'Socket'],
};
/** Hosts whose "made by" byte means the high 16 bits of the external attributes are a Unix st_mode. */
const UNIX_HOSTS = new Set([3 /* Unix */, 19 /* OS X */]);

/** yauzl's reader interface over one file descriptor, with synchronous preads. */
class SyncReader extends yauzl.RandomAccessReader {
  readonly #fd: number;
  readonly #file: string;
  constructor(fd: number, file: string) {
    super();
    this.#fd = fd;
    this.#file = file;
  }
  override read(buffer: Buffer, offset: number, length: number, position: number, cb: (err: Error | null, bytesRead?: number) => void): void {
    let n: number;
    try {
      n = readSync(this.#fd, buffer, offset, length, position);
    } catch (err) {
      return cb(err as Error);
    }
    cb(null, n);
  }
  override _readStreamForRange(start: number, end: number): Readable {
    // Its own descriptor: a stream that is destroyed early must not close ours.
    return createReadStream(this.#file, { start, end: end - 1 });
  }
}

export async function readZip(file: string, visitor: Visitor, ctx: ReadContext): Promise<void> {
  const fd = openSync(file, 'r');
  let zip: yauzl.ZipFile | undefined;
  try {
    const size = fstatSync(fd).size;
    zip = await yauzl.fromRandomAccessReaderPromise(new SyncReader(fd, file), size, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: true,
      strictFileNames: false,
    });
    // A zip is read at random, so the best measure of "compressed bytes so far" is the whole file.
    const r: Reader = { zip, fd, budget: new Budget(ctx.limits, ctx.where, () => size), ctx };
    for await (const raw of zip.eachEntry()) {
      ctx.signal?.throwIfAborted();
      await readEntry(r, raw, visitor);
    }
  } catch (err) {
    throw asCorrupt(err, ctx.where, 'zip archive');
  } finally {
    zip?.close();
    closeSync(fd);
  }
}

interface Reader {
  zip: yauzl.ZipFile;
  fd: number;
  budget: Budget;
  ctx: ReadContext;
}

/** Entries up to this size (both packed and unpacked) are read synchronously in one piece. */
const SMALL = 4 * 1024 * 1024;

function describe(raw: yauzl.Entry): Entry {
  const name = yauzl.getFileNameLowLevel(raw.generalPurposeBitFlag, raw.fileNameRaw, raw.extraFields, false);
  const st = UNIX_HOSTS.has(raw.versionMadeBy >> 8) ? raw.externalFileAttributes >>> 16 : 0;
  const dosDir = (raw.externalFileAttributes & 0x10) !== 0;
  let [kind, typeName]: [EntryKind, string] = name.endsWith('/') || dosDir ? ['dir', 'Directory'] : ['file', 'File'];
  if ((st & S_IFMT) !== 0) [kind, typeName] = TYPES[st & S_IFMT] ?? ['unsupported', `mode ${(st & S_IFMT).toString(8)}`];
  return { name, kind, typeName, mode: st & 0o7777, size: raw.uncompressedSize };
}

async function readEntry(r: Reader, raw: yauzl.Entry, visitor: Visitor): Promise<void> {
  const { budget, ctx } = r;
  const e = describe(raw);
  budget.entry(e.name);
  if (raw.isEncrypted()) throw problem('EXTRACT_UNSUPPORTED', ctx.where, e.name, 'is encrypted.');
  if (!raw.canDecodeFileData()) {
    throw problem('EXTRACT_UNSUPPORTED', ctx.where, e.name, `uses zip compression method ${raw.compressionMethod}; only stored and deflate are supported.`);
  }
  budget.declare(e.name, e.size);
  if (e.kind === 'symlink') {
    // A zip symlink keeps its target as the entry's content.
    if (e.size > ctx.limits.maxPathBytes)
      throw problem('EXTRACT_UNSAFE_PATH', ctx.where, e.name, `is a symlink whose target is longer than ${ctx.limits.maxPathBytes} bytes.`);
    e.target = readSmall(r, raw, e.name).toString('utf8');
  }
  const body = visitor.entry(e);
  if (body === undefined) return;
  if (raw.compressedSize > SMALL || raw.uncompressedSize > SMALL) return pump(r, raw, e.name, body);
  try {
    const data = readSmall(r, raw, e.name);
    if (data.length > 0) body.write(data);
  } finally {
    body.end();
  }
}

/** One small entry's content: local header and data by pread, inflated in one call, size and CRC checked. */
function readSmall(r: Reader, raw: yauzl.Entry, name: string): Buffer {
  const at = raw.relativeOffsetOfLocalHeader;
  const head = preadExact(r, Buffer.allocUnsafe(30), at, name);
  if (head.readUInt32LE(0) !== 0x04034b50) throw corruptEntry(r, name, 'has no valid local file header');
  const start = at + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
  if (start + raw.compressedSize > r.zip.fileSize) throw corruptEntry(r, name, 'has data past the end of the file');
  const packed = preadExact(r, Buffer.allocUnsafe(raw.compressedSize), start, name);
  let data: Buffer;
  try {
    // maxOutputLength: a lying size can never make us allocate more than declared.
    data = raw.compressionMethod === 0 ? packed : inflateRawSync(packed, { maxOutputLength: Math.max(1, raw.uncompressedSize) });
  } catch (err) {
    throw corruptEntry(r, name, `has damaged compressed data (${(err as Error).message})`, err);
  }
  if (data.length !== raw.uncompressedSize) throw corruptEntry(r, name, `unpacks to ${data.length} bytes, not the ${raw.uncompressedSize} its header declares`);
  r.budget.add(name, data.length);
  checkCrc(r, raw, name, crc32(data));
  return data;
}

function preadExact(r: Reader, buf: Buffer, position: number, name: string): Buffer {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(r.fd, buf, off, buf.length - off, position + off);
    if (n === 0) throw corruptEntry(r, name, 'is cut off by the end of the file');
    off += n;
  }
  return buf;
}

/** A large entry, streamed through yauzl so that it is never whole in memory. */
async function pump(r: Reader, raw: yauzl.Entry, name: string, body: { write(c: Uint8Array): void; end(): void }): Promise<void> {
  const stream = await r.zip.openReadStreamPromise(raw);
  let crc = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      r.ctx.signal?.throwIfAborted();
      r.budget.add(name, chunk.length);
      crc = crc32(chunk, crc);
      body.write(chunk);
    }
  } finally {
    stream.destroy();
    body.end();
  }
  checkCrc(r, raw, name, crc);
}

function checkCrc(r: Reader, raw: yauzl.Entry, name: string, crc: number): void {
  if (crc !== raw.crc32) {
    throw problem('EXTRACT_CORRUPT', r.ctx.where, name, 'has data that does not match its CRC-32 (damaged zip).', {
      expected: raw.crc32.toString(16).padStart(8, '0'),
      found: crc.toString(16).padStart(8, '0'),
    });
  }
}

function corruptEntry(r: Reader, name: string, why: string, cause?: unknown): Error {
  return problem('EXTRACT_CORRUPT', r.ctx.where, name, `${why} (damaged zip).`, cause === undefined ? {} : { cause });
}
