// Output checks on files, links and paths: special files, mode bits, hard links
// out of the output, symlinks out of the entry, and the build folder's or the
// store's path left in a file or a link. Each case builds its own output.
import { execFileSync } from 'node:child_process';
import { chmod, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertOutputOk, checkOutput, type OutputProblem } from '../../src/build/checks/index.js';
import { IntactError } from '../../src/errors.js';
import { outputFixture, type OutputFixture } from '../helpers/elf-fixtures.js';

let fx: OutputFixture;
beforeEach(async () => {
  fx = await outputFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

const check = (): Promise<OutputProblem[]> => checkOutput(fx.out, fx.opts);
const codes = (ps: OutputProblem[]): string[] => ps.map((p) => `${p.code} ${p.file}`);

async function put(rel: string, content: string | Buffer = 'x\n', mode = 0o644): Promise<void> {
  await mkdir(join(fx.out, rel, '..'), { recursive: true });
  await writeFile(join(fx.out, rel), content, { mode });
}

describe('a clean output', () => {
  it('has no problems', async () => {
    await put('bin/tool', '#!/store/k2-zlib-1.3.1/bin/sh\necho hi\n', 0o755);
    await put('share/doc/README');
    await mkdir(join(fx.out, 'empty'));
    expect(await check()).toEqual([]);
    await expect(assertOutputOk(fx.out, fx.opts)).resolves.toBeUndefined();
  });
});

describe('special files', () => {
  it('refuses a fifo', async () => {
    execFileSync('mkfifo', [join(fx.out, 'pipe')]);
    expect(codes(await check())).toEqual(['OUTPUT_SPECIAL_FILE pipe']);
  });

  it('refuses a unix socket', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(join(fx.out, 'sock'), resolve));
    try {
      const ps = await check();
      expect(codes(ps)).toEqual(['OUTPUT_SPECIAL_FILE sock']);
      expect(ps[0]!.message).toContain('socket');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses a character device', async ({ skip }) => {
    if (process.getuid?.() !== 0) skip('making a device needs root');
    try {
      execFileSync('mknod', [join(fx.out, 'null'), 'c', '1', '3'], { stdio: 'ignore' });
    } catch {
      skip('mknod is not permitted here (no CAP_MKNOD in this container)');
    }
    const ps = await check();
    expect(codes(ps)).toEqual(['OUTPUT_SPECIAL_FILE null']);
    expect(ps[0]!.message).toContain('character device');
  });

  it('refuses an output that is not a folder', async () => {
    await writeFile(join(fx.buildDir, 'file'), 'x');
    expect(codes(await checkOutput(join(fx.buildDir, 'file'), fx.opts))).toEqual(['OUTPUT_SPECIAL_FILE ']);
  });
});

describe('mode bits', () => {
  const cases: { name: string; make: () => Promise<void>; want: string[] }[] = [
    { name: 'setuid file', make: () => put('bin/su', 'x', 0o4755), want: ['OUTPUT_MODE_BITS bin/su'] },
    { name: 'setgid file', make: () => put('bin/sg', 'x', 0o2755), want: ['OUTPUT_MODE_BITS bin/sg'] },
    {
      name: 'sticky folder',
      make: async () => {
        await mkdir(join(fx.out, 'tmp'));
        await chmod(join(fx.out, 'tmp'), 0o1777);
      },
      want: ['OUTPUT_MODE_BITS tmp'],
    },
    {
      name: 'setgid folder (inherited in a group store): allowed',
      make: async () => {
        await mkdir(join(fx.out, 'g'));
        await chmod(join(fx.out, 'g'), 0o2755);
      },
      want: [],
    },
    { name: 'setuid output folder itself', make: () => chmod(fx.out, 0o4755), want: ['OUTPUT_MODE_BITS '] },
  ];
  it.each(cases)('$name', async ({ make, want }) => {
    await make();
    // chmod applies the mode exactly; writeFile's mode goes through the umask and may drop setuid.
    for (const [rel, mode] of [
      ['bin/su', 0o4755],
      ['bin/sg', 0o2755],
    ] as const)
      await chmod(join(fx.out, rel), mode).catch(() => undefined);
    expect(codes(await check())).toEqual(want);
  });

  it('names the bits and the mode', async () => {
    await put('bin/su', 'x');
    await chmod(join(fx.out, 'bin/su'), 0o6755);
    const [p] = await check();
    expect(p!.message).toMatch(/setuid and setgid bits set \(mode 6755\)/);
  });
});

describe('hard links', () => {
  it('refuses a file hard-linked to a file outside the output', async () => {
    await writeFile(join(fx.root, 'outside'), 'secret');
    await link(join(fx.root, 'outside'), join(fx.out, 'copy'));
    expect(codes(await check())).toEqual(['OUTPUT_HARDLINK_OUTSIDE copy']);
  });

  it('allows hard links within the output', async () => {
    await put('a');
    await link(join(fx.out, 'a'), join(fx.out, 'b'));
    expect(await check()).toEqual([]);
  });
});

describe('symlinks', () => {
  const depEntry = 'k2-zlib-1.3.1';
  const cases: { name: string; link: string; target: () => string; setup?: () => Promise<void>; want: string[] }[] = [
    { name: 'relative, inside', link: 'bin/tool', target: () => '../libexec/tool', setup: () => put('libexec/tool'), want: [] },
    { name: 'to the entry root', link: 'sub/root', target: () => '..', setup: () => mkdir(join(fx.out, 'sub')), want: [] },
    { name: 'dangling but inside (allowed)', link: 'lib/libfoo.so', target: () => 'libfoo.so.1', setup: () => mkdir(join(fx.out, 'lib')), want: [] },
    { name: 'absolute, the entry itself in the sandbox', link: 'tool', target: () => '/store/k1-app-1.0.0/libexec/tool', want: [] },
    { name: 'climbs out and back into the entry', link: 'x', target: () => '../k1-app-1.0.0/share', want: [] },
    { name: 'dependency by its sandbox path', link: 'lib/libz.so', target: () => `/store/${depEntry}/lib/libz.so.1`, want: [] },
    {
      name: 'dependency, relative beside the entry',
      link: 'share/z',
      target: () => `../../${depEntry}/lib`,
      setup: () => mkdir(join(fx.out, 'share')),
      want: [],
    },
    // The link check allows the real store path; relocatability refuses it.
    { name: 'dependency by its real store path', link: 'z', target: () => join(fx.dep.dir, 'lib'), want: ['OUTPUT_PATH_LEAK z'] },
    { name: '/etc/passwd', link: 'passwd', target: () => '/etc/passwd', want: ['OUTPUT_LINK_ESCAPE passwd'] },
    { name: '../../x out of the entry', link: 'up', target: () => '../../x', want: ['OUTPUT_LINK_ESCAPE up'] },
    {
      name: 'host library',
      link: 'lib/libc.so.6',
      target: () => '/usr/lib/x86_64-linux-gnu/libc.so.6',
      setup: () => mkdir(join(fx.out, 'lib')),
      want: ['OUTPUT_LINK_ESCAPE lib/libc.so.6'],
    },
    { name: 'an undeclared store entry', link: 'o', target: () => '/store/k9-other-1.0/bin', want: ['OUTPUT_LINK_ESCAPE o'] },
    { name: 'a name that only starts like a dependency', link: 'evil', target: () => `/store/${depEntry}-evil/lib`, want: ['OUTPUT_LINK_ESCAPE evil'] },
    { name: 'through the entry path, then up', link: 'e', target: () => '/store/k1-app-1.0.0/../../etc', want: ['OUTPUT_LINK_ESCAPE e'] },
    { name: 'through the dependency, then up', link: 'e', target: () => `/store/${depEntry}/../../etc`, want: ['OUTPUT_LINK_ESCAPE e'] },
    {
      name: 'a chain: dot -> ., up -> dot/../..',
      link: 'up',
      target: () => 'dot/../..',
      setup: () => symlink('.', join(fx.out, 'dot')),
      want: ['OUTPUT_LINK_ESCAPE up'],
    },
    {
      // Lexically d/s/../x is d/x; really d/s is the root, so .. leaves the entry.
      name: 'a chain that looks inside lexically',
      link: 'lnk',
      target: () => 'd/s/../x',
      setup: async () => {
        await mkdir(join(fx.out, 'd'));
        await symlink('..', join(fx.out, 'd/s'));
      },
      want: ['OUTPUT_LINK_ESCAPE lnk'],
    },
    { name: 'a loop', link: 'l1', target: () => 'l2', setup: () => symlink('l1', join(fx.out, 'l2')), want: ['OUTPUT_LINK_LOOP l1', 'OUTPUT_LINK_LOOP l2'] },
    { name: 'the build folder', link: 'b', target: () => join(fx.buildDir, 'out', 'x'), want: ['OUTPUT_LINK_ESCAPE b', 'OUTPUT_PATH_LEAK b'] },
  ];
  it.each(cases)('$name', async ({ link: rel, target, setup, want }) => {
    await setup?.();
    await mkdir(join(fx.out, rel, '..'), { recursive: true });
    await symlink(target(), join(fx.out, rel));
    expect(codes(await check())).toEqual(want);
  });

  it('names the link and its target', async () => {
    await symlink('/etc/passwd', join(fx.out, 'passwd'));
    const [p] = await check();
    expect(p!.message).toBe('the symlink "passwd" -> "/etc/passwd" leads to "/etc/passwd", outside the entry and its declared dependencies');
    expect(p!.hint).toMatch(/declare the dependency/);
  });

  it('accepts a dependency by its real path when it has no sandbox path (relative, beside the entry)', async () => {
    await symlink(`../${depEntry}/lib`, join(fx.out, 'z'));
    const opts = { ...fx.opts, deps: [{ name: 'zlib', dir: fx.dep.dir }] };
    expect(await checkOutput(fx.out, opts)).toEqual([]);
  });
});

describe('relocatability: no build folder or store path in the output', () => {
  it('finds the build folder in a text file, with the offset', async () => {
    await put('lib/pkgconfig/z.pc', `prefix=${fx.buildDir}/out\nlibdir=\${prefix}/lib\n`);
    const ps = await check();
    expect(codes(ps)).toEqual(['OUTPUT_PATH_LEAK lib/pkgconfig/z.pc']);
    expect(ps[0]).toMatchObject({ offset: 7 });
    expect(ps[0]!.message).toContain('the build folder');
  });

  it('finds the store path in a binary across the 1 MiB read boundary', async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024, 0xcc);
    const at = 1024 * 1024 - 5;
    bytes.write(fx.storeDir, at, 'utf8');
    bytes.write(fx.storeDir, 2 * 1024 * 1024 + 17, 'utf8');
    await put('bin/big', bytes, 0o755);
    const ps = await check();
    expect(codes(ps)).toEqual(['OUTPUT_PATH_LEAK bin/big']);
    expect(ps[0]).toMatchObject({ offset: at });
    expect(ps[0]!.message).toContain(`at byte ${at}`);
  });

  it('finds the real path when the build folder was given through a symlink', async () => {
    await symlink(fx.root, join(fx.root, '..', `${fx.root.split('/').pop()}-alias`));
    const alias = `${fx.root}-alias`;
    try {
      await put('f', `x ${fx.buildDir} y`); // the real path
      const opts = { ...fx.opts, buildDir: join(alias, 'build'), storeDir: join(alias, 'store') };
      expect(codes(await checkOutput(fx.out, opts))).toEqual(['OUTPUT_PATH_LEAK f']);
    } finally {
      const { rm } = await import('node:fs/promises');
      await rm(alias);
    }
  });

  it('does not flag a path that only shares a prefix', async () => {
    await put('f', `${fx.root}/stor and ${fx.root}/buil`);
    expect(await check()).toEqual([]);
  });
});

