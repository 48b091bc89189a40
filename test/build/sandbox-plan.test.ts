// The pure parts of the sandbox: the setup's command line, the mount layout rules,
// mountinfo parsing, --sandbox modes and doctor's words. No namespaces here.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntactError } from '../../src/errors.js';
import { explainSandbox, resolveMode, type SandboxProbe } from '../../src/build/sandbox/index.js';
import { planMounts, toReal } from '../../src/build/sandbox/layout.js';
import { mountOf, parseMountInfo } from '../../src/build/sandbox/mountinfo.js';
import { fstabEscape, fstabFor, fullCommand, GATE_SCRIPT, SETUP_SCRIPT, type FullPlan } from '../../src/build/sandbox/setup-script.js';

const TOOLS: FullPlan['tools'] = { unshare: '/usr/bin/unshare', mount: '/usr/bin/mount', sh: '/bin/sh', env: '/usr/bin/env', hostname: '/bin/hostname' };
const SKELETON = { dir: '/tmp/skel', devNodes: ['null', 'zero'], locked: ['nosuid', 'nodev'] };

describe('fullCommand', () => {
  const hostile = '/tmp/a b/$(touch pwned)/`x`/"q"\'s\nnl';
  const plan: FullPlan = {
    root: '/tmp/intact-step-x/root',
    fstab: '/tmp/intact-step-x/fstab',
    skeleton: SKELETON,
    mounts: [
      { real: '/r/build', inside: '/build', writable: true, locked: [] },
      { real: hostile, inside: '/store/dep', writable: false, locked: ['nosuid', 'nodev', 'noexec'] },
    ],
    argv: ['/store/dep/bin/tool', '--flag', '$HOME; rm -rf /'],
    env: { PATH: '/store/dep/bin', WEIRD: 'a=b c\n$(x)', LD_X: '' },
    cwd: '/build/src dir',
    tools: TOOLS,
  };
  const cmd = fullCommand(plan);

  it('runs the fixed setup script with every path and value as a parameter, never as shell text', () => {
    expect(cmd.file).toBe('/usr/bin/unshare');
    const sh = cmd.args.indexOf('-c');
    expect(cmd.args[sh - 1]).toBe('/bin/sh');
    expect(cmd.args[sh + 1]).toBe(SETUP_SCRIPT);
    expect(SETUP_SCRIPT).not.toContain(hostile);
    expect(SETUP_SCRIPT).not.toContain('/store/dep');
  });

  it('creates every namespace with the caller mapped to root for the setup only', () => {
    expect(cmd.args.slice(0, cmd.args.indexOf('--'))).toEqual([
      '--user',
      '--map-root-user',
      '--mount',
      '--net',
      '--pid',
      '--ipc',
      '--uts',
      '--fork',
      '--kill-child',
      '--propagation',
      'private',
    ]);
  });

  it('passes the root, the fstab and the read-only mounts to check', () => {
    const p = cmd.args.slice(cmd.args.indexOf('intact-sandbox') + 1);
    expect(p.slice(0, 6)).toEqual(['/tmp/intact-step-x/root', '/tmp/intact-step-x/fstab', '/dev', '/etc', '/store/dep', '--']);
  });

  it('hands the step exactly its environment, then drops to uid 1000 in a chroot at cwd', () => {
    const exec = cmd.args.slice(cmd.args.indexOf('/usr/bin/env'));
    expect(exec).toEqual([
      '/usr/bin/env',
      '-i',
      '--',
      'PATH=/store/dep/bin',
      'WEIRD=a=b c\n$(x)',
      'LD_X=',
      '/usr/bin/unshare',
      '--user',
      '--map-user=1000',
      '--map-group=1000',
      '--root=/tmp/intact-step-x/root',
      '--wd=/build/src dir',
      '--',
      '/store/dep/bin/tool',
      '--flag',
      '$HOME; rm -rf /',
    ]);
  });

  it('as root: maps uid 1000 to the build user (intact writes the maps while a gate waits) and drops with --setuid', () => {
    const root = fullCommand({ ...plan, buildUser: { uid: 64000, gid: 64000 }, processes: 48 });
    expect(root.args.slice(0, root.args.indexOf('--'))).not.toContain('--map-root-user');
    const gate = root.args.indexOf(GATE_SCRIPT);
    expect(root.args.slice(gate - 2, gate + 4)).toEqual(['/bin/sh', '-c', GATE_SCRIPT, 'intact-gate', '/bin/sh', '-c']);
    const exec = root.args.slice(root.args.lastIndexOf('/usr/bin/unshare'));
    expect(exec.slice(0, 6)).toEqual(['/usr/bin/unshare', '--setgid=1000', '--setuid=1000', '--root=/tmp/intact-step-x/root', '--wd=/build/src dir', '--']);
    // One more than the limit: the watchdog, not the kernel, is what ends the build at it.
    expect(root.env.INTACT_SB_NPROC).toBe('49');
  });

  it('gives the setup a fixed environment of its own, nothing of the caller', () => {
    process.env.INTACT_CANARY = 'leak';
    const again = fullCommand(plan);
    delete process.env.INTACT_CANARY;
    expect(again.env).toEqual({
      PATH: '/usr/bin:/bin:/usr/sbin:/sbin',
      LC_ALL: 'C',
      INTACT_SB_MOUNT: '/usr/bin/mount',
      INTACT_SB_HOSTNAME: '/bin/hostname',
      INTACT_SB_NAME: 'intact',
    });
  });

  it('names the sandbox "intact" unless the step asks for another name', () => {
    expect(fullCommand({ ...plan, tools: { ...TOOLS, name: 'intact-rebuild' } }).env.INTACT_SB_NAME).toBe('intact-rebuild');
  });

  it('skips the hostname when no tool for it was found', () => {
    const { hostname: _h, ...noHostname } = TOOLS;
    expect(fullCommand({ ...plan, tools: noHostname }).env.INTACT_SB_HOSTNAME).toBe('');
  });

  it("mounts everything in one fstab, in order, read-only binds keeping the host's locked flags", () => {
    expect(fstabFor(plan).split('\n')).toEqual([
      'intact-root /tmp/intact-step-x/root tmpfs mode=0755,nosuid,nodev 0 0',
      '/tmp/skel/dev /tmp/intact-step-x/root/dev none bind,ro,nosuid,nodev,X-mount.mkdir 0 0',
      '/dev/null /tmp/intact-step-x/root/dev/null none bind 0 0',
      '/dev/zero /tmp/intact-step-x/root/dev/zero none bind 0 0',
      'intact-shm /tmp/intact-step-x/root/dev/shm tmpfs mode=1777,nosuid,nodev 0 0',
      'proc /tmp/intact-step-x/root/proc proc nosuid,nodev,noexec,X-mount.mkdir 0 0',
      'intact-tmp /tmp/intact-step-x/root/tmp tmpfs mode=1777,nosuid,nodev,X-mount.mkdir 0 0',
      '/tmp/skel/etc /tmp/intact-step-x/root/etc none bind,ro,nosuid,nodev,X-mount.mkdir 0 0',
      '/r/build /tmp/intact-step-x/root/build none bind,X-mount.mkdir 0 0',
      `${fstabEscape(hostile)} /tmp/intact-step-x/root/store/dep none bind,ro,nosuid,nodev,noexec,X-mount.mkdir 0 0`,
      '',
    ]);
  });

  it.each([
    ['/a b', '/a\\040b'],
    ['/a\tb\nc', '/a\\011b\\012c'],
    ['/a\\b#c', '/a\\134b\\043c'],
    ['/é/ü', '/é/ü'],
  ])('escapes %j for fstab as %j', (raw, escaped) => {
    expect(fstabEscape(raw)).toBe(escaped);
  });

  it('keeps a hostile path on one fstab line with no field separators', () => {
    const l = fstabFor(plan)
      .split('\n')
      .find((x) => x.includes('store/dep'))!;
    expect(l.split(' ')).toHaveLength(6);
  });
});

