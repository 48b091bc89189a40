// Hand-built ELF files for the ELF reader and the output checks, generated in the
// test: an ELF header, program headers (one PT_LOAD mapping the whole file, then
// PT_INTERP and PT_DYNAMIC as asked), the interpreter path, a string table and a
// dynamic section. Nothing the kernel could run, but byte-exact in everything the
// loaders read to find an interpreter and libraries. `layout` tells where each
// field is, so hostile variants are made by patching one field of a sound file.
//
// Also: a fresh store / build folder / output folder layout for the checks' tests.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ElfSpec {
  bits?: 32 | 64;
  endian?: 'le' | 'be';
  /** e_type: 2 executable, 3 shared object / PIE. */
  type?: 2 | 3;
  interp?: string;
  needed?: string[];
  rpath?: string;
  runpath?: string;
  /** Add a PT_DYNAMIC even with no library or search path (a static-pie has one). */
  dynamic?: boolean;
}

export interface ElfFixture {
  bytes: Buffer;
  layout: {
    /** Offsets of e_phoff, e_phentsize, e_phnum, e_shoff in the header. */
    phoffField: number;
    phentsizeField: number;
    phnumField: number;
    shoffField: number;
    phoff: number;
    phentsize: number;
    /** Index of each program header, or -1. */
    loadIndex: number;
    interpIndex: number;
    dynamicIndex: number;
    /** Offsets of p_offset, p_vaddr, p_filesz inside one program header. */
    ph: { offset: number; vaddr: number; filesz: number };
    interpOff: number;
    strtabOff: number;
    strsz: number;
    dynOff: number;
    dynEntSize: number;
  };
  /** Write an integer of `size` bytes at `off` in the file's byte order. */
  put(off: number, size: 2 | 4 | 8, value: number | bigint): void;
}

const BASE = 0x400000;

