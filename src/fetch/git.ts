// The git source kind: a remote URL and a full commit id. What is pinned is not
// the commit id (a sha1 name, and it covers history and metadata we do not use)
// but the SRI of a deterministic export of the commit's tree (det-tar.ts), so the
// pin means the same bytes whatever git version or filesystem produced them.
//
// Git itself is the host's: fetching needs its transports and credentials. It runs
// with a controlled environment (no system or user config, a throwaway HOME, no
// prompts, only ordinary transports) so a user's aliases, hooks, `url.insteadOf`
// or filters never change what we read. The fetch goes into a bare repository
// kept in the store (`<store>/git/<sha256 of url>/`), asks for the one commit at
// depth 1, and falls back to fetching all branches and tags when the server
// refuses a request by commit id (old protocol v0 servers do).
//
// The export is the tree exactly as stored: no `.gitattributes` filters, no eol
// conversion, no `export-ignore`. Submodules are refused: their content is not in
// the tree, and pinning the parent would not pin them.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IntactError } from '../errors.js';
import { classifyGitRev } from '../recipe/exact.js';
import type { DownloadCache, Ingested } from './cache.js';
import { DetTarWriter, compareTarNames, tarName } from './det-tar.js';
import type { ByteSink } from './types.js';
import { exists } from '../fs-exists.js';
import { gitMessage, remoteGitEnv, runGit, type GitRun } from './git-run.js';
import type { StoreLayout } from '../store/paths.js';

export interface FetchGitOptions {
  /** The lock's pin (SRI of the export); on a cache hit git is not run at all. */
  expected?: string;
  signal?: AbortSignal;
  /** The caller's environment: PATH, ssh agent and proxy settings are taken from it. */
  env?: NodeJS.ProcessEnv;
}

export interface GitFetched extends Ingested {
  url: string;
  rev: string;
}

/** Where the store keeps its bare mirror of the remote at `url` (gc keeps the pinned ones). */
export function gitMirrorDir(store: StoreLayout, url: string): string {
  return join(store.git, createHash('sha256').update(url).digest('hex'));
}

/** Fetch `rev` of the repository at `url` and store its deterministic tree export. */
export async function fetchGit(url: string, rev: string, cache: DownloadCache, opts: FetchGitOptions = {}): Promise<GitFetched> {
  checkRev(rev);
  checkGitUrl(url);
  const what = `git ${url}#${rev}`;
  const got = await cache.ingest(
    { ...(opts.expected !== undefined ? { expected: opts.expected } : {}), algorithm: 'sha512', what, ...(opts.signal ? { signal: opts.signal } : {}) },
    async (sink) => {
      const repoDir = gitMirrorDir(cache.store, url);
      await withRepoLock(repoDir, async () => {
        const home = await mkdtemp(join(tmpdir(), 'intact-git-home-'));
        try {
          const ctx: Ctx = { env: remoteGitEnv(opts.env ?? process.env, home), url, rev, ...(opts.signal ? { signal: opts.signal } : {}) };
          await retryWhileLocked(() => ensureCommit(repoDir, ctx));
          await exportTree(repoDir, ctx, sink);
        } finally {
          await rm(home, { recursive: true, force: true });
        }
      });
    },
  );
  return { ...got, url, rev };
}

function checkRev(rev: string): void {
  const v = classifyGitRev(rev);
  if (!v.exact) {
    throw new IntactError('GIT_REV_FLOATING', `git rev ${JSON.stringify(rev)}: ${v.reason ?? 'not a full commit id'}`, {
      field: 'rev',
      found: rev,
      ...(v.hint !== undefined ? { hint: v.hint } : {}),
    });
  }
}

/**
 * Only ordinary transports. Security: git's `ext::` runs a command, `fd::` and
 * other `<helper>::` forms reach arbitrary remote helpers, and a URL starting
 * with "-" could be read as an option.
 */