describe('every problem at once, and assertOutputOk', () => {
  it('reports each problem, sorted by file', async () => {
    await put('z-leak', fx.storeDir);
    await symlink('/etc/passwd', join(fx.out, 'a-link'));
    execFileSync('mkfifo', [join(fx.out, 'm-fifo')]);
    await put('su', 'x');
    await chmod(join(fx.out, 'su'), 0o4755);
    expect(codes(await check())).toEqual(['OUTPUT_LINK_ESCAPE a-link', 'OUTPUT_SPECIAL_FILE m-fifo', 'OUTPUT_MODE_BITS su', 'OUTPUT_PATH_LEAK z-leak']);
  });

  it('throws one IntactError with the first code, listing the first five', async () => {
    for (let i = 0; i < 7; i++) await symlink('/etc/passwd', join(fx.out, `l${i}`));
    const e = await assertOutputOk(fx.out, fx.opts).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(IntactError);
    expect(e).toMatchObject({ code: 'OUTPUT_LINK_ESCAPE', file: join(fx.out, 'l0') });
    const msg = (e as IntactError).message;
    expect(msg).toContain('k1-app-1.0.0 failed 7 checks');
    expect(msg).toContain('"l4"');
    expect(msg).not.toContain('"l5"');
    expect(msg).toContain('and 2 more');
  });

  it('reports names that are not UTF-8 as they are', async () => {
    const name = Buffer.concat([Buffer.from(fx.out), Buffer.from('/bad-\xff', 'latin1')]);
    await writeFile(name, fx.buildDir);
    const ps = await check();
    expect(ps.map((p) => p.code)).toEqual(['OUTPUT_PATH_LEAK']);
  });
});
