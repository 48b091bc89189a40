// A small ELF reader: only what the output checks need to tell whether a program
// or library would reach for the host's dynamic loader or libraries. It reads the
// ELF header, the program headers, PT_INTERP and the dynamic section's DT_NEEDED,
// DT_RPATH and DT_RUNPATH strings, through positioned reads of a few KiB at most:
// a file is never read whole, so a 100 MB compiler costs the same as a 10 KB tool.
//
// The file may be hostile (a build can write anything). Every offset and count is
// checked against the file's size and against fixed limits before it is used, and
// every failure is one IntactError with code ELF_MALFORMED that says what is wrong;
// the work per file is bounded by those limits, whatever the bytes claim.
//
// Where the loaders and this reader could read the same bytes differently, the
// reader follows the loader (the kernel for PT_INTERP, ld.so for the dynamic
// section) or refuses the file: defence in depth against a file built to look
// static here and load the host's libc at run time.
import { open } from 'node:fs/promises';
import { IntactError } from '../../errors.js';
import { isElfMagic } from '../../elf-magic.js';

export type ElfType = 'rel' | 'exec' | 'dyn' | 'core' | 'other';

export interface ElfInfo {
  bits: 32 | 64;
  endian: 'le' | 'be';
  type: ElfType;
  /** e_machine, e.g. 62 for x86-64, 183 for aarch64. */
  machine: number;
  /** PT_INTERP without its terminating NUL; undefined when the file has none. */
  interpreter: string | undefined;
  hasDynamic: boolean;
  /** DT_NEEDED names, in order. */
  needed: string[];
  /** DT_RPATH and DT_RUNPATH split on ':', in order (an empty item stays, it means the working folder). */
  rpath: string[];
  runpath: string[];
  /** No interpreter and no needed library: the kernel runs it with nothing from outside (static and static-pie). */
  isStatic: boolean;
}

/** Positioned reads from one file; `read` returns exactly `length` bytes or throws. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

// Limits, each far above what a real toolchain produces. The kernel refuses more
// than 64 KiB of program headers, and PATH_MAX bounds every path the loader uses.
const MAX_PHDR_BYTES = 64 * 1024;
const MAX_INTERP = 4096;
const MAX_DYN_ENTRIES = 16 * 1024;
const MAX_DYN_STRINGS = 1024;
const MAX_STRING = 4096;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PN_XNUM = 0xffff;

const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;

interface Phdr {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

/** Parse an ELF file. Throws IntactError ELF_MALFORMED when it is not a sound ELF file. */
export async function parseElf(src: ByteSource): Promise<ElfInfo> {
  const ident = await readAt(src, 0, 16, 'the identification bytes');
  if (!isElfMagic(ident)) throw malformed('it does not start with the ELF magic bytes');
  const bits = ident[4] === 1 ? 32 : ident[4] === 2 ? 64 : undefined;
  if (bits === undefined) throw malformed(`its class byte is ${ident[4]}; expected 1 (32-bit) or 2 (64-bit)`);
  const endian = ident[5] === 1 ? 'le' : ident[5] === 2 ? 'be' : undefined;
  if (endian === undefined) throw malformed(`its data-encoding byte is ${ident[5]}; expected 1 (little-endian) or 2 (big-endian)`);
  const f = new Fields(bits, endian);

  const eh = await readAt(src, 0, bits === 64 ? 64 : 52, 'the ELF header');
  const type = elfType(f.u16(eh, 16));
  const machine = f.u16(eh, 18);
  const phoff = bits === 64 ? f.addr(eh, 32) : f.u32(eh, 28);
  const shoff = bits === 64 ? f.addr(eh, 40) : f.u32(eh, 32);
  const phentsize = f.u16(eh, bits === 64 ? 54 : 42);
  let phnum = f.u16(eh, bits === 64 ? 56 : 44);
  const shentsize = f.u16(eh, bits === 64 ? 58 : 46);

  // More than 0xfffe program headers: the real count is in section header 0's sh_info.
  if (phnum === PN_XNUM) phnum = await extendedPhnum(src, f, shoff, shentsize);

  const phdrs = phnum === 0 ? [] : await readPhdrs(src, f, phoff, phentsize, phnum);
  const interps = phdrs.filter((p) => p.type === PT_INTERP);
  const dynamics = phdrs.filter((p) => p.type === PT_DYNAMIC);
  // The kernel takes the first PT_INTERP and ld.so the last PT_DYNAMIC: a file with
  // two of either could show this reader one thing and the loader another.
  if (interps.length > 1) throw malformed(`it has ${interps.length} PT_INTERP headers; a sound file has at most one`);
  if (dynamics.length > 1) throw malformed(`it has ${dynamics.length} PT_DYNAMIC headers; a sound file has at most one`);

  const interpreter = interps[0] === undefined ? undefined : await readInterp(src, interps[0]);
  const dyn = dynamics[0] === undefined ? undefined : await readDynamic(src, f, phdrs, dynamics[0]);
  const needed = dyn?.needed ?? [];
  return {
    bits,
    endian,
    type,
    machine,
    interpreter,
    hasDynamic: dyn !== undefined,
    needed,
    rpath: dyn?.rpath ?? [],
    runpath: dyn?.runpath ?? [],
    isStatic: interpreter === undefined && needed.length === 0,
  };
}

