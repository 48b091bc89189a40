// Running the CLI for the cache tests: the real CLI in a child process with a
// controlled environment; HOME is the project folder, so keys generated there
// live in a config folder outside the repository's files.
import { runCli, type CliResult } from './project.js';

export function runIntact(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  return runCli(args, { cwd: opts.cwd, env: { HOME: opts.cwd, ...opts.env } });
}