export function checkGitUrl(url: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  const scpLike = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/]/.test(url) || /^[A-Za-z0-9.-]+:[^/:][^:]*$/.test(url);
  const ok = !url.startsWith('-') && !url.includes('::') && !/[\s\0]/.test(url) && (scheme ? ALLOWED_SCHEMES.has(scheme) : scpLike);
  if (ok && scheme !== undefined && /^[^/]*\/\/[^/@]*:[^/@]*@/.test(url)) {
    throw new IntactError('GIT_URL_INVALID', `the git URL for ${url.replace(/\/\/[^/@]*@/, '//***@')} carries a password`, {
      url: url.replace(/\/\/[^/@]*@/, '//***@'),
      field: 'git',
      hint: 'remove it: the URL is written to the lockfile. Use ssh with an ssh agent, or GIT_ASKPASS, for private remotes',
    });
  }
  if (!ok) {
    throw new IntactError('GIT_URL_INVALID', `${JSON.stringify(url)} is not a git URL intact fetches from`, {
      url,
      field: 'git',
      hint: 'use https://host/path.git, ssh://host/path.git, user@host:path.git or file:///path',
    });
  }
}

const ALLOWED_SCHEMES = new Set(['https', 'http', 'ssh', 'git', 'file']);

interface Ctx {
  env: NodeJS.ProcessEnv;
  url: string;
  rev: string;
  signal?: AbortSignal;
}

/** A fetch may start an automatic gc, which could prune objects we keep; never here. */
const NO_AUTO_GC = ['-c', 'gc.auto=0', '-c', 'maintenance.auto=false'];

/** Make sure the commit is in the store's bare repository, fetching it if not. */
async function ensureCommit(repoDir: string, ctx: Ctx): Promise<void> {
  const { rev } = ctx;
  if (!(await exists(join(repoDir, 'HEAD')))) {
    await mkdir(dirname(repoDir), { recursive: true });
    const format = rev.length === 64 ? ['--object-format=sha256'] : [];
    await mustRun(['init', '--bare', '--quiet', ...format, repoDir], ctx, undefined, 'could not create the store repository');
  }
  await mustRun(['config', 'remote.origin.url', ctx.url], ctx, repoDir, 'could not configure the store repository');
  if (await isCommit(repoDir, ctx)) return;

  const ref = `refs/intact/${rev}`;
  const shallow = await git([...NO_AUTO_GC, 'fetch', '--quiet', '--no-tags', '--depth', '1', 'origin', `+${rev}:${ref}`], ctx, repoDir);
  if (shallow.code === 0 && (await isCommit(repoDir, ctx))) return;

  // Protocol v0 servers refuse unadvertised commits: fetch what a clone would.
  const full = await git(
    [...NO_AUTO_GC, 'fetch', '--quiet', '--no-tags', 'origin', '+refs/heads/*:refs/intact/heads/*', '+refs/tags/*:refs/intact/tags/*'],
    ctx,
    repoDir,
  );
  if (full.code !== 0) {
    throw new IntactError('GIT_FETCH_FAILED', `cannot fetch ${ctx.url}: ${gitMessage(full.stderr || shallow.stderr)}`, {
      url: ctx.url,
      hint: 'check the URL and the network; intact runs git without your git config, so private remotes need ssh with a running ssh agent (or GIT_ASKPASS)',
    });
  }
  if (!(await isCommit(repoDir, ctx))) {
    throw new IntactError('GIT_REV_NOT_FOUND', `commit ${rev} does not exist in ${ctx.url} (or is not reachable from its branches and tags)`, {
      url: ctx.url,
      field: 'rev',
      found: rev,
      hint: `check the commit id, e.g. with \`git ls-remote ${ctx.url}\`; a force-push may have dropped it`,
    });
  }
  await mustRun(['update-ref', ref, rev], ctx, repoDir, 'could not record the commit');
}

async function isCommit(repoDir: string, ctx: Ctx): Promise<boolean> {
  const r = await git(['cat-file', '-t', ctx.rev], ctx, repoDir);
  return r.code === 0 && r.stdout.toString().trim() === 'commit';
}

interface TreeEntry {
  path: Buffer;
  name: Buffer;
  kind: 'dir' | 'file' | 'exec' | 'symlink';
  oid?: string;
}

