// The ELF reader: sound files of every class and byte order, real files from the
// host's compiler, and hostile ones (truncated, absurd offsets and counts, files
// built to show this reader one thing and the loader another). A hostile file
// must end in one ELF_MALFORMED error, quickly, never in anything else.
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseElf, readElf, type ByteSource } from '../../src/build/checks/elf.js';
import { isElfMagic } from '../../src/elf-magic.js';
import { IntactError } from '../../src/errors.js';
import { buildElf, type ElfFixture, type ElfSpec } from '../helpers/elf-fixtures.js';

/** A ByteSource over bytes in memory that counts what is read. */
function memory(bytes: Buffer): ByteSource & { bytesRead: number } {
  const src = {
    size: bytes.length,
    bytesRead: 0,
    async read(offset: number, length: number) {
      src.bytesRead += length;
      const b = bytes.subarray(offset, offset + length);
      if (b.length !== length) throw new Error(`test source: short read at ${offset}`);
      return b;
    },
  };
  return src;
}

async function firstBytes(p: string, n: number): Promise<Buffer> {
  const fh = await open(p, 'r').catch(() => undefined);
  if (fh === undefined) return Buffer.alloc(0);
  try {
    const b = Buffer.alloc(n);
    const { bytesRead } = await fh.read(b, 0, n, 0).catch(() => ({ bytesRead: 0 }));
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const parse = (b: Buffer) => parseElf(memory(b));

async function malformed(b: Buffer): Promise<string> {
  const e = await parse(b).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(IntactError);
  expect((e as IntactError).code).toBe('ELF_MALFORMED');
  return (e as IntactError).message;
}

describe('parseElf: sound files', () => {
  const cases: { name: string; spec: ElfSpec; expect: Record<string, unknown> }[] = [
    { name: 'static executable', spec: {}, expect: { isStatic: true, hasDynamic: false, interpreter: undefined, needed: [], type: 'exec' } },
    {
      name: 'static-pie (PT_DYNAMIC, no interpreter, no libraries)',
      spec: { type: 3, dynamic: true },
      expect: { isStatic: true, hasDynamic: true, type: 'dyn' },
    },
    {
      name: 'dynamic with the host interpreter and libc',
      spec: { interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libc.so.6'] },
      expect: { isStatic: false, interpreter: '/lib64/ld-linux-x86-64.so.2', needed: ['libc.so.6'] },
    },
    {
      name: 'RPATH and RUNPATH split on colons',
      spec: { needed: ['libz.so.1', 'libm.so.6'], rpath: '/a:$ORIGIN/../lib', runpath: '$ORIGIN::/b' },
      expect: { isStatic: false, needed: ['libz.so.1', 'libm.so.6'], rpath: ['/a', '$ORIGIN/../lib'], runpath: ['$ORIGIN', '', '/b'] },
    },
    { name: 'shared library without interpreter', spec: { type: 3, needed: ['libc.so.6'] }, expect: { isStatic: false, interpreter: undefined, type: 'dyn' } },
    { name: 'interpreter but no libraries is not static', spec: { interp: '/x/ld.so' }, expect: { isStatic: false, needed: [] } },
  ];
  const variants: { bits: 32 | 64; endian: 'le' | 'be' }[] = [
    { bits: 64, endian: 'le' },
    { bits: 64, endian: 'be' },
    { bits: 32, endian: 'le' },
    { bits: 32, endian: 'be' },
  ];
  for (const v of variants) {
    it.each(cases)(`ELF${v.bits} ${v.endian}: $name`, async ({ spec, expect: want }) => {
      const info = await parse(buildElf({ ...spec, ...v }).bytes);
      expect(info).toMatchObject({ ...want, bits: v.bits, endian: v.endian });
    });
  }

  it('reads a few hundred bytes of a large file, not the file', async () => {
    const f = buildElf({ interp: '/lib/ld.so', needed: ['libc.so.6'] });
    const big = Buffer.concat([f.bytes, Buffer.alloc(8 * 1024 * 1024)]);
    const src = memory(big);
    await parseElf(src);
    expect(src.bytesRead).toBeLessThan(16 * 1024);
  });
});

describe('parseElf: hostile and damaged files', () => {
  const dyn = (): ElfFixture => buildElf({ interp: '/lib/ld.so', needed: ['libc.so.6'], runpath: '$ORIGIN' });
  const phField = (f: ElfFixture, index: number, field: 'offset' | 'vaddr' | 'filesz'): number =>
    f.layout.phoff + index * f.layout.phentsize + f.layout.ph[field];

  const cases: { name: string; make: () => Buffer; says: RegExp }[] = [
    { name: 'only the magic', make: () => Buffer.from([0x7f, 0x45, 0x4c, 0x46]), says: /past the end of the file/ },
    { name: 'truncated inside the ELF header', make: () => dyn().bytes.subarray(0, 40), says: /ELF header.*past the end/ },
    { name: 'truncated inside the program headers', make: () => dyn().bytes.subarray(0, 100), says: /program headers.*past the end/ },
    {
      name: 'truncated inside the dynamic section',
      make: () => {
        const f = dyn();
        return f.bytes.subarray(0, f.layout.dynOff + 4);
      },
      says: /past the end/,
    },
    {
      name: 'class byte 3',
      make: () => {
        const b = Buffer.from(dyn().bytes);
        b[4] = 3;
        return b;
      },
      says: /class byte/,
    },
    {
      name: 'data-encoding byte 0',
      make: () => {
        const b = Buffer.from(dyn().bytes);
        b[5] = 0;
        return b;
      },
      says: /data-encoding/,
    },
    {
      name: 'e_phoff at 2^63',
      make: () => {
        const f = dyn();
        f.put(f.layout.phoffField, 8, 1n << 63n);
        return f.bytes;
      },
      says: /past the end/,
    },
    {
      name: 'e_phoff just past EOF',
      make: () => {
        const f = dyn();
        f.put(f.layout.phoffField, 8, f.bytes.length);
        return f.bytes;
      },
      says: /past the end/,
    },
    {
      name: 'e_phnum 65534',
      make: () => {
        const f = dyn();
        f.put(f.layout.phnumField, 2, 65534);
        return f.bytes;
      },
      says: /65534 program headers/,
    },
    {
      name: 'e_phnum PN_XNUM without section headers',
      make: () => {
        const f = dyn();
        f.put(f.layout.phnumField, 2, 0xffff);
        return f.bytes;
      },
      says: /no section header 0/,
    },
    {
      name: 'e_phentsize too small',
      make: () => {
        const f = dyn();
        f.put(f.layout.phentsizeField, 2, 8);
        return f.bytes;
      },
      says: /8 bytes each/,
    },
    {
      name: 'PT_INTERP offset past EOF',
      make: () => {
        const f = dyn();
        f.put(phField(f, f.layout.interpIndex, 'offset'), 8, 1n << 40n);
        return f.bytes;
      },
      says: /PT_INTERP.*past the end/,
    },
    {
      name: 'PT_INTERP 1 GiB long',
      make: () => {
        const f = dyn();
        f.put(phField(f, f.layout.interpIndex, 'filesz'), 8, 1 << 30);
        return f.bytes;
      },
      says: /PT_INTERP is 1073741824 bytes/,
    },
    {
      name: 'PT_INTERP without NUL',
      make: () => {
        const f = dyn();
        f.bytes[f.layout.interpOff + '/lib/ld.so'.length] = 0x41;
        return f.bytes;
      },
      says: /not NUL-terminated/,
    },
    {
      name: 'PT_DYNAMIC of 2^62 bytes',
      make: () => {
        const f = dyn();
        f.put(phField(f, f.layout.dynamicIndex, 'filesz'), 8, 1n << 62n);
        return f.bytes;
      },
      says: /more than 16384 entries/,
    },
    {
      name: 'PT_DYNAMIC offset and address disagree',
      make: () => {
        const f = dyn();
        f.put(phField(f, f.layout.dynamicIndex, 'offset'), 8, f.layout.strtabOff);
        return f.bytes;
      },
      says: /disagree/,
    },
    {
      name: 'DT_STRTAB in no loaded segment',
      make: () => {
        const f = dyn();
        const strtabEntry = f.layout.dynOff + 2 * f.layout.dynEntSize;
        f.put(strtabEntry + 8, 8, 0xdead0000);
        return f.bytes;
      },
      says: /lies in no loaded segment/,
    },
    {
      name: 'DT_NEEDED offset past DT_STRSZ',
      make: () => {
        const f = dyn();
        f.put(f.layout.dynOff + 8, 8, 1_000_000);
        return f.bytes;
      },
      says: /past the end of the string table/,
    },
    {
      name: 'string table without a final NUL',
      make: () => {
        const f = dyn();
        f.bytes.fill(0x41, f.layout.strtabOff + 1, f.layout.strtabOff + f.layout.strsz);
        return f.bytes;
      },
      says: /not NUL-terminated/,
    },
    {
      name: 'two PT_INTERP headers',
      make: () => {
        const f = dyn();
        const from = f.layout.phoff + f.layout.interpIndex * f.layout.phentsize;
        f.bytes.copy(f.bytes, f.layout.phoff + f.layout.dynamicIndex * f.layout.phentsize, from, from + f.layout.phentsize);
        return f.bytes;
      },
      says: /2 PT_INTERP/,
    },
  ];
  it.each(cases)('$name', async ({ make, says }) => {
    expect(await malformed(make())).toMatch(says);
  });

  it('a dynamic section with no DT_NULL stops at its end', async () => {
    const f = buildElf({ needed: ['libz.so.1'] });
    const last = f.layout.dynOff + (f.bytes.length - f.layout.dynOff) - f.layout.dynEntSize;
    f.put(last, 8, 7); // DT_NULL → DT_RELA: harmless, but no terminator
    expect((await parse(f.bytes)).needed).toEqual(['libz.so.1']);
  });

  it('random garbage after the magic, and random byte flips of sound files: ELF_MALFORMED or a result, quickly', async () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const started = Date.now();
    for (let i = 0; i < 3000; i++) {
      let b: Buffer;
      if (i % 3 === 0) {
        b = Buffer.alloc(16 + rnd(600));
        for (let j = 0; j < b.length; j++) b[j] = rnd(256);
        b.set([0x7f, 0x45, 0x4c, 0x46, 1 + rnd(2), 1 + rnd(2)], 0);
      } else {
        const bits = i % 2 === 0 ? 64 : 32;
        b = Buffer.from(buildElf({ bits, endian: rnd(2) ? 'le' : 'be', interp: '/l/ld.so', needed: ['a.so', 'b.so'], rpath: '$ORIGIN' }).bytes);
        for (let k = 0; k < 1 + rnd(4); k++) b[6 + rnd(b.length - 6)] = rnd(256);
      }
      try {
        await parse(b);
      } catch (e) {
        if (!(e instanceof IntactError) || e.code !== 'ELF_MALFORMED') throw new Error(`case ${i}: ${String(e)}`);
      }
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('readElf: files from the host compiler', () => {
  let dir: string;
  let gcc = true;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'intact-elf-'));
    await writeFile(join(dir, 'hello.c'), 'int main(void) { return 0; }\n');
    try {
      execFileSync('gcc', ['-o', join(dir, 'dyn'), join(dir, 'hello.c')], { stdio: 'ignore' });
      execFileSync('gcc', ['-static', '-o', join(dir, 'static'), join(dir, 'hello.c')], { stdio: 'ignore' });
      execFileSync('gcc', ['-static-pie', '-o', join(dir, 'static-pie'), join(dir, 'hello.c')], { stdio: 'ignore' });
    } catch {
      gcc = false;
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('dynamic: the host interpreter and libc', async ({ skip }) => {
    if (!gcc) skip('gcc with static libc is not installed');
    const info = await readElf(join(dir, 'dyn'));
    expect(info.isStatic).toBe(false);
    expect(info.interpreter).toMatch(/^\/lib.*\/ld-linux.*\.so\.\d$/);
    expect(info.needed).toContain('libc.so.6');
  });

  it('gcc -static and -static-pie are static', async ({ skip }) => {
    if (!gcc) skip('gcc with static libc is not installed');
    expect(await readElf(join(dir, 'static'))).toMatchObject({ isStatic: true, interpreter: undefined, needed: [] });
    expect(await readElf(join(dir, 'static-pie'))).toMatchObject({ isStatic: true, hasDynamic: true, type: 'dyn' });
  });

  it("parses every ELF file among the host's programs and libraries", async ({ skip }) => {
    const files: string[] = [];
    for (const d of ['/usr/bin', '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu']) {
      for (const n of (await readdir(d).catch(() => [])).slice(0, 300)) files.push(join(d, n));
    }
    let elves = 0;
    for (const p of files) {
      const head = await firstBytes(p, 4);
      if (!isElfMagic(head)) continue;
      const info = await readElf(p);
      expect(info.bits).toBe(64);
      elves++;
    }
    if (elves === 0) skip('no ELF files found on this host');
    expect(elves).toBeGreaterThan(10);
  });

  it('names the file in its error', async () => {
    const p = join(dir, 'bad');
    await writeFile(p, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]));
    await expect(readElf(p)).rejects.toMatchObject({ code: 'ELF_MALFORMED', file: p, message: expect.stringContaining(p) });
  });
});
