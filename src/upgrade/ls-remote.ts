// A remote's tags, by `git ls-remote --tags`: what `outdated` lists for a git
// source and what `upgrade` resolves a version's commit from. Only the remote's
// refs are read; nothing is cloned. As for fetching (src/fetch/git.ts), git runs
// without the user's or system's git config, with no prompts and only ordinary
// transports, so an `insteadOf` or a credential helper never changes the answer.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { checkGitUrl } from '../fetch/git.js';
import { gitMessage, runGit } from './run-git.js';

export interface RemoteTag {
  /** The tag's name without `refs/tags/`. */
  name: string;
  /** The commit it points to (annotated tags peeled). */
  commit: string;
}

const PASS_THROUGH = [
  'PATH', 'TMPDIR', 'SSH_AUTH_SOCK', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_ASKPASS',
  'http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY',
  'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
] as const;

/** A remote that does not answer within this is reported, not waited for. */
const TIMEOUT_MS = 120_000;

export async function remoteTags(url: string, opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<RemoteTag[]> {
  checkGitUrl(url);
  const env = opts.env ?? process.env;
  const home = await mkdtemp(join(tmpdir(), 'intact-ls-remote-'));
  try {
    const clean: NodeJS.ProcessEnv = {};
    for (const k of PASS_THROUGH) if (env[k] !== undefined) clean[k] = env[k];
    const signals = [AbortSignal.timeout(TIMEOUT_MS), ...(opts.signal ? [opts.signal] : [])];
    const r = await runGit(['ls-remote', '--tags', url], {
      env: {
        ...clean,
        HOME: home,
        XDG_CONFIG_HOME: home,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_TERMINAL_PROMPT: '0',
        GIT_ALLOW_PROTOCOL: 'https:http:ssh:git:file',
        GIT_SSH_COMMAND: env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
        LC_ALL: 'C',
      },
      signal: AbortSignal.any(signals),
      what: url,
    });
    if (r.code !== 0) {
      throw new IntactError('GIT_FETCH_FAILED', `cannot list the tags of ${url}: ${gitMessage(r.stderr)}`, {
        url,
        hint: 'check the URL and the network; intact runs git without your git config, so private remotes need ssh with a running ssh agent (or GIT_ASKPASS)',
      });
    }
    return parseLsRemote(r.stdout.toString('utf8'));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** `<oid>\trefs/tags/<name>[^{}]` lines → tags; a peeled line (`^{}`) gives an annotated tag's commit. */
export function parseLsRemote(text: string): RemoteTag[] {
  const direct = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{40}|[0-9a-f]{64})\trefs\/tags\/(.+?)(\^\{\})?$/.exec(line.trim());
    if (!m) continue;
    (m[3] ? peeled : direct).set(m[2]!, m[1]!);
  }
  return [...direct.keys()].map((name) => ({ name, commit: peeled.get(name) ?? direct.get(name)! }));
}
