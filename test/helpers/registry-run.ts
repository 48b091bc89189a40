// Running the CLI for the cache tests: registry-cli.mjs (the real CLI with `cache`
// and `key` registered) in a child process, with a controlled environment like
// test/helpers/project.ts's runCli; keys live in a config folder outside the project.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CliResult } from './project.js';

const ENTRY = fileURLToPath(new URL('./registry-cli.mjs', import.meta.url));

export function runIntact(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: opts.cwd, NO_COLOR: '1' };
    for (const [k, v] of Object.entries(opts.env ?? {})) if (v === undefined) delete env[k];
    else env[k] = v;
    const child = spawn(process.execPath, [ENTRY, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
