// The full sandbox, checked from inside with a static `inspect` program: what a
// build step can see, write and reach. Runs as whoever runs the tests (root here;
// sandbox-unprivileged.test.ts repeats the key checks as uid 65534).
import { copyFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeSandbox, runStep } from '../../src/build/sandbox/index.js';
import { execFull, fullTools } from '../../src/build/sandbox/run-step.js';
import { SETUP_SCRIPT } from '../../src/build/sandbox/setup-script.js';
import { findTools } from '../../src/build/sandbox/tools.js';
import type { Mount, StepProcess } from '../../src/build/types.js';
import { fullSandboxSkip, skippedBecause } from '../helpers/sandbox-skip.js';
import { alive, busybox, inspectBin, parseInspect, stillGrowing } from '../helpers/static-bin.js';

let dir: string;
let mounts: Mount[];
let server: Server;
let port: number;
const T = '/store/tools/inspect';
const BB = '/store/bb/busybox';

async function run(
  argv: string[],
  o: Partial<StepProcess> = {},
): Promise<{ out: string; facts: Map<string, string[]>; exitCode: number | null; signal: string | null }> {
  let out = '';
  const r = await runStep({ argv, env: { PATH: '/store/tools' }, cwd: '/build', mounts, log: (b) => (out += b.toString('utf8')), ...o }, 'full');
  return { out, facts: parseInspect(out), ...r };
}