describe('planMounts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'intact-layout-'));
    await mkdir(join(dir, 'build'));
    await mkdir(join(dir, 'dep'));
    await writeFile(join(dir, 'file'), 'x');
    await symlink(join(dir, 'dep'), join(dir, 'link'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const bad: [string, string, RegExp][] = [
    ['relative inside', 'store/x', /absolute and normal/],
    ['unnormalised inside', '/store/../etc/x', /absolute and normal/],
    ['trailing slash', '/store/x/', /absolute and normal/],
    ['the root', '/', /root/],
    ['over /proc', '/proc/x', /\/proc is provided/],
    ['over /dev', '/dev', /\/dev is provided/],
    ['over /etc', '/etc/passwd', /\/etc is provided/],
    ['over /tmp', '/tmp', /\/tmp is provided/],
  ];
  it.each(bad)('refuses a mount %s', async (_, inside, msg) => {
    const e = await planMounts([{ real: join(dir, 'dep'), inside, writable: false }]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IntactError);
    expect(e).toMatchObject({ code: 'SANDBOX_MOUNT_INVALID', message: expect.stringMatching(msg) });
  });

  it('refuses nested and duplicate mounts', async () => {
    await expect(
      planMounts([
        { real: join(dir, 'build'), inside: '/build', writable: true },
        { real: join(dir, 'dep'), inside: '/build/dep', writable: false },
      ]),
    ).rejects.toMatchObject({ code: 'SANDBOX_MOUNT_INVALID', message: expect.stringMatching(/inside the mount at \/build/) });
    await expect(
      planMounts([
        { real: join(dir, 'build'), inside: '/build', writable: true },
        { real: join(dir, 'dep'), inside: '/build', writable: false },
      ]),
    ).rejects.toMatchObject({ code: 'SANDBOX_MOUNT_INVALID', message: expect.stringMatching(/mounted twice/) });
  });

  it('refuses a missing folder and a file', async () => {
    await expect(planMounts([{ real: join(dir, 'absent'), inside: '/store/a', writable: false }])).rejects.toMatchObject({ code: 'SANDBOX_MOUNT_MISSING' });
    await expect(planMounts([{ real: join(dir, 'file'), inside: '/store/a', writable: false }])).rejects.toMatchObject({ code: 'SANDBOX_MOUNT_INVALID' });
  });

  it('resolves symlinks and maps inside paths back to the host', async () => {
    const m = await planMounts([
      { real: join(dir, 'link'), inside: '/store/a', writable: false },
      { real: join(dir, 'build'), inside: '/build', writable: true },
    ]);
    expect(m.map((x) => [x.inside, x.real])).toEqual([
      ['/build', join(dir, 'build')],
      ['/store/a', join(dir, 'dep')],
    ]);
    expect(toReal(m, '/store/a/bin/x')).toBe(join(dir, 'dep', 'bin', 'x'));
    expect(toReal(m, '/store/ab')).toBeUndefined();
    expect(toReal(m, '/usr/bin/env')).toBeUndefined();
  });
});

describe('mountinfo', () => {
  const text = [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '30 22 0:27 / /home rw,nosuid,nodev,relatime shared:2 - ext4 /dev/vdb rw',
    '31 30 0:28 / /home/a\\040b rw,noexec,relatime - tmpfs tmpfs rw',
    '32 22 0:29 / /homer rw,nosuid - tmpfs tmpfs rw',
  ].join('\n');
  const entries = parseMountInfo(text);
  it.each([
    ['/usr/bin', '/', ['rw', 'relatime']],
    ['/home/me/store', '/home', ['rw', 'nosuid', 'nodev', 'relatime']],
    ['/home/a b/x', '/home/a b', ['rw', 'noexec', 'relatime']],
    ['/homer', '/homer', ['rw', 'nosuid']],
  ])('%s lives on %s', (path, mp, opts) => {
    expect(mountOf(entries, path)).toEqual({ mountPoint: mp, options: opts });
  });
});

describe('resolveMode', () => {
  const probe = (level: SandboxProbe['level'], reasons: string[] = []): SandboxProbe => ({ level, reasons, tools: {} });
  it.each([
    ['off', 'full', 'none'],
    ['auto', 'full', 'full'],
    ['auto', 'partial', 'partial'],
    ['auto', 'none', 'none'],
    ['require', 'full', 'full'],
  ] as const)('%s on a %s machine builds at %s', (mode, level, want) => {
    expect(resolveMode(mode, probe(level))).toBe(want);
  });
  it.each(['partial', 'none'] as const)('require on a %s machine is an error naming what is missing', (level) => {
    const e = (() => {
      try {
        resolveMode('require', probe(level, ['full sandbox: cannot mount a fresh /proc']));
      } catch (x) {
        return x;
      }
    })();
    expect(e).toMatchObject({
      code: 'SANDBOX_UNAVAILABLE',
      found: level,
      message: expect.stringContaining('cannot mount a fresh /proc'),
      hint: expect.stringContaining('intact doctor'),
    });
  });
});

describe('explainSandbox', () => {
  it('says what the full sandbox protects', () => {
    const lines = explainSandbox({ level: 'full', reasons: [], tools: {} });
    expect(lines.join('\n')).toMatch(/no network/);
    expect(lines.join('\n')).not.toMatch(/to enable/);
  });
  it('names the switch that is in the way and how to flip it', () => {
    const lines = explainSandbox({
      level: 'none',
      reasons: ['partial sandbox: unshare failed', 'kernel.apparmor_restrict_unprivileged_userns = 1: AppArmor ...'],
      tools: {},
    }).join('\n');
    expect(lines).toMatch(/LOST: network access/);
    expect(lines).toMatch(/sysctl -w kernel.apparmor_restrict_unprivileged_userns=0/);
    expect(lines).not.toMatch(/max_user_namespaces/);
  });
  it('lists every known fix when no switch explains the failure', () => {
    const lines = explainSandbox({ level: 'partial', reasons: ['full sandbox: the build sandbox could not be set up'], tools: {} }).join('\n');
    expect(lines).toMatch(/LOST: the host's files are visible/);
    for (const s of ['unprivileged_userns_clone=1', 'apparmor_restrict_unprivileged_userns=0', 'max_user_namespaces', 'seccomp=unconfined'])
      expect(lines).toContain(s);
  });
});
