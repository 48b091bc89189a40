// Running the host's git, and the environment it runs in when it talks to a
// remote. One place, so every git call (fetching a pinned commit, listing a
// remote's tags, the upgrade tools' local git) reports a missing git, a cancelled
// run and a timeout the same way, and no remote call forgets a setting. Callers
// decide what a non-zero status means.
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
  /** The remote, recorded on the errors (their `url` field). */
  url?: string;
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
    const at = opts.url !== undefined ? { url: opts.url } : {};
    if (error.code === 'ENOENT' && error.syscall?.startsWith('spawn')) {
      throw new IntactError('GIT_NOT_FOUND', `git is needed for ${opts.what} but was not found on PATH`, {
        ...at,
        cause: e,
        hint: 'install git (any version from 2.20 on) and make sure it is on PATH',
      });
    }
    if (error.name === 'AbortError') {
      throw new IntactError('FETCH_ABORTED', `git for ${opts.what} was stopped`, { ...at, cause: e, hint: 'run the command again' });
    }
    throw new IntactError('IO', `running git for ${opts.what} failed: ${error.message}`, { ...at, cause: e });
  }
}

/** The last lines git wrote to stderr, for a message. */
export function gitMessage(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.slice(-3).join(' / ') || 'no message from git';
}

/** The environment variables a remote git call may see of the caller's: transport, proxies, CAs. */
const PASS_THROUGH = [
  'PATH',
  'TMPDIR',
  'SSH_AUTH_SOCK',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_ASKPASS',
  'http_proxy',
  'https_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'all_proxy',
  'ALL_PROXY',
  'no_proxy',
  'NO_PROXY',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
] as const;

/** The transports git may use for a remote: `ext::` and the like are refused. */
export const GIT_ALLOW_PROTOCOL = 'https:http:ssh:git:file';

/**
 * What git sees of the environment when it talks to a remote: a short allow-list,
 * plus settings that shut out the user's and the system's git config (so an
 * `insteadOf` or a credential helper never changes the answer), prompts, exotic
 * transports and the locale (so messages are the ones we parse). `home` is an
 * empty folder of the caller's.
 */
export function remoteGitEnv(env: NodeJS.ProcessEnv, home: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const k of PASS_THROUGH) if (env[k] !== undefined) out[k] = env[k];
  return {
    ...out,
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_SYSTEM: '/dev/null',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL,
    // ssh must fail rather than wait for a host-key or password answer nobody sees.
    GIT_SSH_COMMAND: env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    LC_ALL: 'C',
    LANG: 'C',
  };
}
