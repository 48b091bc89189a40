// Ctrl-C and SIGTERM: the run stops its build steps, keeps nothing partial, says
// INTERRUPTED and exits as the shell expects of the signal (128 + its number),
// not as bad input.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureProject } from '../helpers/fixture-project.js';
import { CLI, cleanupProjects, runCli } from '../helpers/project.js';

afterEach(cleanupProjects);

const SLOW = 'name: slow\nversion: 1.0.0\ndeps: [bb@1.36.0]\nbuild:\n  - script: "echo started; sleep 30"\n    shell: sh\n';

async function interruptBuild(signal: NodeJS.Signals, json: boolean): Promise<{ code: number | null; stdout: string; stderr: string; dir: string }> {
  const dir = await fixtureProject({ slow: SLOW });
  const args = [CLI, ...(json ? ['--json'] : []), 'install', 'slow'];
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    // Wait until the slow step runs (its build folder exists), then signal intact alone.
    for (let i = 0; i < 150; i++) {
      const tmp = await readdir(join(dir, 'store/tmp')).catch(() => [] as string[]);
      if (tmp.some((l) => l.startsWith('build-') && l.includes('-slow-'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    child.kill(signal);
    const code = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 15_000))]);
    if (code === 'late') throw new Error(`intact did not stop within 15 s of ${signal}: ${stderr}`);
    return { code, stdout, stderr, dir };
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
}

describe('an interrupted install', () => {
  it('SIGINT: exit 130, INTERRUPTED, no entry kept', async () => {
    const r = await interruptBuild('SIGINT', false);
    expect(r.stderr).toContain('build slow@1.0.0');
    expect(r.stderr).toContain('error[INTERRUPTED]: interrupted by SIGINT');
    expect(r.stderr).not.toContain('USAGE');
    expect(r.code).toBe(130);
    expect((await readdir(join(r.dir, 'store'))).some((e) => e.includes('-slow-'))).toBe(false);
  }, 40_000);

  it('SIGTERM with --json: exit 143 and an INTERRUPTED document last on stdout', async () => {
    const r = await interruptBuild('SIGTERM', true);
    expect(r.code).toBe(143);
    expect(r.stdout).toContain('"message":"build slow@1.0.0"');
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!) as unknown;
    expect(last).toMatchObject({ ok: false, error: { code: 'INTERRUPTED', message: 'interrupted by SIGTERM' } });
  }, 40_000);
});

describe('intact run', () => {
  it('passes SIGINT to the program and exits with its status, not INTERRUPTED', async () => {
    const dir = await fixtureProject({});
    expect((await runCli(['install'], { cwd: dir, env: { HOME: dir } })).code).toBe(0);
    const child = spawn(process.execPath, [CLI, 'run', 'bb:busybox', '--', 'sleep', '30'], {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until the program runs (a child of intact), then signal intact alone.
    const children = `/proc/${child.pid}/task/${child.pid}/children`;
    for (let i = 0; i < 100 && (await readFile(children, 'utf8').catch(() => '')).trim() === ''; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).not.toContain('INTERRUPTED');
  }, 30_000);
});
