// `intact gc|list|why|repair ...` as a child process, like runCli, through
// store-cli-runner.mjs (which registers those commands on the real program).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CliResult } from './project.js';

export const STORE_CLI = fileURLToPath(new URL('./store-cli-runner.mjs', import.meta.url));

export function runStoreCli(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/nonexistent', NO_COLOR: '1' };
    for (const [k, v] of Object.entries(opts.env ?? {})) if (v === undefined) delete env[k]; else env[k] = v;
    const child = spawn(process.execPath, [STORE_CLI, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
