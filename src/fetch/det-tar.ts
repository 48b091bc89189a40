// A deterministic tar writer, for sources that are trees rather than files (a git
// commit, a directory in the project). The pin of such a source is the SRI of this
// export, so the same tree must give the same bytes with any git version, any
// filesystem and any machine. Hence a format of our own making, fixed here:
//
// - POSIX ustar, uncompressed (gzip output depends on the zlib version);
// - entries in ascending byte order of their tar name; a directory's name ends
//   with "/", so a parent always precedes its children; the caller sorts (git
//   must ask for blobs in the order they are written) and the writer checks;
// - only three kinds: directory (0755), file (0644, or 0755 when executable),
//   symlink (0777); uid/gid 0, no user or group names, mtime 0, devmajor/minor 0;
// - a name longer than 100 bytes, a link target longer than 100 bytes or a size of
//   8 GiB or more goes into a pax extended header ("x") carrying only `path`,
//   `linkpath` or `size` records, named "././@PaxHeader"; nothing else (no commit
//   ids, no times, no owners);
// - the archive ends with two zero blocks and no further padding.
//
// Names are raw bytes (Buffers): git and filesystems allow names that are not
// UTF-8, and re-encoding them would change the bytes.
import { IntactError } from '../errors.js';

const BLOCK = 512;
const USTAR_MAX_SIZE = 0o77777777777; // 11 octal digits
const SLASH = 0x2f;

/** What the writer emits into; a ByteSink fits. */
export interface ChunkSink {
  write(chunk: Uint8Array): void;
}

/** Ascending byte order of tar names, the one order of every export. */
export function compareTarNames(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** The tar name of an entry: its relative path, plus "/" for a directory. */
export function tarName(path: Uint8Array, isDir: boolean): Buffer {
  return isDir ? Buffer.concat([path, Buffer.of(SLASH)]) : Buffer.from(path);
}

/**
 * Writes one deterministic tar stream. Call `dir`, `symlink` or `file` (then
 * `data` until `size` bytes are given) in ascending tar-name order, then `end`.
 */
export class DetTarWriter {
  #sink: ChunkSink;
  #last: Buffer | undefined;
  /** Bytes still owed to the file entry being written. */
  #owed = 0;
  #pad = 0;
  #ended = false;

  constructor(sink: ChunkSink) {
    this.#sink = sink;
  }

  dir(path: Uint8Array): void {
    this.#header(tarName(checkPath(path), true), '5', 0o755, 0, undefined);
  }

  symlink(path: Uint8Array, target: Uint8Array): void {
    if (target.length === 0 || target.includes(0)) {
      throw new IntactError('INTERNAL', `symlink ${show(path)} has an empty target or one with a NUL byte`);
    }
    this.#header(tarName(checkPath(path), false), '2', 0o777, 0, Buffer.from(target));
  }

  /** Start a file entry; its content follows through `data`. */
  file(path: Uint8Array, size: number, executable: boolean): void {
    if (!Number.isSafeInteger(size) || size < 0) throw new IntactError('INTERNAL', `bad size ${size} for ${show(path)}`);
    this.#header(tarName(checkPath(path), false), '0', executable ? 0o755 : 0o644, size, undefined);
    this.#owed = size;
    this.#pad = (BLOCK - (size % BLOCK)) % BLOCK;
    this.#closeFileIfDone();
  }

  data(chunk: Uint8Array): void {
    if (chunk.length > this.#owed) {
      throw new IntactError('IO', `${show(this.#last ?? Buffer.alloc(0))} grew while it was being read`, {
        hint: 'nothing may change the source while intact reads it; run again',
      });
    }
    if (chunk.length === 0) return;
    this.#sink.write(chunk);
    this.#owed -= chunk.length;
    this.#closeFileIfDone();
  }

  end(): void {
    this.#requireNoFileOpen();
    if (this.#ended) return;
    this.#ended = true;
    this.#sink.write(Buffer.alloc(2 * BLOCK));
  }

  #closeFileIfDone(): void {
    if (this.#owed === 0 && this.#pad > 0) {
      this.#sink.write(Buffer.alloc(this.#pad));
      this.#pad = 0;
    }
  }

  #requireNoFileOpen(): void {
    if (this.#owed > 0) {
      throw new IntactError('IO', `${show(this.#last ?? Buffer.alloc(0))} ended ${this.#owed} bytes early (it shrank while being read?)`, {
        hint: 'nothing may change the source while intact reads it; run again',
      });
    }
  }

  #header(name: Buffer, type: '0' | '2' | '5', mode: number, size: number, link: Buffer | undefined): void {
    this.#requireNoFileOpen();
    if (this.#ended) throw new IntactError('INTERNAL', 'tar entry after the end');
    // Invariant of the format: strictly ascending names, hence no duplicates.
    if (this.#last !== undefined && compareTarNames(this.#last, name) >= 0) {
      throw new IntactError('INTERNAL', `tar entries out of order: ${show(name)} after ${show(this.#last)}`);
    }
    this.#last = name;

    const pax: [string, Buffer][] = [];
    if (name.length > 100) pax.push(['path', name]);
    if (link !== undefined && link.length > 100) pax.push(['linkpath', link]);
    if (size > USTAR_MAX_SIZE) pax.push(['size', Buffer.from(String(size))]);
    if (pax.length > 0) {
      const body = paxRecords(pax);
      this.#sink.write(ustarHeader(Buffer.from('././@PaxHeader'), 'x', 0o644, body.length, undefined));
      this.#sink.write(body);
      const padding = (BLOCK - (body.length % BLOCK)) % BLOCK;
      if (padding > 0) this.#sink.write(Buffer.alloc(padding));
    }
    // With a pax record the ustar field holds a truncated stand-in; readers use the record.
    this.#sink.write(ustarHeader(name.subarray(0, 100), type, mode, size > USTAR_MAX_SIZE ? 0 : size, link?.subarray(0, 100)));
  }
}

function ustarHeader(name: Buffer, type: string, mode: number, size: number, link: Buffer | undefined): Buffer {
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0);
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime
  h.fill(0x20, 148, 156); // checksum counts as spaces while summing
  h.write(type, 156, 'latin1');
  link?.copy(h, 157);
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  octal(h, 329, 8, 0); // devmajor
  octal(h, 337, 8, 0); // devminor
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** Zero-padded octal digits followed by a NUL, filling the field. */
function octal(h: Buffer, offset: number, width: number, value: number): void {
  h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, 'latin1');
}

/** pax records: "<len> <key>=<value>\n", where len counts the whole record. */
function paxRecords(records: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const rest = Buffer.byteLength(key) + value.length + 3; // " " "=" "\n"
    let len = rest + 1;
    while (String(len).length + rest !== len) len = String(len).length + rest;
    parts.push(Buffer.from(`${len} ${key}=`), value, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Defence in depth: the writer never emits a name that could leave the extraction folder. */
function checkPath(path: Uint8Array): Uint8Array {
  const p = Buffer.from(path.buffer, path.byteOffset, path.byteLength);
  const bad =
    p.length === 0 ||
    p.includes(0) ||
    p[0] === SLASH ||
    p[p.length - 1] === SLASH ||
    p
      .toString('latin1')
      .split('/')
      .some((c) => c === '' || c === '.' || c === '..');
  if (bad) throw new IntactError('INTERNAL', `refusing tar entry name ${show(p)}`);
  return p;
}

function show(b: Uint8Array): string {
  return JSON.stringify(Buffer.from(b).toString('utf8'));
}
