// Defect classes of a store after a crash or on a hostile disk: temps of dead
// processes never swept (nor removed by gc, nor reported by verify --store);
// a half-published, writable entry; a lock wait that said nothing and never
// ended; a read-only store or a full disk reported as INTERNAL; `ulimit -f`
// killing intact silently with its temps left.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IntactError } from '../../src/errors.js';
import { layoutOf } from '../../src/store/paths.js';
import { lockKey } from '../../src/store/lock.js';
import { HOST } from '../../src/temp-name.js';
import { CLI, cleanupProjects } from '../helpers/project.js';
import { faultProject, tempsIn } from './fault-project.js';

afterEach(cleanupProjects);

/** A PID that was alive a moment ago and is not any more. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

/** Whether this machine lets a test make a private mount namespace (root, or user namespaces). */
const canUnshare = spawnSync('unshare', ['-rm', 'true']).status === 0 || spawnSync('unshare', ['-m', 'true']).status === 0;
const unshareArgs = spawnSync('unshare', ['-m', 'true']).status === 0 ? ['-m'] : ['-rm'];

/** Run a program without blocking this process (the test's HTTP server lives here), killed after 60 s. */
function run(file: string, args: string[], cwd: string): Promise<{ status: number | null; signal: NodeJS.Signals | null; out: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env: { PATH: process.env['PATH'] ?? '', HOME: '/nonexistent', NO_COLOR: '1', CI: '' }, timeout: 60_000 });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => ((stderr += b.toString()), (out += b.toString())));
    child.on('close', (status, signal) => resolve({ status, signal, out, stderr }));
  });
}

/** Run a shell script in a private mount namespace (mounts vanish with it). */
function inMountNs(script: string, cwd: string) {
  return run('unshare', [...unshareArgs, 'sh', '-c', script], cwd);
}