/** Stream the commit's tree as a deterministic tar into the sink. */
async function exportTree(repoDir: string, ctx: Ctx, sink: ByteSink): Promise<void> {
  const entries = await listTree(repoDir, ctx);
  const blobs = entries.filter((e) => e.oid !== undefined);
  const writer = new DetTarWriter(sink);

  const child = spawn('git', ['cat-file', '--batch'], {
    cwd: repoDir,
    env: ctx.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  const stderr = collect(child.stderr);
  const closed = once(child, 'close');
  closed.catch(() => {}); // awaited below; a spawn error surfaces through the reader first
  child.stdin.on('error', () => {}); // git exiting early is reported through its status
  child.stdin.end(blobs.map((b) => `${b.oid}\n`).join(''));
  const reader = new StreamReader(child.stdout);
  try {
    await writeEntries(entries, reader, writer, ctx);
  } catch (e) {
    child.kill();
    await closed.catch(() => {});
    if (e instanceof IntactError) throw e;
    throw gitBroken(ctx, `reading objects failed: ${(e as Error).message}; ${gitMessage(await stderr)}`);
  }
  // All objects were read; git exits once it sees the end of its input.
  const [code] = (await closed) as [number | null];
  if (code !== 0) throw gitBroken(ctx, `git cat-file failed: ${gitMessage(await stderr)}`);
}

async function writeEntries(entries: TreeEntry[], reader: StreamReader, writer: DetTarWriter, ctx: Ctx): Promise<void> {
  for (const e of entries) {
    if (e.kind === 'dir') {
      writer.dir(e.path);
      continue;
    }
    const head = (await reader.line()).toString('latin1');
    const m = /^([0-9a-f]+) (\w+) (\d+)$/.exec(head);
    if (m?.[1] !== e.oid || m?.[2] !== 'blob') throw gitBroken(ctx, `object ${e.oid ?? ''} of ${e.path.toString()} is unreadable (${head})`);
    const size = Number(m[3]);
    if (e.kind === 'symlink') {
      const parts: Buffer[] = [];
      await reader.take(size, (c) => parts.push(Buffer.from(c)));
      writer.symlink(e.path, Buffer.concat(parts));
    } else {
      writer.file(e.path, size, e.kind === 'exec');
      await reader.take(size, (c) => writer.data(c));
    }
    await reader.take(1, () => {}); // the newline after each object
  }
  writer.end();
}

/** The commit's tree, sorted by tar name, with the directories made explicit. */
async function listTree(repoDir: string, ctx: Ctx): Promise<TreeEntry[]> {
  const r = await mustRun(['ls-tree', '-r', '-z', '--full-tree', ctx.rev], ctx, repoDir, 'could not list the commit');
  const entries: TreeEntry[] = [];
  const dirs = new Map<string, Buffer>();
  const submodules: string[] = [];
  let at = 0;
  while (at < r.stdout.length) {
    const end = r.stdout.indexOf(0, at);
    const rec = r.stdout.subarray(at, end < 0 ? r.stdout.length : end);
    at = end < 0 ? r.stdout.length : end + 1;
    const tab = rec.indexOf(9);
    const [mode, type, oid] = rec.subarray(0, tab).toString('latin1').split(' ');
    const path = Buffer.from(rec.subarray(tab + 1));
    if (!safePath(path)) throw gitBroken(ctx, `the tree holds an unsafe path ${JSON.stringify(path.toString())}`);
    if (type === 'commit' || mode === '160000') {
      submodules.push(path.toString());
      continue;
    }
    // As git itself: a blob is executable when its mode has the owner-execute bit (ancient trees hold 100664 and such).
    const kind = mode === '120000' ? 'symlink' : (parseInt(mode ?? '0', 8) & 0o100) !== 0 ? 'exec' : 'file';
    if (type !== 'blob' || !/^100[0-7]{3}$|^120000$/.test(mode ?? '')) throw gitBroken(ctx, `unexpected tree entry ${rec.toString()}`);
    entries.push({ path, name: tarName(path, false), kind, oid: oid! });
    for (let i = path.indexOf(0x2f); i >= 0; i = path.indexOf(0x2f, i + 1)) {
      const dir = path.subarray(0, i);
      const key = dir.toString('latin1');
      if (!dirs.has(key)) dirs.set(key, Buffer.from(dir));
    }
  }
  if (submodules.length > 0) {
    throw new IntactError(
      'GIT_SUBMODULE',
      `${ctx.url}#${ctx.rev} has submodules (${submodules.slice(0, 5).join(', ')}${submodules.length > 5 ? ', ...' : ''}), which intact does not fetch`,
      {
        url: ctx.url,
        hint: 'add each submodule as its own git source with its own rev, and `path` to place it where the parent expects it',
      },
    );
  }
  for (const d of dirs.values()) entries.push({ path: d, name: tarName(d, true), kind: 'dir' });
  return entries.sort((a, b) => compareTarNames(a.name, b.name));
}

function safePath(p: Buffer): boolean {
  if (p.length === 0 || p[0] === 0x2f || p.includes(0)) return false;
  return p
    .toString('latin1')
    .split('/')
    .every((c) => c !== '' && c !== '.' && c !== '..');
}

/** Reads lines and exact byte counts from a stream, handing chunks on without copying. */
class StreamReader {
  #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);

  constructor(stream: AsyncIterable<Buffer>) {
    this.#it = stream[Symbol.asyncIterator]();
  }

  async line(): Promise<Buffer> {
    for (;;) {
      const nl = this.#buf.indexOf(10);
      if (nl >= 0) {
        const line = this.#buf.subarray(0, nl);
        this.#buf = this.#buf.subarray(nl + 1);
        return line;
      }
      if (!(await this.#more())) throw new Error('git output ended early');
    }
  }

  async take(n: number, fn: (chunk: Buffer) => void): Promise<void> {
    while (n > 0) {
      if (this.#buf.length === 0 && !(await this.#more())) throw new Error('git output ended early');
      const c = this.#buf.subarray(0, Math.min(n, this.#buf.length));
      fn(c);
      this.#buf = this.#buf.subarray(c.length);
      n -= c.length;
    }
  }

  async #more(): Promise<boolean> {
    const r = await this.#it.next();
    if (r.done) return false;
    this.#buf = this.#buf.length === 0 ? r.value : Buffer.concat([this.#buf, r.value]);
    return true;
  }
}

// ---- running git ----

/** Run git on behalf of one fetch. */
function git(args: string[], ctx: Ctx, cwd: string | undefined): Promise<GitRun> {
  return runGit(args, { ...(cwd ? { cwd } : {}), env: ctx.env, what: ctx.url, url: ctx.url, ...(ctx.signal ? { signal: ctx.signal } : {}) });
}

/** Run git; a failure is a GIT_FETCH_FAILED naming the step. */
async function mustRun(args: string[], ctx: Ctx, cwd: string | undefined, what: string): Promise<GitRun> {
  const r = await git(args, ctx, cwd);
  if (r.code !== 0) throw gitBroken(ctx, `${what}: ${gitMessage(r.stderr)}`);
  return r;
}

function gitBroken(ctx: Ctx, detail: string): IntactError {
  return new IntactError('GIT_FETCH_FAILED', `${ctx.url}#${ctx.rev}: ${detail}`, {
    url: ctx.url,
    hint: 'if the store repository is damaged, delete it (under <store>/git/) and run again',
  });
}

async function collectBuffer(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c);
  return Buffer.concat(parts);
}

async function collect(s: AsyncIterable<Buffer>): Promise<string> {
  return (await collectBuffer(s)).toString('utf8');
}

// ---- one fetch per store repository at a time ----

const held = new Map<string, Promise<void>>();

/** Serialises work on one bare repository within this process (two recipes may fetch from one remote at once). */
async function withRepoLock<T>(repoDir: string, fn: () => Promise<T>): Promise<T> {
  const prev = held.get(repoDir) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = prev.then(() => mine);
  held.set(repoDir, chained);
  await prev;
  try {
    return await fn();
  } finally {
    release();
    if (held.get(repoDir) === chained) held.delete(repoDir);
  }
}

/** Another process fetching into the same repository holds git's lock files for a while: wait it out. */
async function retryWhileLocked<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const busy = e instanceof IntactError && /Unable to create .*\.lock|\.lock'?: File exists/.test(e.message);
      if (!busy || attempt >= 20) throw e;
      await sleep(250 + attempt * 250);
    }
  }
}
