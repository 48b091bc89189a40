// `intact install`, `build`, `run`, `log` end to end with real builds in the real
// sandbox, using a vendored static busybox as the toolchain. Every failure must
// leave the store with a whole entry or nothing, and the profile as it was.
import { execFile } from 'node:child_process';
import { chmod, lstat, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureProject } from '../helpers/fixture-project.js';
import { fullSandboxSkip, skippedBecause } from '../helpers/sandbox-skip.js';
import { cleanupProjects, runCli } from '../helpers/project.js';

const exec = promisify(execFile);
type LockJson = { recipes: Record<string, { keys?: Record<string, string> }> };
afterEach(cleanupProjects);

const HELLO = `name: hello
version: 1.0.0
deps: [bb@1.36.0]
build:
  - write: $out/share/hello.txt
    content: "hello from $out\\n"
  - script: |
      env > "$out/share/env.txt"
      if [ -e /usr ]; then echo has-usr; else echo no-usr; fi > "$out/share/usr.txt"
      cp "$(which busybox)" "$out/share/busybox-copy"
    shell: sh
`;

const run = (dir: string, args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd: dir, env: { HOME: dir, INTACT_CANARY: 'leaked-canary', CI: undefined, ...env } });

async function entries(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'store'))).filter((e) => /^[0-9a-z]{32}-/.test(e)).sort();
}

