// `intact gc|list|why|repair ...` as a child process: the real CLI (runCli).
import { runCli, type CliResult } from './project.js';

export function runStoreCli(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  return runCli(args, opts);
}