beforeAll(async () => {
  const inspect = await inspectBin();
  dir = await mkdtemp(join(tmpdir(), 'intact-sandbox-test-'));
  await mkdir(join(dir, 'build', 'sub'), { recursive: true });
  await mkdir(join(dir, 'dep'));
  await writeFile(join(dir, 'dep', 'hello'), 'hello\n');
  await chmod(join(dir, 'dep'), 0o555);
  await mkdir(join(dir, 'bb'));
  await copyFile(busybox(), join(dir, 'bb', 'busybox'));
  await writeFile(join(dir, 'host-only'), 'secret');
  mounts = [
    { real: join(dir, 'build'), inside: '/build', writable: true },
    { real: join(dir, 'dep'), inside: '/store/dep', writable: false },
    { real: dirname(inspect), inside: '/store/tools', writable: false },
    { real: join(dir, 'bb'), inside: '/store/bb', writable: false },
  ];
  server = createServer((s) => {
    s.on('error', () => undefined);
    s.end('hello from the host\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server?.close();
  await chmod(join(dir, 'dep'), 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(fullSandboxSkip() !== undefined)(`the full sandbox${skippedBecause(fullSandboxSkip())}`, () => {
  it('is available on this machine', async () => {
    const probe = await probeSandbox();
    expect(probe.reasons.join('; ')).toBe('');
    expect(probe.level).toBe('full');
  });

  it('shows only its mounts: no host /usr, /lib, /bin, /etc/passwd or anything else', async () => {
    const hostPaths = [
      '/usr',
      '/lib',
      '/lib64',
      '/bin',
      '/sbin',
      '/home',
      '/root',
      '/var',
      '/opt',
      '/run',
      '/sys',
      '/etc/shadow',
      '/etc/resolv.conf',
      join(dir, 'host-only'),
      dir,
    ];
    const { facts, exitCode } = await run([
      T,
      ...hostPaths.map((p) => `exists:${p}`),
      'exists:/store/tools/inspect',
      'cat:/etc/passwd',
      'cat:/store/dep/hello',
      'exists:/dev/sda',
      'exists:/dev/kmsg',
    ]);
    expect(exitCode).toBe(0);
    for (const p of hostPaths) expect(facts.get(`exists:${p}`), p).toEqual(['no']);
    expect(facts.get('exists:/store/tools/inspect')).toEqual(['yes']);
    expect(facts.get('cat:/store/dep/hello')).toEqual(['hello\n'.trimEnd()]);
    expect(facts.get('exists:/dev/sda')).toEqual(['no']);
    expect(facts.get('exists:/dev/kmsg')).toEqual(['no']);
    // Ours, not the host's: fixed users, nobody's real name or home.
    expect(facts.get('cat:/etc/passwd')).toEqual([
      'root:x:0:0:root:/nonexistent:/nonexistent',
      'build:x:1000:1000:intact build:/nonexistent:/nonexistent',
      'nobody:x:65534:65534:nobody:/nonexistent:/nonexistent',
    ]);
  });

  it('mounts dependencies read-only and the build folder writable', async () => {
    const { facts } = await run([
      T,
      'write:/store/dep/new',
      'write:/store/dep/hello',
      'write:/store/tools/x',
      'write:/build/made-inside',
      'write:/',
      'write:/new-at-root',
      'write:/etc/passwd',
      'write:/tmp/scratch',
    ]);
    expect(facts.get('write:/store/dep/new')).toEqual(['EROFS']);
    expect(facts.get('write:/store/dep/hello')).toEqual(['EROFS']);
    expect(facts.get('write:/store/tools/x')).toEqual(['EROFS']);
    expect(facts.get('write:/new-at-root')).toEqual(['EROFS']);
    expect(facts.get('write:/etc/passwd')).toEqual(['EROFS']);
    expect(facts.get('write:/tmp/scratch')).toEqual(['ok']);
    expect(facts.get('write:/build/made-inside')).toEqual(['ok']);
    await expect(readFile(join(dir, 'build', 'made-inside'), 'utf8')).resolves.toBe('');
    await expect(readFile(join(dir, 'dep', 'hello'), 'utf8')).resolves.toBe('hello\n');
  });

  it('gives each step a fresh /tmp', async () => {
    await run([T, 'write:/tmp/left-behind']);
    const { facts } = await run([T, 'exists:/tmp/left-behind']);
    expect(facts.get('exists:/tmp/left-behind')).toEqual(['no']);
  });

  it("has no network: the host's loopback is unreachable and no interface is up", async () => {
    const { facts } = await run([T, `connect:127.0.0.1:${port}`, 'ifaces']);
    expect(facts.get(`connect:127.0.0.1:${port}`)![0]).not.toBe('ok');
    const ifaces = [...facts.keys()].filter((k) => k.startsWith('iface:'));
    expect(ifaces).toEqual(['iface:lo']);
    expect(facts.get('iface:lo')).toEqual(['down']);
  });

  it('the same connection works without a sandbox, so the check above means something', async () => {
    const inspect = await inspectBin();
    let out = '';
    await runStep({ argv: [inspect, `connect:127.0.0.1:${port}`], env: {}, cwd: dir, mounts: [], log: (b) => (out += b) }, 'none');
    expect(parseInspect(out).get(`connect:127.0.0.1:${port}`)).toEqual(['ok']);
  });

  it('runs the step as PID 1 of its own PID namespace, with a fresh /proc and the hostname "intact"', async () => {
    const { facts } = await run([T, 'ids', 'procs', 'hostname', `exists:/proc/${process.pid}`, 'cat:/proc/1/cmdline']);
    expect(facts.get('pid')).toEqual(['1']);
    expect(facts.get('procs')).toEqual(['1']);
    expect(facts.get(`exists:/proc/${process.pid}`)).toEqual(['no']);
    expect(facts.get('hostname')).toEqual(['intact']);
  });

  it('sets another hostname when the step asks for one (verify --rebuild varies it)', async () => {
    const { facts } = await run([T, 'hostname'], { hostname: 'intact-rebuild' });
    expect(facts.get('hostname')).toEqual(['intact-rebuild']);
  });

  it('runs the step as uid 1000 without capabilities, so it cannot chroot out (chroot escape)', async () => {
    const { facts } = await run([T, 'ids', 'caps', 'chroot:/build', 'unshare-user']);
    expect(facts.get('uid')).toEqual(['1000']);
    expect(facts.get('gid')).toEqual(['1000']);
    expect(facts.get('capeff')).toEqual(['0000000000000000']);
    expect(facts.get('chroot:/build')).toEqual(['EPERM']);
    // The kernel refuses new user namespaces to a chrooted process: no way back to capabilities.
    expect(facts.get('unshare-user')).toEqual(['EPERM']);
  });

  it('passes exactly the given environment and working folder', async () => {
    process.env.INTACT_CANARY = 'must-not-leak';
    try {
      const env = { PATH: '/store/tools', HOME: '/homeless', ODD: "a=b c $(x) `y` 'z'", EMPTY: '' };
      const { facts } = await run([T, 'env', 'cwd'], { env, cwd: '/build/sub' });
      expect(facts.get('env')!.sort()).toEqual(
        Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .sort(),
      );
      expect(facts.get('cwd')).toEqual(['/build/sub']);
    } finally {
      delete process.env.INTACT_CANARY;
    }
  });

  it("finds a bare tool name in the step's own PATH inside the sandbox", async () => {
    const { facts, exitCode } = await run(['inspect', 'cwd'], { env: { PATH: '/store/tools' }, cwd: '/' });
    expect(exitCode).toBe(0);
    expect(facts.get('cwd')).toEqual(['/']);
  });

  it('gives the step a minimal /dev', async () => {
    const { facts } = await run([
      T,
      'write:/dev/null',
      'read:/dev/zero',
      'read:/dev/urandom',
      'read:/dev/random',
      'exists:/dev/fd',
      'exists:/dev/stdout',
      'write:/dev/shm/x',
      'write:/dev/new',
    ]);
    expect(facts.get('write:/dev/null')).toEqual(['ok']);
    expect(facts.get('read:/dev/zero')).toEqual(['ok']);
    expect(facts.get('read:/dev/urandom')).toEqual(['ok']);
    expect(facts.get('exists:/dev/fd')).toEqual(['yes']);
    expect(facts.get('exists:/dev/stdout')).toEqual(['yes']);
    expect(facts.get('write:/dev/shm/x')).toEqual(['ok']);
    expect(facts.get('write:/dev/new')).toEqual(['EROFS']);
  });

  it('runs a shell script step (busybox) with pipes, redirections and background jobs', async () => {
    const script = 'echo out; echo err >&2; echo piped | cat > /build/piped; cat /store/dep/hello & wait; ls / | tr "\\n" " "; echo; ps -o pid,args | wc -l';
    const { out, exitCode } = await run([BB, 'sh', '-c', `${BB} mkdir /tmp/bin && ${BB} --install -s /tmp/bin && PATH=/tmp/bin && ${script}`]);
    expect(exitCode).toBe(0);
    expect(out).toContain('out\n');
    expect(out).toContain('err\n');
    expect(out).toContain('hello\n');
    expect(out).toContain('build dev etc proc store tmp');
    await expect(readFile(join(dir, 'build', 'piped'), 'utf8')).resolves.toBe('piped\n');
  });

  it('returns the exit status and the signal that ended the step', async () => {
    expect(await run([T, 'exit:3'])).toMatchObject({ exitCode: 3, signal: null });
    expect(await run([T, 'segv'])).toMatchObject({ exitCode: null, signal: 'SIGSEGV' });
  });

  it('kills the whole tree on timeout, even a child that left the process group', async () => {
    const tag = `tag:timeout-${process.pid}-${Date.now()}`;
    // sleep:60000 outlives the test's own timeout: only the step timeout ends it.
    await expect(run([T, tag, 'beat:/build/beat1', 'beat-setsid:/build/beat2', 'sleep:60000'], { timeoutMs: 700 })).rejects.toMatchObject({
      code: 'STEP_TIMEOUT',
    });
    expect(await alive(tag)).toEqual([]);
    expect(await stillGrowing(join(dir, 'build', 'beat1'))).toBe(false);
    expect(await stillGrowing(join(dir, 'build', 'beat2'))).toBe(false);
  });

  it('kills the whole tree of a busybox shell on abort', async () => {
    const ac = new AbortController();
    const marker = `60${Date.now() % 100000}.5`;
    setTimeout(() => ac.abort(new Error('user pressed ^C')), 500);
    await expect(run([BB, 'sh', '-c', `${BB} sleep ${marker} & ${BB} sleep ${marker}`], { signal: ac.signal })).rejects.toMatchObject({ code: 'STEP_ABORTED' });
    expect(await alive(marker)).toEqual([]);
  });

  it('refuses to start when already aborted', async () => {
    await expect(run([T], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'STEP_ABORTED' });
  });

  it('names a missing tool, a host tool and a missing working folder', async () => {
    await expect(run(['/store/tools/no-such-tool'])).rejects.toMatchObject({
      code: 'STEP_TOOL_MISSING',
      message: expect.stringContaining('/store/tools/no-such-tool'),
    });
    await expect(run(['/usr/bin/env'])).rejects.toMatchObject({ code: 'STEP_TOOL_MISSING', message: expect.stringContaining('inside the sandbox') });
    await expect(run(['make'], { env: { PATH: '/store/tools' } })).rejects.toMatchObject({
      code: 'STEP_TOOL_MISSING',
      message: expect.stringContaining('PATH=/store/tools'),
    });
    await expect(run([T], { cwd: '/build/absent' })).rejects.toMatchObject({ code: 'STEP_CWD_MISSING' });
  });

  it('names the host interpreter or loader a program would need (#!/bin/sh, ld-linux)', async () => {
    await writeFile(join(dir, 'build', 'script'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    await copyFile('/usr/bin/true', join(dir, 'build', 'dynamic-true'));
    await chmod(join(dir, 'build', 'dynamic-true'), 0o755);
    await expect(run(['/build/script'])).rejects.toMatchObject({
      code: 'STEP_TOOL_MISSING',
      found: '/bin/sh',
      message: expect.stringContaining('needs /bin/sh'),
    });
    await expect(run(['/build/dynamic-true'])).rejects.toMatchObject({ code: 'STEP_TOOL_MISSING', message: expect.stringMatching(/needs \/lib.*ld-linux/) });
    // An interpreter from a dependency is fine.
    await writeFile(join(dir, 'build', 'bb-script'), `#!${BB} sh\necho "from a busybox script"\n`, { mode: 0o755 });
    const { out, exitCode } = await run(['/build/bb-script']);
    expect(exitCode).toBe(0);
    expect(out).toContain('from a busybox script');
  });

  it('refuses an environment it cannot pass on exactly', async () => {
    await expect(run([T], { env: { 'A=B': 'x' } })).rejects.toMatchObject({ code: 'STEP_ENV_INVALID' });
  });

  it('mounts folders whose names hold spaces, newlines, quotes, `#`, `\\` and shell syntax', async () => {
    const weird = join(dir, 'dep with space\nnewline $(touch pwned) `x` #hash \\back \'q\' "qq"');
    await mkdir(weird);
    await writeFile(join(weird, 'file'), 'weird\n');
    const { facts } = await run([T, 'cat:/store/weird/file', 'write:/store/weird/x'], {
      mounts: [...mounts, { real: weird, inside: '/store/weird', writable: false }],
    });
    expect(facts.get('cat:/store/weird/file')).toEqual(['weird']);
    expect(facts.get('write:/store/weird/x')).toEqual(['EROFS']);
  });

  it('refuses to run the step when a read-only mount turns out writable (defence in depth)', async () => {
    // The real setup script with a `mount` that does nothing: /dev is then an ordinary writable folder.
    const root = join(dir, 'fake-root');
    await mkdir(join(root, 'dev'), { recursive: true });
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('/bin/sh', ['-c', SETUP_SCRIPT, 'intact-sandbox', root, '/nonexistent-fstab', '/dev', '--', '/bin/echo', 'step ran'], {
      env: { INTACT_SB_MOUNT: '/bin/true', INTACT_SB_HOSTNAME: '' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('intact-sandbox: /dev is writable although mounted read-only');
    expect(r.stdout).not.toContain('step ran');
  });

  it("reports a setup that fails as SANDBOX_SETUP_FAILED, not as the step's failure", async () => {
    const t = fullTools(await findTools());
    const gone = [{ real: join(dir, 'vanished'), inside: '/store/gone', writable: false, locked: [] }];
    let log = '';
    await expect(execFull(gone, ['/store/gone/x'], {}, '/', t, { log: (b) => (log += b), what: 'x' })).rejects.toMatchObject({
      code: 'SANDBOX_SETUP_FAILED',
      message: expect.stringContaining('/store/gone'),
    });
    expect(log).toContain('intact-sandbox: cannot mount the private root');
  });

  it('runs steps side by side', async () => {
    const rs = await Promise.all([1, 2, 3, 4].map((i) => run([T, `write:/build/par-${i}`, `exit:${i}`])));
    expect(rs.map((r) => r.exitCode)).toEqual([1, 2, 3, 4]);
  });

  it('leaves nothing behind in the temporary folder', async () => {
    const { readdir } = await import('node:fs/promises');
    const before = (await readdir(tmpdir())).filter((n) => n.startsWith('intact-step-'));
    await run([T]);
    const after = (await readdir(tmpdir())).filter((n) => n.startsWith('intact-step-'));
    expect(after).toEqual(before);
  });
});