describe.skipIf(fullSandboxSkip() !== undefined)(`intact install${skippedBecause(fullSandboxSkip())}`, () => {
  it('builds in the sandbox, checks, installs the profile, and reuses on the second run', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    const r = await run(dir, ['install']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/installed 2 recipe\(s\).*2 built, 0 reused/);
    expect(r.stdout).toContain('sandbox full');
    const [, hello] = (await entries(dir)).sort((a, b) => (a.includes('hello') ? 1 : -1) - (b.includes('hello') ? 1 : -1));
    const out = join(dir, 'store', hello!);
    expect(await readFile(join(out, 'share/usr.txt'), 'utf8')).toBe('no-usr\n');
    expect(await readFile(join(out, 'share/hello.txt'), 'utf8')).toBe('hello from /build/out\n');
    const env = await readFile(join(out, 'share/env.txt'), 'utf8');
    expect(env).not.toContain('leaked-canary');
    expect(env).toContain('SOURCE_DATE_EPOCH=315532800');
    // read-only, normalised
    expect((await lstat(join(out, 'share/hello.txt'))).mode & 0o222).toBe(0);
    expect((await lstat(join(out, 'share/hello.txt'))).mtimeMs).toBe(315532800000);
    // the profile
    expect(await readlink(join(dir, '.intact/bin'))).toMatch(/^profiles\/[0-9a-f]+\/bin$/);
    const { stdout } = await exec(join(dir, '.intact/bin/busybox'), ['echo', 'works']);
    expect(stdout).toBe('works\n');
    const runIt = await run(dir, ['run', 'bb:busybox', '--', 'echo', 'via run']);
    expect(runIt.stdout).toBe('via run\n');

    const again = await run(dir, ['install']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 built, 2 reused, 0 download/);
  });

  it('refuses a stale lock, naming the recipe, and writes nothing', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    await writeFile(join(dir, 'recipes/hello.yaml'), HELLO.replace('1.0.0', '1.0.1'));
    const lock = await readFile(join(dir, 'intact.lock'), 'utf8');
    const r = await run(dir, ['install']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NOT_LOCKED');
    expect(r.stderr).toContain('hello');
    expect(r.stderr).toContain('intact lock');
    expect(await readFile(join(dir, 'intact.lock'), 'utf8')).toBe(lock);
    expect(await entries(dir)).toEqual([]);
  });

  it.each([
    ['a hand-edited store key', 'bb', (l: LockJson) => (l.recipes.bb!.keys!['linux-x64'] = '0'.repeat(32))],
    ['an entry without store keys', 'hello', (l: LockJson) => delete l.recipes.hello!.keys],
  ])('refuses %s, naming the recipe, and builds nothing', async (_what, name, edit) => {
    const dir = await fixtureProject({ hello: HELLO });
    const lock = JSON.parse(await readFile(join(dir, 'intact.lock'), 'utf8')) as LockJson;
    edit(lock);
    await writeFile(join(dir, 'intact.lock'), `${JSON.stringify(lock, null, 2)}\n`);
    const r = await run(dir, ['install']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NOT_LOCKED');
    expect(r.stderr).toContain(name);
    expect(r.stderr).toContain('intact lock');
    expect(await entries(dir)).toEqual([]);
  });

  it('refuses a dependant whose store key was edited by hand', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    const lock = JSON.parse(await readFile(join(dir, 'intact.lock'), 'utf8')) as LockJson;
    lock.recipes.hello!.keys!['linux-x64'] = '0'.repeat(32);
    await writeFile(join(dir, 'intact.lock'), `${JSON.stringify(lock, null, 2)}\n`);
    const r = await run(dir, ['install']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOT_LOCKED|LOCK_STALE/);
    expect(r.stderr).toContain('hello');
    expect(r.stderr).toContain('intact lock');
    expect(await entries(dir)).toEqual([]);
  });

  it('a failing step: exit 1 naming recipe and step, log kept, dependants skipped, profile unchanged', async () => {
    const dir = await fixtureProject({
      hello: HELLO,
      broken: 'name: broken\nversion: 1.0.0\ndeps: [bb@1.36.0]\nbuild:\n  - script: "echo about to fail; exit 3"\n    shell: sh\n',
      user: 'name: user\nversion: 1.0.0\ndeps: [broken@1.0.0]\nbuild:\n  - mkdir: $out/x\n',
    });
    expect((await run(dir, ['install', 'hello'])).code).toBe(0);
    const profile = await readlink(join(dir, '.intact/bin'));
    const r = await run(dir, ['install']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('broken: build step 1');
    expect(r.stderr).toContain('exited with status 3');
    expect(r.stderr).toContain('user');
    expect(await readlink(join(dir, '.intact/bin'))).toBe(profile);
    expect((await entries(dir)).some((e) => e.includes('broken') || e.includes('-user-'))).toBe(false);
    const log = await run(dir, ['log', 'broken']);
    expect(log.stdout).toContain('about to fail');
    expect((await readdir(join(dir, 'store/tmp'))).filter((e) => e.startsWith('build-'))).toEqual([]);
  });

  it('--keep-failed keeps the build folder and prints where', async () => {
    const dir = await fixtureProject({
      broken: 'name: broken\nversion: 1.0.0\ndeps: [bb@1.36.0]\nbuild:\n  - script: "echo partial > $out/x; exit 1"\n    shell: sh\n',
    });
    const r = await run(dir, ['install', '--keep-failed']);
    expect(r.code).toBe(1);
    const m = /kept at (\S+?) \(/.exec(r.stderr);
    expect(m).not.toBeNull();
    expect(await readFile(join(m![1]!, 'out/x'), 'utf8')).toBe('partial\n');
  });

  it.each([
    ['a tool no dependency provides', 'build:\n  - run: [gcc, -o, $out/x, x.c]\n', 'no declared dependency provides "gcc"'],
    [
      'a setuid file',
      'deps: [bb@1.36.0]\nbuild:\n  - write: $out/bin/x\n    content: x\n    executable: true\n  - run: [busybox, chmod, "4755", $out/bin/x]\n',
      'setuid',
    ],
    ['a symlink to /etc', 'build:\n  - symlink: $out/etc-link\n    target: /etc/passwd\n', '/etc/passwd'],
    ['the network', 'deps: [bb@1.36.0]\nbuild:\n  - run: [busybox, nc, -w, "2", "127.0.0.1", "9"]\n', 'nc'],
    ['a step outside the build folder', 'build:\n  - write: /tmp/escape\n    content: x\n', 'outside the build folder'],
  ])('refuses %s, storing nothing', async (_what, body, fragment) => {
    const dir = await fixtureProject({ bad: `name: bad\nversion: 1.0.0\n${body}` });
    const r = await run(dir, ['install', 'bad']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(fragment);
    expect((await entries(dir)).some((e) => e.includes('-bad-'))).toBe(false);
  });

  it('says which protection a weaker sandbox loses, on stderr even with --json', async () => {
    const dir = await fixtureProject({ note: 'name: note\nversion: 1.0.0\nbuild:\n  - write: $out/share/note.txt\n    content: "note\\n"\n' });
    const r = await run(dir, ['--json', 'install', 'note', '--sandbox=off']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/sandbox level "none", which loses this protection: network access, the host's files and processes/);
    expect(r.stderr).toContain('--sandbox=off');
    // stdout stays machine output: every line is JSON.
    for (const line of r.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('refuses an output that carries the store path (relocatability), without a sandbox', async () => {
    const dir = await fixtureProject({ leak: 'name: leak\nversion: 1.0.0\nbuild:\n  - write: $out/where\n    content: "built in $out"\n' });
    const r = await run(dir, ['install', 'leak', '--sandbox=off']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/store|build folder/);
    expect((await entries(dir)).some((e) => e.includes('-leak-'))).toBe(false);
  });

  it('refuses an output that needs the host libc, naming it', async ({ skip }) => {
    // Any dynamically linked program of the host will do: the host's own `true`.
    const { existsSync, readFileSync } = await import('node:fs');
    const dynamic = ['/usr/bin/true', '/bin/true'].find((p) => existsSync(p) && /ld-linux|ld-musl/.test(readFileSync(p, 'latin1')));
    if (dynamic === undefined) skip('no dynamically linked `true` on this host to package');
    const dir = await fixtureProject({});
    const { copyFile, mkdir } = await import('node:fs/promises');
    await writeFile(join(dir, 'recipes/dyn.yaml'), 'name: dyn\nversion: 1.0.0\nsources:\n  - file: vendor/dyn\nbin: [hello]\n');
    await mkdir(join(dir, 'vendor/dyn'), { recursive: true });
    await copyFile(dynamic!, join(dir, 'vendor/dyn/hello'));
    expect((await run(dir, ['lock'])).code).toBe(0);
    const r = await run(dir, ['install', 'dyn']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ld-linux|libc\.so/);
  });

  it('intact build rebuilds in a fresh folder and says it is identical', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    expect((await run(dir, ['install'])).code).toBe(0);
    const r = await run(dir, ['build', 'hello']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("identical to the store's entry");
  });

  it('two installs at once on one store both succeed and keep one entry each', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    const [a, b] = await Promise.all([run(dir, ['install']), run(dir, ['install'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect((await entries(dir)).length).toBe(2);
  });

  it('a SIGKILL mid-build leaves no entry; the next install cleans up and succeeds', async () => {
    const dir = await fixtureProject({ slow: 'name: slow\nversion: 1.0.0\ndeps: [bb@1.36.0]\nbuild:\n  - script: "echo started; sleep 30"\n    shell: sh\n' });
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('../helpers/project.js');
    const child = spawn(process.execPath, [CLI, 'install', 'slow'], {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', HOME: dir },
      stdio: 'ignore',
      detached: true,
    });
    // Wait until the build has started (its log exists), then kill the whole group.
    for (let i = 0; i < 100; i++) {
      const logs = await readdir(join(dir, 'store/tmp')).catch(() => [] as string[]);
      if (logs.some((l) => l.startsWith('build-') && l.includes('-slow-'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect((await entries(dir)).some((e) => e.includes('-slow-'))).toBe(false);
    await writeFile(
      join(dir, 'recipes/slow.yaml'),
      'name: slow\nversion: 1.0.0\ndeps: [bb@1.36.0]\nbuild:\n  - script: "echo quick > $out/done"\n    shell: sh\n',
    );
    expect((await run(dir, ['lock'])).code).toBe(0);
    expect((await run(dir, ['install', 'slow'])).code).toBe(0);
    expect((await readdir(join(dir, 'store/tmp'))).filter((e) => e.startsWith('build-'))).toEqual([]);
  }, 30_000);
});

describe.skipIf(fullSandboxSkip() !== undefined)(`intact install, unprivileged${skippedBecause(fullSandboxSkip())}`, () => {
  it('installs as uid 65534 (setpriv) into a store it owns', async ({ skip }) => {
    if (process.getuid?.() !== 0) skip('not root: only root can run intact as another user here (the whole suite already runs unprivileged)');
    const dir = await fixtureProject({ hello: HELLO });
    await exec('chown', ['-R', '65534:65534', dir]);
    await chmod(dir, 0o755);
    const { CLI } = await import('../helpers/project.js');
    const { stdout } = await exec('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, CLI, 'install'], {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, NO_COLOR: '1' },
    });
    expect(stdout).toMatch(/2 built/);
    expect(stdout).toContain('sandbox full');
    const st = await lstat(join(dir, 'store'));
    expect(st.uid).toBe(65534);
  });
});