/** Parse the ELF file at `path` (a convenience over parseElf for one file). */
export async function readElf(path: string): Promise<ElfInfo> {
  const fh = await open(path, 'r').catch((e: unknown) => {
    throw new IntactError('IO', `cannot open ${path}: ${(e as Error).message}`, { file: path, cause: e });
  });
  try {
    const { size } = await fh.stat();
    return await parseElf(fileSource(fh, size));
  } catch (e) {
    if (e instanceof IntactError && e.file === undefined) {
      throw new IntactError(e.code, `${path}: ${e.message}`, { file: path, hint: e.hint, cause: e.cause });
    }
    throw e;
  } finally {
    await fh.close();
  }
}

/** A ByteSource over an open file; `head` serves reads that fall inside the bytes already read. */
export function fileSource(
  fh: { read(buf: Buffer, off: number, len: number, pos: number): Promise<{ bytesRead: number }> },
  size: number,
  head?: Buffer,
): ByteSource {
  return {
    size,
    async read(offset, length) {
      if (head !== undefined && offset + length <= head.length) return head.subarray(offset, offset + length);
      const buf = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got).catch((e: unknown) => {
          throw new IntactError('IO', `cannot read at byte ${offset + got}: ${(e as Error).message}`, { cause: e });
        });
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got < length) throw malformed(`it ends at byte ${offset + got}, inside data that runs to byte ${offset + length}`);
      return buf;
    },
  };
}

async function extendedPhnum(src: ByteSource, f: Fields, shoff: number, shentsize: number): Promise<number> {
  const need = f.bits === 64 ? 64 : 40;
  if (shoff === 0 || shentsize < need) throw malformed('it claims more than 65534 program headers but has no section header 0 to hold the count');
  const sh = await readAt(src, shoff, need, 'section header 0');
  return f.u32(sh, f.bits === 64 ? 44 : 28);
}

async function readPhdrs(src: ByteSource, f: Fields, phoff: number, entsize: number, count: number): Promise<Phdr[]> {
  const min = f.bits === 64 ? 56 : 32;
  if (entsize < min) throw malformed(`its program headers are ${entsize} bytes each; a ${f.bits}-bit file needs ${min}`);
  if (count * entsize > MAX_PHDR_BYTES) {
    throw malformed(`it claims ${count} program headers (${count * entsize} bytes); more than ${MAX_PHDR_BYTES} bytes of them is not a loadable file`);
  }
  const table = await readAt(src, phoff, count * entsize, 'the program headers');
  const out: Phdr[] = [];
  for (let i = 0; i < count; i++) {
    const b = table.subarray(i * entsize, i * entsize + min);
    out.push(
      f.bits === 64
        ? { type: f.u32(b, 0), offset: f.addr(b, 8), vaddr: f.addr(b, 16), filesz: f.addr(b, 32) }
        : { type: f.u32(b, 0), offset: f.u32(b, 4), vaddr: f.u32(b, 8), filesz: f.u32(b, 16) },
    );
  }
  return out;
}

