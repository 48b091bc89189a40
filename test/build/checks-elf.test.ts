// ELF purity of an output: static programs pass; a dynamic one passes only when
// its interpreter and every library it needs resolve inside the entry or a
// declared dependency. Hand-built ELF files for each rule, and real ones from the
// host's gcc.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkOutput, type OutputProblem } from '../../src/build/checks/index.js';
import { buildElf, outputFixture, type ElfSpec, type OutputFixture } from '../helpers/elf-fixtures.js';

let fx: OutputFixture;
beforeEach(async () => {
  fx = await outputFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

const SELF = '/store/k1-app-1.0.0';
const DEP = '/store/k2-zlib-1.3.1';
const codes = (ps: OutputProblem[]): string[] => ps.map((p) => `${p.code} ${p.file}`);

async function elf(base: string, rel: string, spec: ElfSpec = {}): Promise<void> {
  await mkdir(join(base, rel, '..'), { recursive: true });
  await writeFile(join(base, rel), buildElf(spec).bytes, { mode: 0o755 });
}
const lib: ElfSpec = { type: 3, dynamic: true };

describe('ELF files in an output', () => {
  const cases: { name: string; setup: () => Promise<void>; want: string[] }[] = [
    { name: 'static', setup: () => elf(fx.out, 'bin/a'), want: [] },
    { name: 'static-pie', setup: () => elf(fx.out, 'bin/a', { type: 3, dynamic: true }), want: [] },
    {
      name: 'host interpreter and libc',
      setup: () => elf(fx.out, 'bin/a', { interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libc.so.6'] }),
      want: ['OUTPUT_ELF_INTERP bin/a', 'OUTPUT_ELF_NEEDED bin/a'],
    },
    {
      name: 'interpreter in the entry, RUNPATH $ORIGIN/../lib with the library present',
      setup: async () => {
        await elf(fx.out, 'lib/ld.so', lib);
        await elf(fx.out, 'lib/libz.so.1', lib);
        await elf(fx.out, 'bin/a', { interp: `${SELF}/lib/ld.so`, needed: ['libz.so.1'], runpath: '$ORIGIN/../lib' });
      },
      want: [],
    },
    {
      name: 'the library reached through a symlink, ${ORIGIN} spelling',
      setup: async () => {
        await elf(fx.out, 'lib/libz.so.1.3', lib);
        await symlink('libz.so.1.3', join(fx.out, 'lib/libz.so.1'));
        await elf(fx.out, 'bin/a', { type: 3, needed: ['libz.so.1'], runpath: '${ORIGIN}/../lib' });
      },
      want: [],
    },
    {
      name: 'needed library missing from the RUNPATH folders',
      setup: async () => {
        await elf(fx.out, 'lib/ld.so', lib);
        await elf(fx.out, 'bin/a', { interp: `${SELF}/lib/ld.so`, needed: ['libz.so.1'], runpath: '$ORIGIN/../lib' });
      },
      want: ['OUTPUT_ELF_NEEDED bin/a'],
    },
    {
      name: 'RPATH outside, before a good folder',
      setup: async () => {
        await elf(fx.out, 'lib/libz.so.1', lib);
        await elf(fx.out, 'bin/a', { type: 3, needed: ['libz.so.1'], rpath: '/usr/lib:$ORIGIN/../lib' });
      },
      want: ['OUTPUT_ELF_SEARCH_PATH bin/a'],
    },
    {
      name: 'interpreter and library in a dependency, by sandbox path',
      setup: async () => {
        await elf(fx.dep.dir, 'lib/ld.so', lib);
        await elf(fx.dep.dir, 'lib/libz.so.1', lib);
        await elf(fx.out, 'bin/a', { interp: `${DEP}/lib/ld.so`, needed: ['libz.so.1'], runpath: `${DEP}/lib` });
      },
      want: [],
    },
    {
      name: 'library in a dependency, $ORIGIN-relative beside the entry',
      setup: async () => {
        await elf(fx.dep.dir, 'lib/libz.so.1', lib);
        await elf(fx.out, 'bin/a', { type: 3, needed: ['libz.so.1'], runpath: '$ORIGIN/../../k2-zlib-1.3.1/lib' });
      },
      want: [],
    },
    {
      name: 'library missing from the dependency',
      setup: () => elf(fx.out, 'bin/a', { type: 3, needed: ['libz.so.1'], runpath: `${DEP}/lib` }),
      want: ['OUTPUT_ELF_NEEDED bin/a'],
    },
    {
      name: 'interpreter path inside the entry but missing',
      setup: () => elf(fx.out, 'bin/a', { interp: `${SELF}/lib/ld.so` }),
      want: ['OUTPUT_ELF_INTERP bin/a'],
    },
    { name: 'relative interpreter', setup: () => elf(fx.out, 'bin/a', { interp: 'lib/ld.so' }), want: ['OUTPUT_ELF_INTERP bin/a'] },
    {
      name: '$LIB in RUNPATH',
      setup: () => elf(fx.out, 'bin/a', { type: 3, needed: ['libz.so.1'], runpath: '$ORIGIN/../$LIB' }),
      want: ['OUTPUT_ELF_SEARCH_PATH bin/a', 'OUTPUT_ELF_NEEDED bin/a'],
    },
    {
      name: 'relative and empty RUNPATH items',
      setup: async () => {
        await elf(fx.out, 'lib/libz.so.1', lib);
        await elf(fx.out, 'bin/a', { type: 3, needed: ['libz.so.1'], runpath: 'lib::$ORIGIN/../lib' });
      },
      want: ['OUTPUT_ELF_SEARCH_PATH bin/a', 'OUTPUT_ELF_SEARCH_PATH bin/a'],
    },
    {
      name: 'a needed library by absolute path on the host',
      setup: () => elf(fx.out, 'bin/a', { type: 3, needed: ['/usr/lib/libc.so.6'] }),
      want: ['OUTPUT_ELF_NEEDED bin/a'],
    },
    {
      name: 'RUNPATH spelling out the store path: inside a dependency, but not relocatable',
      setup: async () => {
        await elf(fx.dep.dir, 'lib/libz.so.1', lib);
        await elf(fx.out, 'bin/a', { type: 3, needed: ['libz.so.1'], runpath: join(fx.dep.dir, 'lib') });
      },
      want: ['OUTPUT_PATH_LEAK bin/a'],
    },
    { name: 'truncated ELF', setup: () => writeFile(join(fx.out, 'a.so'), buildElf(lib).bytes.subarray(0, 70)), want: ['ELF_MALFORMED a.so'] },
    {
      name: 'absurd program header count',
      setup: async () => {
        const f = buildElf(lib);
        f.put(f.layout.phnumField, 2, 60000);
        await writeFile(join(fx.out, 'a.so'), f.bytes);
      },
      want: ['ELF_MALFORMED a.so'],
    },
    { name: 'a file that only starts with the ELF magic', setup: () => writeFile(join(fx.out, 'data'), '\x7fELF'), want: ['ELF_MALFORMED data'] },
    { name: 'not ELF: \\x7fELG', setup: () => writeFile(join(fx.out, 'data'), '\x7fELG....'), want: [] },
  ];
  it.each(cases)('$name', async ({ setup, want }) => {
    await setup();
    expect(codes(await checkOutput(fx.out, fx.opts))).toEqual(want);
  });

  it('names the file, the interpreter and the libraries', async () => {
    await elf(fx.out, 'bin/a', { interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libc.so.6', 'libm.so.6'] });
    const [interp, needed] = await checkOutput(fx.out, fx.opts);
    expect(interp!.message).toBe(
      '"bin/a" is a dynamically linked program whose interpreter "/lib64/ld-linux-x86-64.so.2" lies outside the entry and its declared dependencies (on the host); it needs the libraries "libc.so.6", "libm.so.6"',
    );
    expect(needed!.message).toContain('"libc.so.6", "libm.so.6", not found inside the entry or its declared dependencies (it has no RUNPATH or RPATH)');
    expect(needed!.hint).toMatch(/statically/);
  });
});

describe('ELF files from the host compiler', () => {
  let gcc = true;
  beforeEach(async () => {
    await writeFile(join(fx.root, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n');
    try {
      execFileSync('gcc', ['-O1', '-o', join(fx.root, 'dyn'), join(fx.root, 'hello.c')], { stdio: 'ignore' });
      execFileSync('gcc', ['-O1', '-static', '-o', join(fx.root, 'static'), join(fx.root, 'hello.c')], { stdio: 'ignore' });
    } catch {
      gcc = false;
    }
  });

  it('refuses a dynamically linked program: host loader and libc', async ({ skip }) => {
    if (!gcc) skip('gcc with a static libc is not installed');
    await mkdir(join(fx.out, 'bin'));
    await copyFile(join(fx.root, 'dyn'), join(fx.out, 'bin/hello'));
    const ps = await checkOutput(fx.out, fx.opts);
    expect(codes(ps)).toEqual(['OUTPUT_ELF_INTERP bin/hello', 'OUTPUT_ELF_NEEDED bin/hello']);
    expect(ps[0]!.message).toMatch(/ld-linux.*libc\.so\.6/);
  });

  it('accepts gcc -static', async ({ skip }) => {
    if (!gcc) skip('gcc with a static libc is not installed');
    await mkdir(join(fx.out, 'bin'));
    await copyFile(join(fx.root, 'static'), join(fx.out, 'bin/hello'));
    expect(await checkOutput(fx.out, fx.opts)).toEqual([]);
  });
});
