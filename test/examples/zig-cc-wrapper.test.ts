// examples/c's cc wrapper (files/zig-cc/zig-cc.sh), run by the suite's static
// busybox with a stand-in for zig that prints the argv it gets: the rewrites
// Zig needs (Kbuild's -Wp,-MD, GNU ld's flags), the one runtime variant every
// link is brought to, and the private copy of the runtime cache.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/project.js';
import { busybox } from '../helpers/static-bin.js';

const exec = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'intact-zig-cc-'));
  const bb = busybox();
  // The stand-in for zig: one argument per line, then where the cache is.
  await writeFile(join(dir, 'zig'), `#!${bb} sh\nfor a; do echo "$a"; done\necho "cache=$ZIG_GLOBAL_CACHE_DIR"\n`);
  await chmod(join(dir, 'zig'), 0o755);
  await mkdir(join(dir, 'runtime/x86_64-linux-musl/o'), { recursive: true });
  await writeFile(join(dir, 'runtime/x86_64-linux-musl/o/libc.a'), 'libc');
  await chmod(join(dir, 'runtime/x86_64-linux-musl/o/libc.a'), 0o444);
  const script = (await readFile(join(REPO, 'examples/c/files/zig-cc/zig-cc.sh'), 'utf8'))
    .replaceAll('@ZIG@', join(dir, 'zig'))
    .replaceAll('@RUNTIME@', join(dir, 'runtime'));
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin/zig-cc'), script);
  for (const n of ['cc', 'ld', 'x86_64-linux-musl-cc', 'aarch64-linux-musl-ar']) await symlink('zig-cc', join(dir, 'bin', n));
  await mkdir(join(dir, 'tmp'));
  // The wrapper's own tools (mkdir, sleep, cp, ...) come from busybox, as in stdenv's bin/.
  await mkdir(join(dir, 'tools'));
  for (const n of ['mkdir', 'rmdir', 'sleep', 'cp', 'chmod', 'mv']) await symlink(bb, join(dir, 'tools', n));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function wrap(name: string, args: string[]): Promise<string[]> {
  const { stdout } = await exec(busybox(), ['sh', join(dir, 'bin', name), ...args], {
    env: { PATH: join(dir, 'tools'), TMPDIR: join(dir, 'tmp'), INTACT_BUILD_PLATFORM: 'linux-x64' },
  });
  return stdout.trimEnd().split('\n');
}

describe('examples/c zig-cc wrapper', () => {
  it("rewrites -Wp,-MD,<file> and drops the GNU ld flags Zig rejects, keeping a compile's -g and -Os", async () => {
    const argv = await wrap('x86_64-linux-musl-cc', ['-Wp,-MD,dep.d', '-Os', '-g', '-c', 'a b.c', '-o', 'a.o']);
    expect(argv.slice(0, -1)).toEqual(['cc', '-target', 'x86_64-linux-musl', '-MD', '-MF', 'dep.d', '-Os', '-g', '-c', 'a b.c', '-o', 'a.o']);
  });

  it('brings a link of objects to the runtime variant zig-runtime holds: -O2, no -g, no LTO', async () => {
    const argv = await wrap('cc', [
      '-Os',
      '-g',
      '-fomit-frame-pointer',
      '-o',
      'busybox',
      'a.o',
      'b.a',
      '-Wl,--warn-common',
      '-Wl,--sort-common',
      '-Wl,--sort-section,alignment',
      '-Wl,-Map,bb.map',
      '-Wl,--verbose',
      '-Wl,--gc-sections',
    ]);
    expect(argv.slice(0, -1)).toEqual(['cc', '-target', 'x86_64-linux-musl', '-o', 'busybox', 'a.o', 'b.a', '-Wl,--gc-sections', '-fno-lto', '-O2']);
  });

  it("keeps a compile-and-link's -O for its own code, without -g and LTO", async () => {
    const argv = await wrap('cc', ['-g', '-O3', '-fno-omit-frame-pointer', 'conftest.c', '-o', 'conftest']);
    expect(argv.slice(0, -1)).toEqual(['cc', '-target', 'x86_64-linux-musl', '-O3', 'conftest.c', '-o', 'conftest', '-fno-lto']);
  });

  it("passes ar through for the target its name says, and ld to lld (Kbuild's ld -r)", async () => {
    const argv = await wrap('aarch64-linux-musl-ar', ['rcs', 'libz.a', 'a.o']);
    expect(argv.slice(0, -1)).toEqual(['ar', 'rcs', 'libz.a', 'a.o']);
    expect((await wrap('ld', ['-r', '-o', 'built-in.o', 'a.o'])).slice(0, -1)).toEqual(['ld.lld', '-r', '-o', 'built-in.o', 'a.o']);
  });

  it("compiles with a private, writable copy of the target's runtime cache, made once", async () => {
    const argv = await wrap('cc', ['-c', 'x.c']);
    const cache = join(dir, 'tmp/zig-runtime/x86_64-linux-musl');
    expect(argv.at(-1)).toBe(`cache=${cache}`);
    expect(await readFile(join(cache, 'o/libc.a'), 'utf8')).toBe('libc');
    expect((await stat(join(cache, 'o/libc.a'))).mode & 0o200).toBe(0o200);
    await writeFile(join(cache, 'o/marker'), 'kept');
    await wrap('cc', ['-c', 'y.c']);
    expect(await readFile(join(cache, 'o/marker'), 'utf8')).toBe('kept');
    // A link takes the cache's link lock and leaves it free.
    await wrap('cc', ['-o', 'x', 'x.o']);
    await expect(stat(`${cache}.link`)).rejects.toThrow(/ENOENT/);
  });
});
