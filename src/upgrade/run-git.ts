// Running the host's git and collecting what it says. One place, so every git
// call of the upgrade tools reports a missing git, a cancelled run and a timeout
// the same way. Callers decide what a non-zero status means.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { IntactError } from '../errors.js';

export interface GitRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface RunGitOptions {
  cwd?: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** What the run is for, named in errors (a URL or a folder). */
  what: string;
  /** Text for git's standard input. */
  input?: string;
}

export async function runGit(args: readonly string[], opts: RunGitOptions): Promise<GitRun> {
  const child = spawn('git', args, {
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    env: opts.env,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (opts.input !== undefined && child.stdin) {
    child.stdin.on('error', () => {}); // git exiting early is reported through its status
    child.stdin.end(opts.input);
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  try {
    const [code] = (await once(child, 'close')) as [number | null];
    return { code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    if (error.code === 'ENOENT' && error.syscall?.startsWith('spawn')) {
      throw new IntactError('GIT_NOT_FOUND', `git is needed for ${opts.what} but was not found on PATH`, {
        cause: e,
        hint: 'install git (any version from 2.20 on) and make sure it is on PATH',
      });
    }
    if (error.name === 'AbortError') {
      throw new IntactError('FETCH_ABORTED', `git for ${opts.what} was stopped`, { cause: e, hint: 'run the command again' });
    }
    throw new IntactError('IO', `running git for ${opts.what} failed: ${error.message}`, { cause: e });
  }
}

/** The last lines git wrote to stderr, for a message. */
export function gitMessage(stderr: string): string {
  const lines = stderr.trim().split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-3).join(' / ') || 'no message from git';
}