export function buildElf(spec: ElfSpec = {}): ElfFixture {
  const bits = spec.bits ?? 64;
  const le = (spec.endian ?? 'le') === 'le';
  const w = bits === 64 ? 8 : 4;
  const ehsize = bits === 64 ? 64 : 52;
  const phentsize = bits === 64 ? 56 : 32;
  const dynEntSize = 2 * w;

  // The string table: "\0" then each string, remembering offsets.
  const strs: Buffer[] = [Buffer.alloc(1)];
  let strLen = 1;
  const addStr = (s: string): number => {
    const at = strLen;
    const b = Buffer.from(`${s}\0`, 'latin1');
    strs.push(b);
    strLen += b.length;
    return at;
  };
  const dyn: [number, number | 'strtab' | 'strsz'][] = [];
  for (const n of spec.needed ?? []) dyn.push([1, addStr(n)]);
  if (spec.rpath !== undefined) dyn.push([15, addStr(spec.rpath)]);
  if (spec.runpath !== undefined) dyn.push([29, addStr(spec.runpath)]);
  const hasDynamic = spec.dynamic === true || dyn.length > 0;
  if (hasDynamic) dyn.push([5, 'strtab'], [10, 'strsz'], [0, 0]);

  const phdrs = ['load', ...(spec.interp !== undefined ? ['interp'] : []), ...(hasDynamic ? ['dynamic'] : [])];
  const phoff = ehsize;
  const interpOff = phoff + phdrs.length * phentsize;
  const interpBytes = spec.interp === undefined ? Buffer.alloc(0) : Buffer.from(`${spec.interp}\0`, 'latin1');
  const strtabOff = interpOff + interpBytes.length;
  const strtab = Buffer.concat(strs);
  const dynOff = align(strtabOff + strtab.length, 8);
  const total = dynOff + dyn.length * dynEntSize;
  const bytes = Buffer.alloc(total);

  const put = (off: number, size: 2 | 4 | 8, value: number | bigint): void => {
    if (size === 2) le ? bytes.writeUInt16LE(Number(value), off) : bytes.writeUInt16BE(Number(value), off);
    else if (size === 4) le ? bytes.writeUInt32LE(Number(value), off) : bytes.writeUInt32BE(Number(value), off);
    else le ? bytes.writeBigUInt64LE(BigInt(value), off) : bytes.writeBigUInt64BE(BigInt(value), off);
  };
  const word = (off: number, v: number | bigint): void => put(off, w as 4 | 8, v);

  // ELF header
  bytes.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, le ? 1 : 2, 1], 0);
  put(16, 2, spec.type ?? 2);
  put(18, 2, bits === 64 ? 62 : 3);
  put(20, 4, 1);
  const f =
    bits === 64
      ? { entry: 24, phoff: 32, shoff: 40, ehsize: 52, phentsize: 54, phnum: 56 }
      : { entry: 24, phoff: 28, shoff: 32, ehsize: 40, phentsize: 42, phnum: 44 };
  word(f.entry, BASE);
  word(f.phoff, phoff);
  put(f.ehsize, 2, ehsize);
  put(f.phentsize, 2, phentsize);
  put(f.phnum, 2, phdrs.length);

  // Program headers
  const ph = bits === 64 ? { type: 0, offset: 8, vaddr: 16, filesz: 32, memsz: 40 } : { type: 0, offset: 4, vaddr: 8, filesz: 16, memsz: 20 };
  const writePh = (i: number, type: number, offset: number, size: number): void => {
    const at = phoff + i * phentsize;
    put(at + ph.type, 4, type);
    word(at + ph.offset, offset);
    word(at + ph.vaddr, BASE + offset);
    word(at + ph.filesz, size);
    word(at + ph.memsz, size);
  };
  phdrs.forEach((kind, i) => {
    if (kind === 'load') writePh(i, 1, 0, total);
    if (kind === 'interp') writePh(i, 3, interpOff, interpBytes.length);
    if (kind === 'dynamic') writePh(i, 2, dynOff, dyn.length * dynEntSize);
  });

  interpBytes.copy(bytes, interpOff);
  strtab.copy(bytes, strtabOff);
  dyn.forEach(([tag, val], i) => {
    const at = dynOff + i * dynEntSize;
    word(at, tag);
    word(at + w, val === 'strtab' ? BASE + strtabOff : val === 'strsz' ? strtab.length : val);
  });

  return {
    bytes,
    layout: {
      phoffField: f.phoff,
      phentsizeField: f.phentsize,
      phnumField: f.phnum,
      shoffField: f.shoff,
      phoff,
      phentsize,
      loadIndex: 0,
      interpIndex: phdrs.indexOf('interp'),
      dynamicIndex: phdrs.indexOf('dynamic'),
      ph,
      interpOff,
      strtabOff,
      strsz: strtab.length,
      dynOff,
      dynEntSize,
    },
    put,
  };
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** A fresh layout for the output checks: a store with dependency entries, a build folder and an output folder in it. */
export interface OutputFixture {
  root: string;
  storeDir: string;
  buildDir: string;
  /** The output folder being checked (inside the build folder, as a build leaves it). */
  out: string;
  entryName: string;
  /** A declared dependency: its real store path and its path inside the sandbox. */
  dep: { name: string; dir: string; inside: string };
  opts: { storeDir: string; buildDir: string; deps: { name: string; dir: string; inside?: string }[]; entryName: string };
  cleanup(): Promise<void>;
}

export async function outputFixture(): Promise<OutputFixture> {
  const root = await mkdtemp(join(tmpdir(), 'intact-checks-'));
  const storeDir = join(root, 'store');
  const buildDir = join(root, 'build');
  const out = join(buildDir, 'out');
  const entryName = 'k1-app-1.0.0';
  const depEntry = 'k2-zlib-1.3.1';
  const dep = { name: 'zlib', dir: join(storeDir, depEntry), inside: `/store/${depEntry}` };
  await mkdir(out, { recursive: true });
  await mkdir(join(dep.dir, 'lib'), { recursive: true });
  return {
    root,
    storeDir,
    buildDir,
    out,
    entryName,
    dep,
    opts: { storeDir, buildDir, deps: [dep], entryName },
    cleanup: async () => {
      const { makeWritable } = await import('../../src/build/checks/index.js');
      await makeWritable(root).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}