async function readInterp(src: ByteSource, p: Phdr): Promise<string> {
  if (p.filesz === 0) throw malformed('its PT_INTERP is empty');
  if (p.filesz > MAX_INTERP) throw malformed(`its PT_INTERP is ${p.filesz} bytes; a path is at most ${MAX_INTERP}`);
  const b = await readAt(src, p.offset, p.filesz, 'PT_INTERP');
  // The kernel requires the terminating NUL and uses the bytes before the first NUL.
  if (b[b.length - 1] !== 0) throw malformed('its PT_INTERP is not NUL-terminated');
  const path = b.toString('latin1', 0, b.indexOf(0));
  if (path === '') throw malformed('its PT_INTERP is an empty path');
  return path;
}

interface Dynamic {
  needed: string[];
  rpath: string[];
  runpath: string[];
}

async function readDynamic(src: ByteSource, f: Fields, phdrs: Phdr[], dyn: Phdr): Promise<Dynamic> {
  const entsize = f.bits === 64 ? 16 : 8;
  // ld.so reads the dynamic section through its address, the kernel and readelf
  // through its file offset: refuse a file where the two name different bytes.
  const mapped = toOffset(phdrs, dyn.vaddr);
  if (mapped !== undefined && mapped !== dyn.offset) {
    throw malformed(`its PT_DYNAMIC file offset (${dyn.offset}) and address (0x${dyn.vaddr.toString(16)}, file offset ${mapped}) disagree`);
  }
  const count = Math.min(Math.floor(dyn.filesz / entsize), MAX_DYN_ENTRIES + 1);
  if (count > MAX_DYN_ENTRIES) throw malformed(`its dynamic section holds more than ${MAX_DYN_ENTRIES} entries`);
  const table = await readAt(src, dyn.offset, count * entsize, 'the dynamic section');

  const strOffsets: { tag: bigint; at: bigint }[] = [];
  let strtab: bigint | undefined;
  let strsz: bigint | undefined;
  for (let i = 0; i < count; i++) {
    const tag = f.bits === 64 ? f.i64(table, i * 16) : BigInt(f.i32(table, i * 8));
    const val = f.bits === 64 ? f.u64(table, i * 16 + 8) : BigInt(f.u32(table, i * 8 + 4));
    if (tag === DT_NULL) break;
    if (tag === DT_STRTAB) strtab = val;
    else if (tag === DT_STRSZ) strsz = val;
    else if (tag === DT_NEEDED || tag === DT_RPATH || tag === DT_RUNPATH) strOffsets.push({ tag, at: val });
  }
  const out: Dynamic = { needed: [], rpath: [], runpath: [] };
  if (strOffsets.length === 0) return out;
  if (strtab === undefined) throw malformed('its dynamic section names libraries or search paths but has no string table (DT_STRTAB)');
  const tabAddr = safe(strtab, 'DT_STRTAB');
  const tabOff = toOffset(phdrs, tabAddr);
  if (tabOff === undefined) throw malformed(`its string table address 0x${tabAddr.toString(16)} lies in no loaded segment`);
  if (strOffsets.length > MAX_DYN_STRINGS)
    throw malformed(`its dynamic section names ${strOffsets.length} libraries and search paths; more than ${MAX_DYN_STRINGS} is not a real program`);
  const strings = stringTable(src, tabOff, strsz);

  for (const { tag, at } of strOffsets) {
    const s = await strings(safe(at, 'a dynamic string offset'));
    if (tag === DT_NEEDED) {
      if (s === '') throw malformed('it has an empty DT_NEEDED name');
      out.needed.push(s);
    } else {
      (tag === DT_RPATH ? out.rpath : out.runpath).push(...s.split(':'));
    }
  }
  return out;
}

