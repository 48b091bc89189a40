// The C set of examples/c, end to end (issue 13): as an unprivileged user, from
// an empty store, the bootstrap (Zig and Debian's static busybox as the only
// prebuilt seeds; make, busybox twice), the target runtime, zlib and xz for
// linux-x64 and, cross-built, for linux-arm64. The arm64 xz runs under
// qemu-user (no binfmt, no root); busybox's second stage must equal its first
// bit for bit (that is its rebuild check: it is never built a third time);
// xz passes `verify --rebuild`; no output holds a host path or an interpreter.
//
// Slow (the bootstrap compiles busybox twice and musl's libc for two targets)
// and online (pinned sources from the npm registry and the Debian archive), so
// it runs only with INTACT_E2E_C=1: `npm run test:c`, which .ci/run runs in
// its first pass. All its tests share one store.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readElf } from '../../src/build/checks/index.js';
import { removeTree } from '../../src/store/remove-tree.js';
import { REPO } from '../helpers/project.js';
import { asRoot, runAsUser } from '../helpers/as-nobody.js';

const exec = promisify(execFile);
const enabled = process.env['INTACT_E2E_C'] === '1';

let work: string;
let project: string;
let store: string;
let home: string;
const seconds: Record<string, number> = {};

const asUser = (cmd: string, args: string[]) => runAsUser(cmd, args, { cwd: project, home, tmp: join(work, 'tmp'), env: { CI: 'true' } });

/** Runs intact (--store first: after `verify` it would mean --store-check); records the whole command's seconds as `stage`, and each build's own ("built NAME (N s)"). */
async function intact(args: string[], stage?: string): Promise<string> {
  const t = Date.now();
  const { stdout, stderr } = await asUser(process.execPath, [join(REPO, 'bin/intact.js'), '--store', store, ...args]);
  if (stage) {
    seconds[stage] = (Date.now() - t) / 1000;
    for (const m of `${stdout}\n${stderr}`.matchAll(/^built (\S+) \(([\d.]+) s\)$/gm)) seconds[`${stage}: ${m[1]}`] = Number(m[2]);
  }
  return stdout;
}

interface Meta {
  key: string;
  name: string;
  version: string;
  platform: string;
  output: string;
}

async function entries(): Promise<(Meta & { dir: string })[]> {
  const present = new Set(await readdir(store));
  const out: (Meta & { dir: string })[] = [];
  for (const f of (await readdir(join(store, 'meta'))).filter((n) => n.endsWith('.json'))) {
    const m = JSON.parse(await readFile(join(store, 'meta', f), 'utf8')) as Meta;
    const dir = `${m.key}-${m.name}-${m.version}`;
    if (present.has(dir)) out.push({ ...m, dir: join(store, dir) });
  }
  return out;
}

async function entry(name: string, platform: string): Promise<string> {
  const found = (await entries()).filter((e) => e.name === name && e.platform === platform);
  expect(found, `${name} for ${platform}`).toHaveLength(1);
  return found[0]!.dir;
}

