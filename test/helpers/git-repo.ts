// Builds real git repositories for tests with the host's git: a work tree with one
// commit per snapshot, then a bare clone reachable by a file:// URL. Commit times
// and identities are fixed (or chosen by the test), never taken from the machine.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Parser, type ReadEntry } from 'tar';

const run = promisify(execFile);

export type FileSpec =
  | string
  | Buffer
  | { content: string | Buffer; exec?: boolean }
  | { symlink: string }
  /** A submodule entry pointing at a commit id (no real submodule behind it). */
  | { gitlink: string };

export type Snapshot = Record<string, FileSpec>;

export interface GitRepo {
  /** file:// URL of the bare repository. */
  url: string;
  bare: string;
  /** Commit ids, one per snapshot, in order. */
  commits: string[];
}

export interface MakeRepoOptions {
  /** Author/committer date, e.g. "2001-01-01T00:00:00Z"; differing dates give differing commits. */
  date?: string;
  author?: string;
  message?: string;
}

/** A git environment free of the user's configuration. */
export function testGitEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    ...extra,
  };
}

export async function git(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** Make `<dir>/repo.git` holding one commit per snapshot (each snapshot is the whole tree). */
export async function makeGitRepo(dir: string, snapshots: Snapshot[], opts: MakeRepoOptions = {}): Promise<GitRepo> {
  const home = await mkdtemp(join(dir, 'home-'));
  const work = await mkdtemp(join(dir, 'work-'));
  const date = opts.date ?? '2001-01-01T00:00:00Z';
  const who = opts.author ?? 'Test Author';
  const env = testGitEnv(home, {
    GIT_AUTHOR_NAME: who,
    GIT_AUTHOR_EMAIL: 'author@example.invalid',
    GIT_COMMITTER_NAME: who,
    GIT_COMMITTER_EMAIL: 'author@example.invalid',
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  });
  await git(['init', '-q', '-b', 'main', '.'], work, env);
  const commits: string[] = [];
  for (const [i, snap] of snapshots.entries()) {
    for (const name of await readdir(work)) if (name !== '.git') await rm(join(work, name), { recursive: true, force: true });
    await git(['rm', '-r', '-q', '--cached', '--ignore-unmatch', '.'], work, env);
    const links: [string, string][] = [];
    for (const [path, spec] of Object.entries(snap)) {
      const abs = join(work, path);
      await mkdir(dirname(abs), { recursive: true });
      if (typeof spec === 'string' || Buffer.isBuffer(spec)) await writeFile(abs, spec, { mode: 0o644 });
      else if ('symlink' in spec) await symlink(spec.symlink, abs);
      else if ('gitlink' in spec) links.push([path, spec.gitlink]);
      else await writeFile(abs, spec.content, { mode: spec.exec ? 0o755 : 0o644 });
    }
    await git(['add', '-A', '.'], work, env);
    for (const [path, sha] of links) await git(['update-index', '--add', '--cacheinfo', `160000,${sha},${path}`], work, env);
    await git(['-c', 'core.fileMode=true', 'commit', '-q', '--allow-empty', '-m', opts.message ?? `snapshot ${i}`], work, env);
    commits.push(await git(['rev-parse', 'HEAD'], work, env));
  }
  await git(['tag', 'v1'], work, env);
  const bare = join(dir, `repo-${commits.at(-1)?.slice(0, 8) ?? 'empty'}-${Math.random().toString(16).slice(2, 8)}.git`);
  await git(['clone', '-q', '--bare', work, bare], dir, env);
  return { url: pathToFileURL(bare).href, bare, commits };
}

export interface TarEntry {
  path: string;
  type: string;
  mode: number;
  mtime: number;
  uid: number;
  size: number;
  linkpath: string;
  body: string;
}

/** Every entry of a tar (a git or directory export), as node-tar reads it, in archive order. */
export async function readTar(bytes: Buffer): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const parser = new Parser({ strict: true });
  parser.on('entry', (e: ReadEntry) => {
    const chunks: Buffer[] = [];
    e.on('data', (c: Buffer) => chunks.push(c));
    e.on('end', () =>
      out.push({
        path: e.path,
        type: e.type,
        mode: e.mode ?? -1,
        mtime: e.mtime?.getTime() ?? -1,
        uid: e.uid ?? -1,
        size: e.size ?? -1,
        linkpath: e.linkpath ?? '',
        body: Buffer.concat(chunks).toString(),
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
    Readable.from([bytes]).pipe(parser);
  });
  return out;
}