/** String lookup in the dynamic string table: a few KiB read per string, never the table (it holds every symbol name). */
function stringTable(src: ByteSource, tabOff: number, strsz: bigint | undefined): (at: number) => Promise<string> {
  const size = strsz === undefined ? Number.POSITIVE_INFINITY : Number(strsz);
  return async (at) => {
    if (at >= size) throw malformed(`a dynamic string offset (${at}) lies past the end of the string table (${size} bytes)`);
    const start = tabOff + at;
    const len = Math.min(MAX_STRING + 1, size - at, src.size - start);
    if (!(len > 0)) throw malformed(`the dynamic string at offset ${at} lies past the end of the file`);
    const b = await readAt(src, start, len, 'a dynamic string');
    const end = b.indexOf(0);
    if (end < 0) throw malformed(`the dynamic string at offset ${at} is not NUL-terminated within ${Math.min(len, MAX_STRING)} bytes`);
    return b.toString('latin1', 0, end);
  };
}

/** The file offset of a virtual address, through the PT_LOAD that maps it (the last one, as mmap would leave it). */
function toOffset(phdrs: Phdr[], vaddr: number): number | undefined {
  let found: number | undefined;
  for (const p of phdrs) {
    if (p.type === PT_LOAD && vaddr >= p.vaddr && vaddr - p.vaddr < p.filesz) found = p.offset + (vaddr - p.vaddr);
  }
  return found;
}

async function readAt(src: ByteSource, offset: number, length: number, what: string): Promise<Buffer> {
  if (offset > src.size || length > src.size - offset) {
    throw malformed(`${what} (bytes ${offset}..${offset + length}) run past the end of the file (${src.size} bytes): it is truncated or damaged`);
  }
  return src.read(offset, length);
}

function elfType(t: number): ElfType {
  return t === 1 ? 'rel' : t === 2 ? 'exec' : t === 3 ? 'dyn' : t === 4 ? 'core' : 'other';
}

function safe(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`${what} (0x${v.toString(16)}) is beyond any file`);
  return Number(v);
}

function malformed(why: string): IntactError {
  return new IntactError('ELF_MALFORMED', `not a sound ELF file: ${why}`, {
    hint: 'The file starts with the ELF magic bytes but is damaged or built to mislead. Rebuild it; if it is data, not a program, store it under a name the build does not install as a program, or compress it.',
  });
}

/** Integer fields of one class and byte order. 64-bit addresses become numbers, or +Infinity when past 2^53. */
class Fields {
  constructor(
    readonly bits: 32 | 64,
    readonly endian: 'le' | 'be',
  ) {}
  u16(b: Buffer, o: number): number {
    return this.endian === 'le' ? b.readUInt16LE(o) : b.readUInt16BE(o);
  }
  u32(b: Buffer, o: number): number {
    return this.endian === 'le' ? b.readUInt32LE(o) : b.readUInt32BE(o);
  }
  i32(b: Buffer, o: number): number {
    return this.endian === 'le' ? b.readInt32LE(o) : b.readInt32BE(o);
  }
  u64(b: Buffer, o: number): bigint {
    return this.endian === 'le' ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
  }
  i64(b: Buffer, o: number): bigint {
    return this.endian === 'le' ? b.readBigInt64LE(o) : b.readBigInt64BE(o);
  }
  /** An offset or size: any value past 2^53 is beyond every file, so it becomes +Infinity and fails the bounds checks. */
  addr(b: Buffer, o: number): number {
    const v = this.u64(b, o);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
  }
}