describe('crash leftovers', () => {
  it('every run sweeps what dead processes left, gc removes it and verify --store reports it', async () => {
    const p = await faultProject();
    expect((await p.run(['lock'])).code).toBe(0);
    expect((await p.run(['install', '--sandbox=off'])).code).toBe(0);
    const plant = () => {
      const pid = deadPid();
      const s = layoutOf(p.store);
      writeFileSync(join(s.tmp, `dl-${HOST}-${pid}-0123456789abcdef.part`), 'x');
      writeFileSync(join(s.tmp, `meta-${HOST}-${pid}-0123456789ab`), 'x');
      writeFileSync(join(s.tmp, `files-${HOST}-${pid}-0123456789ab`), 'x');
      mkdirSync(join(s.tmp, `cache-${HOST}-${pid}-abcdef-unpack-pkg/a`), { recursive: true });
      mkdirSync(join(s.tmp, `build-${HOST}-${pid}-pkg-abcd/src`), { recursive: true });
      writeFileSync(join(s.logs, `.pkg.last.${pid}.0123abcd.${HOST}.tmp`), 'x');
      mkdirSync(join(s.locks, 'k'.repeat(32) + '.lock'));
      writeFileSync(join(s.locks, 'k'.repeat(32)), `${HOST} ${pid}\n`);
      writeFileSync(join(p.dir, `.intact.lock.${pid}.0123abcd.tmp`), '{}');
    };
    plant();
    const v = await p.run(['verify', '--store']);
    expect((v.stdout + v.stderr).match(/STORE_LEFTOVER/g)?.length).toBe(7);
    expect((await p.run(['install', '--sandbox=off'])).code).toBe(0);
    expect(tempsIn(p.store)).toEqual([]);
    expect((await p.run(['lock'])).code).toBe(0);
    expect(readdirSync(p.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    plant();
    expect((await p.run(['gc'])).code).toBe(0);
    expect(tempsIn(p.store)).toEqual([]);
    const clean = await p.run(['verify', '--store']);
    expect(clean.stdout + clean.stderr).not.toMatch(/STORE_LEFTOVER|STORE_ENTRY_WRITABLE/);
  }, 60_000);

  it('finishes a half-published entry (writable, no seal) on the next run', async () => {
    const p = await faultProject();
    expect((await p.run(['lock'])).code).toBe(0);
    expect((await p.run(['install', '--sandbox=off'])).code).toBe(0);
    const entry = readdirSync(p.store).find((n) => /^[0-9a-z]{32}-pkg-1\.0\.0$/.test(n))!;
    chmodSync(join(p.store, entry), 0o755);
    for (const n of readdirSync(join(p.store, 'meta'))) if (n.endsWith('.seal')) rmSync(join(p.store, 'meta', n));
    const before = await p.run(['verify', '--store']);
    expect(before.stdout + before.stderr).toMatch(/STORE_ENTRY_WRITABLE/);
    expect((await p.run(['install', '--sandbox=off'])).code).toBe(0);
    const after = await p.run(['verify', '--store']);
    expect(after.code).toBe(0);
    expect(after.stdout + after.stderr).not.toMatch(/STORE_ENTRY_WRITABLE/);
  }, 60_000);
});

describe('lock wait', () => {
  it('names the holder at once and gives up after the wait limit with what to do', async () => {
    const p = await faultProject();
    const store = layoutOf(p.store);
    const release = await lockKey(store, 'a'.repeat(32));
    try {
      // "At once": the holder is named before the wait ends in its error.
      const order: string[] = [];
      const e = await lockKey(store, 'a'.repeat(32), (holder) => order.push(`holder ${holder}`), 600).catch((x: unknown) => {
        order.push('gave up');
        return x as IntactError;
      });
      expect(order).toHaveLength(2);
      expect(order[0]).toContain(String(process.pid));
      expect(order[1]).toBe('gave up');
      expect((e as IntactError).code).toBe('STORE_LOCK_TIMEOUT');
      expect((e as IntactError).message).toContain(String(process.pid));
      expect((e as IntactError).hint).toMatch(/INTACT_LOCK_TIMEOUT/);
    } finally {
      await release();
    }
  });

  it('takes over at once a lock whose holder of this host is dead', async () => {
    const p = await faultProject();
    const store = layoutOf(p.store);
    mkdirSync(store.locks, { recursive: true });
    mkdirSync(join(store.locks, `${'b'.repeat(32)}.lock`));
    writeFileSync(join(store.locks, 'b'.repeat(32)), `${HOST} ${deadPid()}\n`);
    // No waiting on a dead holder: nobody is ever named as holding it.
    const holders: string[] = [];
    const release = await lockKey(store, 'b'.repeat(32), (h) => holders.push(h), 5000);
    expect(holders).toEqual([]);
    await release();
  });
});

describe.skipIf(!canUnshare)('a hostile disk', () => {
  it('a no-op install on a read-only store exits 0; one that must write says STORE_READ_ONLY', async () => {
    const p = await faultProject();
    expect((await p.run(['lock'])).code).toBe(0);
    expect((await p.run(['install', '--sandbox=off'])).code).toBe(0);
    const ro = `mount --bind ${p.store} ${p.store} && mount -o remount,bind,ro ${p.store} &&`;
    const noop = await inMountNs(`${ro} ${process.execPath} ${CLI} install --sandbox=off; echo rc=$?`, p.dir);
    expect(noop.out).toContain('rc=0');
    writeFileSync(join(p.dir, 'recipes/pkg.yaml'), `${readFileSync(join(p.dir, 'recipes/pkg.yaml'), 'utf8')}bin: []\n`);
    expect((await p.run(['lock'])).code).toBe(0);
    const build = await inMountNs(`${ro} ${process.execPath} ${CLI} install --sandbox=off; echo rc=$?`, p.dir);
    expect(build.out).toContain('rc=1');
    expect(build.out).toContain('STORE_READ_ONLY');
    expect(build.out).not.toContain('INTERNAL');
  }, 60_000);

  it('a full disk during a download and during a build says DISK_FULL and leaves no temp', async () => {
    const p = await faultProject({ big: 1024 * 1024 });
    expect((await p.run(['lock'])).code).toBe(0);
    // 1.5 MiB: the 1 MiB download fits; unpacking it beside it does not.
    const r = await inMountNs(
      `mount -t tmpfs -o size=1536k tmpfs ${p.store} && ${process.execPath} ${CLI} install --sandbox=off; echo rc=$?; echo temps:; ls -A ${p.store}/tmp`,
      p.dir,
    );
    expect(r.out).toContain('rc=1');
    expect(r.out).toContain('DISK_FULL');
    expect(r.out).not.toContain('INTERNAL');
    expect(r.out.split('temps:')[1]!.trim()).toBe('');
    // 0.5 MiB: the download itself fills the disk.
    const d = await inMountNs(
      `mount -t tmpfs -o size=512k tmpfs ${p.store} && ${process.execPath} ${CLI} install --sandbox=off; echo rc=$?; echo temps:; ls -A ${p.store}/tmp`,
      p.dir,
    );
    expect(d.out).toContain('DISK_FULL');
    expect(d.out.split('temps:')[1]!.trim()).toBe('');
  }, 60_000);
});

describe('ulimit -f', () => {
  it('gives FILE_SIZE_LIMIT, not a silent death, and leaves no temp file', async () => {
    const p = await faultProject();
    expect((await p.run(['lock'])).code).toBe(0);
    rmSync(join(p.store, 'cache'), { recursive: true, force: true });
    const r = await run('sh', ['-c', `ulimit -f 1024; exec ${process.execPath} ${CLI} install --sandbox=off`], p.dir);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('FILE_SIZE_LIMIT');
    expect(existsSync(join(p.store, 'tmp')) ? readdirSync(join(p.store, 'tmp')) : []).toEqual([]);
  }, 60_000);
});