describe.skipIf(!enabled)(`the C set of examples/c, end to end${enabled ? '' : ' (skipped: slow and online; `npm run test:c` runs it)'}`, () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'intact-c-'));
    project = join(work, 'c');
    store = join(work, 'store');
    home = join(work, 'home');
    await Promise.all([mkdir(home), mkdir(store), mkdir(join(work, 'tmp'))]);
    // The example as a clone has it: only what git tracks.
    const { stdout } = await exec('git', ['ls-files', '-z', 'examples/c'], { cwd: REPO });
    for (const f of stdout.split('\0').filter(Boolean)) await cp(join(REPO, f), join(project, f.slice('examples/c/'.length)), { recursive: true });
    if (asRoot) await exec('chown', ['-R', '65534:65534', work]);
  });

  afterAll(async () => {
    // eslint-disable-next-line no-console
    console.log(`C set, cold seconds by stage: ${JSON.stringify(seconds)}`);
    if (work) await removeTree(work);
  });

  it('bootstraps and installs the set for linux-x64 from an empty store, unprivileged, in the full sandbox', async () => {
    // One install, as a user would run it: the bootstrap comes in as tools.
    // (Installing each stage by name would put both busyboxes on the profile.)
    const out = await intact(['install', 'xz', 'zlib', 'qemu-user'], 'x64');
    for (const r of ['zig-runtime', 'make', 'busybox-stage1', 'busybox', 'stdenv', 'zlib', 'xz']) expect(seconds[`x64: ${r}`], r).toBeGreaterThan(0);
    expect(out).toContain('sandbox full');
    // The programs asked for, and no build tool: the seed busybox and its rebuilds stay off.
    expect(out).toMatch(/on \.intact\/bin: qemu-aarch64-static, xz$/m);
    const xz = await asUser(join(project, '.intact/bin/xz'), ['--version']);
    expect(xz.stdout).toContain('xz (XZ Utils) 5.4.1');
  }, 3_600_000);

  it('busybox built by its own first stage equals that first stage bit for bit', async () => {
    const all = await entries();
    const [one] = all.filter((e) => e.name === 'busybox-stage1');
    const [two] = all.filter((e) => e.name === 'busybox');
    expect(two!.key).not.toBe(one!.key);
    expect(two!.output).toBe(one!.output);
  });

  it('cross-builds zlib and xz for linux-arm64, and the arm64 xz runs under qemu-user', async () => {
    await intact(['install', 'xz', 'zlib', '--platform', 'linux-arm64'], 'arm64');
    const arm = await entry('xz', 'linux-arm64');
    expect((await readElf(join(arm, 'bin/xz'))).machine).toBe(183); // EM_AARCH64
    const qemu = join(await entry('qemu-user', 'linux-x64'), 'bin/qemu-aarch64-static');
    expect((await asUser(qemu, [join(arm, 'bin/xz'), '--version'])).stdout).toContain('xz (XZ Utils) 5.4.1');
    // A real round trip, across the two builds: arm64 compresses, x64 decompresses, and back.
    const text = `${'intact builds C from source. '.repeat(4000)}\n`;
    const input = join(work, 'tmp', 'input.txt');
    await writeFile(input, text);
    if (asRoot) await exec('chown', ['65534:65534', input]);
    const x64 = join(await entry('xz', 'linux-x64'), 'bin/xz');
    await asUser(qemu, [join(arm, 'bin/xz'), '-9', '-k', input]);
    const packed = await readFile(`${input}.xz`);
    expect(packed.length).toBeLessThan(text.length / 20);
    expect((await asUser(x64, ['-dc', `${input}.xz`])).stdout).toBe(text);
    await asUser(x64, ['-f', '-e', input]);
    expect((await asUser(qemu, [join(arm, 'bin/xz'), '-dc', `${input}.xz`])).stdout).toBe(text);
  }, 3_600_000);

  it('no output holds a host path or a dynamic interpreter', async () => {
    const needles = [store, work, REPO].map((p) => Buffer.from(p));
    for (const e of (await entries()).filter((x) => ['zlib', 'xz', 'busybox', 'make'].includes(x.name))) {
      const { stdout } = await exec('find', [e.dir, '-type', 'f']);
      for (const f of stdout.split('\n').filter(Boolean)) {
        const bytes = await readFile(f);
        for (const n of needles) expect(bytes.includes(n), `${f} holds ${n}`).toBe(false);
        if (bytes.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'))) {
          const elf = await readElf(f);
          expect(elf.interpreter, f).toBeUndefined();
          expect(elf.isStatic, f).toBe(true);
        }
      }
    }
  });

  it('xz passes verify --rebuild bit for bit', async () => {
    // --json: NDJSON progress events, then the result on the last line (docs/errors.md).
    const lines = (await intact(['--json', 'verify', '--rebuild', 'xz'], 'verify-rebuild-xz')).trim().split('\n');
    const out = JSON.parse(lines[lines.length - 1]!) as {
      ok: boolean;
      rebuild: { recipe: string; ok: boolean }[];
    };
    expect(out.rebuild.find((c) => c.recipe === 'xz')).toMatchObject({ ok: true });
    expect(out.ok).toBe(true);
  }, 3_600_000);
});
