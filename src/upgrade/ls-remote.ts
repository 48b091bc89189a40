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
import { gitMessage, remoteGitEnv, runGit } from '../fetch/git-run.js';

export interface RemoteTag {
  /** The tag's name without `refs/tags/`. */
  name: string;
  /** The commit it points to (annotated tags peeled). */
  commit: string;
}

/** A remote that does not answer within this is reported, not waited for. */
const TIMEOUT_MS = 120_000;

export async function remoteTags(url: string, opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<RemoteTag[]> {
  checkGitUrl(url);
  const env = opts.env ?? process.env;
  const home = await mkdtemp(join(tmpdir(), 'intact-ls-remote-'));
  try {
    const signals = [AbortSignal.timeout(TIMEOUT_MS), ...(opts.signal ? [opts.signal] : [])];
    const r = await runGit(['ls-remote', '--tags', url], {
      env: remoteGitEnv(env, home),
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
