// Test projects in fresh temp folders, and the real CLI run as a child process.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO, 'bin', 'intact.js');

const made: string[] = [];

/** A temp folder holding the given files (path → content). */
export async function makeProject(files: Record<string, string | Buffer> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'intact-test-'));
  made.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(dir, rel);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
  return dir;
}

export async function cleanupProjects(): Promise<void> {
  // Projects hold stores, whose entries are read-only: a plain rm -r fails for
  // anyone but root, so the suite would pass only as root.
  const { removeTree } = await import('../../src/store/remove-tree.js');
  await Promise.all(made.splice(0).map((d) => removeTree(d)));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `intact ARGS` in `cwd` with a controlled environment. */
export function runCli(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/nonexistent', NO_COLOR: '1' };
    for (const [k, v] of Object.entries(opts.env ?? {}))
      if (v === undefined) delete env[k];
      else env[k] = v;
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
