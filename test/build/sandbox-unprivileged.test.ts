// "sudo-less", tested for real: the compiled sandbox module runs in a child
// process as uid 65534 (nobody, no capabilities, no groups), with folders it owns,
// and reports what its steps saw. Needs root only to become nobody; when the suite
// itself runs unprivileged, the other sandbox tests already prove the same.
import { execFile, spawn } from 'node:child_process';
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, inspectBin, parseInspect, stillGrowing } from '../helpers/static-bin.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const repo = join(dirname(new URL(import.meta.url).pathname), '..', '..');

// Plain JS on purpose: it only drives the compiled module and reports back.
const CHILD = String.raw`
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const cfg = JSON.parse(process.env.INTACT_CFG);
// A dependency and TMPDIR (so the sandbox's own skeleton too) on a nosuid,nodev,noexec
// mount made by the real root: in our user namespace those flags are locked.
mkdirSync(cfg.locked + '/tmp');
mkdirSync(cfg.locked + '/dep');
writeFileSync(cfg.locked + '/dep/hello', 'locked hello\n');
chmodSync(cfg.locked + '/dep', 0o555);
process.env.TMPDIR = cfg.locked + '/tmp';
cfg.mounts.push({ real: cfg.locked + '/dep', inside: '/store/locked', writable: false });
const { probeSandbox, resolveMode, runStep } = await import('./js/build/sandbox/index.js');
const capEff = readFileSync('/proc/self/status', 'utf8').match(/CapEff:\s*(\w+)/)[1];
async function run(level, argv, o = {}) {
  let out = '';
  try {
    const r = await runStep({ argv, env: o.env ?? { PATH: '/store/tools' }, cwd: o.cwd ?? '/build', mounts: cfg.mounts, log: (b) => (out += b), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }, level);
    return { ...r, out };
  } catch (e) {
    return { error: e.code, message: e.message, out };
  }
}
const probe = await probeSandbox();
const report = {
  uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), capEff, probe,
  level: resolveMode('require', probe),
  full: await run('full', ['/store/tools/inspect', 'ids', 'hostname', 'caps', 'cwd', 'env', 'procs', 'ifaces', 'connect:127.0.0.1:' + cfg.port,
    'exists:/usr', 'exists:/lib', 'exists:/bin', 'exists:/etc/shadow', 'exists:' + cfg.home, 'write:/store/dep/x', 'write:/store/dep/hello', 'write:/build/made', 'chroot:/build', 'unshare-user',
    'cat:/store/locked/hello', 'write:/store/locked/x', 'read:/etc/passwd'],
    { env: { PATH: '/store/tools', ONLY: 'this' }, cwd: '/build' }),
  timeout: await run('full', ['/store/tools/inspect', cfg.tag, 'beat-setsid:/build/beat', 'sleep:60000'], { timeoutMs: 500 }),
  partial: await run('partial', [cfg.inspect, 'ids', 'connect:127.0.0.1:' + cfg.port, 'write:' + cfg.home + '/partial-made'], { env: {}, cwd: cfg.home }),
  none: await run('none', [cfg.inspect, 'ids', 'env'], { env: { X: '1' }, cwd: cfg.home }),
};
process.stdout.write(JSON.stringify(report));
`;

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'intact-nobody-'));
  await chmod(work, 0o755);
  // Compile the sandbox and what it imports, so the child runs this checkout's code (not a stale dist/).
  await promisify(execFile)(
    join(repo, 'node_modules', '.bin', 'tsc'),
    [
      '--ignoreConfig',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      '--strict',
      '--skipLibCheck',
      '--outDir',
      join(work, 'js'),
      '--rootDir',
      join(repo, 'src'),
      join(repo, 'src', 'build', 'sandbox', 'index.ts'),
    ],
    { cwd: repo },
  );
  await writeFile(join(work, 'js', 'package.json'), '{"type":"module"}\n');
}, 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Run `node script` under a wrapper command line; stdout parsed as JSON. */
async function runChild(wrapper: string[], script: string, env: Record<string, string>, cwd: string): Promise<any> {
  const child = spawn(wrapper[0]!, [...wrapper.slice(1), process.execPath, script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the child failed (${code}): ${err}`);
  return JSON.parse(out);
}

const PROBE_CHILD = `
import { explainSandbox, probeSandbox, resolveMode } from './js/build/sandbox/index.js';
const probe = await probeSandbox();
let require;
try { resolveMode('require', probe); } catch (e) { require = { code: e.code, message: e.message }; }
process.stdout.write(JSON.stringify({ probe, require, explain: explainSandbox(probe) }));
`;

describe('on machines that restrict namespaces', () => {
  // Each case builds the restriction inside a user namespace of its own, so it works unprivileged too.
  const env = { PATH: '/usr/bin:/bin' };

  it('without user namespaces: level none, the switch named, require refused', async () => {
    await writeFile(join(work, 'probe.mjs'), PROBE_CHILD);
    const r = await runChild(
      ['unshare', '--user', '--map-root-user', '--', 'sh', '-c', 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', 'sh'],
      join(work, 'probe.mjs'),
      env,
      work,
    );
    expect(r.probe.level).toBe('none');
    expect(r.probe.reasons.join('\n')).toContain('user.max_user_namespaces = 0');
    expect(r.require.code).toBe('SANDBOX_UNAVAILABLE');
    expect(r.explain.join('\n')).toContain('sysctl -w user.max_user_namespaces=');
  });

  it('with a masked /proc, as in containers: level partial, saying /proc could not be mounted', async () => {
    await writeFile(join(work, 'probe.mjs'), PROBE_CHILD);
    const r = await runChild(
      ['unshare', '--user', '--map-root-user', '--mount', '--', 'sh', '-c', 'mount --bind /dev/null /proc/timer_list && exec "$@"', 'sh'],
      join(work, 'probe.mjs'),
      env,
      work,
    );
    expect(r.probe.level).toBe('partial');
    expect(r.probe.reasons[0]).toMatch(/full sandbox: .*\/proc/);
    expect(r.require.code).toBe('SANDBOX_UNAVAILABLE');
  });
});

describe("the process limit (defect class: a build's processes had no limit)", () => {
  it(`in a user namespace mapping only root: ${isRoot ? "the host's root cannot be bounded, so doctor says so and require refuses" : 'root there is this user on the host, so it is bounded'}`, async () => {
    await writeFile(join(work, 'probe.mjs'), PROBE_CHILD);
    const r = await runChild(['unshare', '--user', '--map-root-user', '--'], join(work, 'probe.mjs'), { PATH: '/usr/bin:/bin' }, work);
    expect(r.probe.level).toBe('full');
    if (isRoot) {
      expect(r.probe.unbounded).toMatch(/build user \(uid 64000\) is not mapped/);
      expect(r.require.code).toBe('SANDBOX_UNAVAILABLE');
      expect(r.explain.join('\n')).toMatch(/NOT bounded: the number of processes/);
    } else {
      expect(r.probe.unbounded).toBeUndefined();
      expect(r.require).toBeUndefined();
    }
  });

  it("as the suite's user: bounded, and doctor says how", async () => {
    await writeFile(join(work, 'probe.mjs'), PROBE_CHILD);
    const r = await runChild(['env'], join(work, 'probe.mjs'), { PATH: '/usr/bin:/bin' }, work);
    expect(r.probe.unbounded).toBeUndefined();
    expect(r.explain.join('\n')).toMatch(
      isRoot ? /as root, steps run as the build user, host uid 64000/ : /bounded \(RLIMIT_NPROC, counted in the step's own user namespace\)/,
    );
  });
});

describe('temporary folders', () => {
  it('removes those left by killed processes, and only those', async () => {
    const tmp = join(work, 'sweep');
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.on('close', resolve));
    const stale = [`intact-step-${dead.pid}-aaaaaa`, `intact-sandbox-skel-${dead.pid}-bbbbbb`];
    const kept = [`intact-step-${process.pid}-cccccc`, 'intact-step-notapid', 'unrelated'];
    for (const n of [...stale, ...kept]) await mkdir(join(tmp, n, 'root'), { recursive: true });
    await writeFile(join(work, 'probe.mjs'), PROBE_CHILD);
    const r = await runChild(['env'], join(work, 'probe.mjs'), { PATH: '/usr/bin:/bin', TMPDIR: tmp }, work);
    expect(r.probe.level).toBe('full');
    const { readdir } = await import('node:fs/promises');
    // The child's own folders went when it exited normally.
    expect((await readdir(tmp)).sort()).toEqual([...kept].sort());
  });
});

describe.runIf(isRoot)(
  `the sandbox as uid 65534${isRoot ? '' : ' (skipped: not root, so it cannot become uid 65534; the suite itself runs unprivileged)'}`,
  () => {
    let home: string;
    let server: Server;
    let report: any;
    const tag = `tag:nobody-${process.pid}-${Date.now()}`;

    beforeAll(async () => {
      const inspect = await inspectBin();
      await writeFile(join(work, 'child.mjs'), CHILD);

      await mkdir(join(work, 'locked'));
      home = join(work, 'home');
      for (const d of ['', 'build', 'dep', 'tmp']) {
        await mkdir(join(home, d), { recursive: true });
        await chown(join(home, d), NOBODY, NOBODY);
      }
      await writeFile(join(home, 'dep', 'hello'), 'hello\n');
      await chown(join(home, 'dep', 'hello'), NOBODY, NOBODY);
      await chmod(join(home, 'dep'), 0o555);
      await copyFile(inspect, join(home, 'inspect'));
      await chown(join(home, 'inspect'), NOBODY, NOBODY);

      server = createServer((s) => {
        s.on('error', () => undefined);
        s.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const cfg = {
        port: (server.address() as { port: number }).port,
        home,
        tag,
        inspect: join(home, 'inspect'),
        locked: join(work, 'locked'),
        mounts: [
          { real: join(home, 'build'), inside: '/build', writable: true },
          { real: join(home, 'dep'), inside: '/store/dep', writable: false },
          { real: dirname(inspect), inside: '/store/tools', writable: false },
        ],
      };
      // The locked mount exists only in a private mount namespace made here, as root; the child then drops to nobody.
      report = await runChild(
        [
          'unshare',
          '--mount',
          '--propagation',
          'private',
          '--',
          'sh',
          '-c',
          'mount -t tmpfs -o nosuid,nodev,noexec,mode=0755 intact-locked "$1" && chown 65534:65534 "$1" && shift && exec "$@"',
          'sh',
          cfg.locked,
          'setpriv',
          `--reuid=${NOBODY}`,
          `--regid=${NOBODY}`,
          '--clear-groups',
          '--',
        ],
        join(work, 'child.mjs'),
        { PATH: '/usr/bin:/bin', TMPDIR: join(home, 'tmp'), INTACT_CANARY: 'must-not-leak', INTACT_CFG: JSON.stringify(cfg) },
        home,
      );
    }, 60_000);

    afterAll(async () => {
      server?.close();
      if (home) await chmod(join(home, 'dep'), 0o755).catch(() => undefined);
    });

    it('really is unprivileged: uid and gid 65534, no groups, no capabilities', () => {
      // Node always lists the effective gid among the groups.
      expect(report).toMatchObject({ uid: NOBODY, gid: NOBODY, groups: [NOBODY], capEff: '0000000000000000' });
    });

    it('gets the full sandbox, so --sandbox=require passes', () => {
      expect(report.probe.reasons).toEqual([]);
      expect(report.probe.level).toBe('full');
      expect(report.level).toBe('full');
    });

    it('isolates a full step: no network, no host files, read-only deps (also from a nosuid,nodev,noexec mount), fixed identity', async () => {
      const r = report.full;
      expect(r.error).toBeUndefined();
      expect(r.exitCode).toBe(0);
      const f = parseInspect(r.out);
      expect(f.get('uid')).toEqual(['1000']);
      expect(f.get('pid')).toEqual(['1']);
      expect(f.get('hostname')).toEqual(['intact']);
      expect(f.get('capeff')).toEqual(['0000000000000000']);
      expect(f.get('cwd')).toEqual(['/build']);
      expect(f.get('env')).toEqual(['PATH=/store/tools', 'ONLY=this']);
      expect(f.get('procs')).toEqual(['1']);
      expect([...f.keys()].filter((k) => k.startsWith('iface:'))).toEqual(['iface:lo']);
      expect(f.get('iface:lo')).toEqual(['down']);
      expect(f.get(`connect:127.0.0.1:${(server.address() as { port: number }).port}`)![0]).not.toBe('ok');
      for (const p of ['/usr', '/lib', '/bin', '/etc/shadow', home]) expect(f.get(`exists:${p}`), p).toEqual(['no']);
      expect(f.get('write:/store/dep/x')).toEqual(['EROFS']);
      expect(f.get('write:/store/dep/hello')).toEqual(['EROFS']);
      expect(f.get('write:/build/made')).toEqual(['ok']);
      expect(f.get('chroot:/build')).toEqual(['EPERM']);
      expect(f.get('unshare-user')).toEqual(['EPERM']);
      expect(f.get('cat:/store/locked/hello')).toEqual(['locked hello']);
      expect(f.get('write:/store/locked/x')).toEqual(['EROFS']);
      expect(f.get('read:/etc/passwd')).toEqual(['ok']);
      // Written inside as uid 1000, owned by nobody on the host: no privilege was borrowed.
      expect((await stat(join(home, 'build', 'made'))).uid).toBe(NOBODY);
      await expect(readFile(join(home, 'dep', 'hello'), 'utf8')).resolves.toBe('hello\n');
    });

    it('kills a timed-out step with everything it started', async () => {
      expect(report.timeout.error).toBe('STEP_TIMEOUT');
      expect(await alive(tag)).toEqual([]);
      expect(await stillGrowing(join(home, 'build', 'beat'))).toBe(false);
    });

    it('runs partial and none steps as nobody, with exactly their environment', () => {
      const p = parseInspect(report.partial.out);
      expect(report.partial.exitCode).toBe(0);
      expect(p.get('uid')).toEqual([String(NOBODY)]);
      expect(p.get('pid')).toEqual(['1']);
      expect(p.get(`write:${home}/partial-made`)).toEqual(['ok']);
      expect(p.get(`connect:127.0.0.1:${(server.address() as { port: number }).port}`)![0]).not.toBe('ok');
      const n = parseInspect(report.none.out);
      expect(n.get('uid')).toEqual([String(NOBODY)]);
      expect(n.get('env')).toEqual(['X=1']);
    });
  },
);
