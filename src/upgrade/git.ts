// The project's own git repository, read-only: files at a revision (`git show
// REV:path` through cat-file), the merge base with the default branch, whether a
// file has uncommitted edits, and what a change adds and removes. `diff`,
// `review` and `upgrade` compare recipes and lock across revisions with it.
//
// Paths given and returned here are project-relative (the project may be a
// subfolder of the repository); git is asked with full paths from the top.
// Never a pager, never an external diff or textconv driver, no optional locks:
// reading a repository must not run a user's programs or write to it.
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { gitMessage, runGit, type GitRun } from '../fetch/git-run.js';

export interface ProjectRepo {
  /** The work tree's top folder. */
  top: string;
  /** The project folder relative to `top`, with a trailing "/" ("" at the top). */
  prefix: string;
  projectDir: string;
  run(args: readonly string[], input?: string): Promise<GitRun>;
}

function repoEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, GIT_PAGER: 'cat', PAGER: 'cat', GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
}

const SAFE = ['-c', 'core.quotePath=false', '-c', 'core.fsmonitor=false', '-c', 'diff.external='];

/** Open the repository holding the project; NOT_GIT_REPO when there is none. */
export async function openRepo(projectDir: string, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<ProjectRepo> {
  const e = repoEnv(env);
  const run = (args: readonly string[], input?: string, cwd = projectDir): Promise<GitRun> =>
    runGit([...SAFE, ...args], { cwd, env: e, what: projectDir, ...(signal ? { signal } : {}), ...(input !== undefined ? { input } : {}) });
  const r = await run(['rev-parse', '--show-toplevel', '--show-prefix']);
  if (r.code !== 0) {
    throw new IntactError('NOT_GIT_REPO', `${projectDir} is not inside a git repository`, {
      file: projectDir,
      hint: 'recipes and intact.lock change through commits and review: run `git init` and commit them, or run intact inside the clone',
      found: gitMessage(r.stderr),
    });
  }
  // git's own answer for the prefix: it has resolved symlinks in both paths.
  const [top = '', prefix = ''] = r.stdout.toString('utf8').split('\n');
  return { top, prefix, projectDir, run: (args, input) => run(args, input, top) };
}

/** A revision as the user typed it → its full commit id; GIT_REVISION_UNKNOWN otherwise. */
export async function resolveRevision(repo: ProjectRepo, rev: string): Promise<string> {
  // Defence in depth: a "revision" starting with "-" would be read as an option.
  if (rev === '' || rev.startsWith('-') || /[\s\0]/.test(rev)) {
    throw new IntactError('GIT_REVISION_UNKNOWN', `${JSON.stringify(rev)} is not a git revision`, {
      found: rev,
      hint: 'give a branch, tag or commit, e.g. main, origin/main or a commit id',
    });
  }
  const r = await repo.run(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  if (r.code !== 0) {
    throw new IntactError('GIT_REVISION_UNKNOWN', `"${rev}" is not a commit in ${repo.top}`, {
      found: rev,
      hint: 'check the name (`git branch -a`, `git log --oneline`); in CI, fetch the base branch first (e.g. `git fetch origin main`, or a clone deep enough to hold the merge base)',
    });
  }
  return r.stdout.toString('utf8').trim();
}

/**
 * The default base of a comparison: the merge base of HEAD with the default
 * branch, which is origin/HEAD when the clone knows it, else main, else master
 * (local first, then origin's).
 */
export async function defaultBase(repo: ProjectRepo): Promise<{ rev: string; branch: string }> {
  const candidates: string[] = [];
  const head = await repo.run(['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD']);
  if (head.code === 0) candidates.push(head.stdout.toString('utf8').trim());
  candidates.push('main', 'master', 'origin/main', 'origin/master');
  for (const branch of candidates) {
    const ok = await repo.run(['rev-parse', '--verify', '--quiet', `${branch}^{commit}`]);
    if (ok.code !== 0) continue;
    const mb = await repo.run(['merge-base', 'HEAD', branch]);
    if (mb.code === 0) return { rev: mb.stdout.toString('utf8').trim(), branch };
    throw new IntactError('GIT_DEFAULT_BRANCH_UNKNOWN', `HEAD and ${branch} have no common commit`, {
      hint: 'name the base revision explicitly, e.g. `intact diff origin/main`; a shallow clone may lack the merge base (`git fetch --unshallow`)',
      found: gitMessage(mb.stderr),
    });
  }
  throw new IntactError('GIT_DEFAULT_BRANCH_UNKNOWN', 'cannot tell the default branch: there is no origin/HEAD, main or master', {
    hint: 'name the base revision explicitly, e.g. `intact diff develop`, or run `git remote set-head origin --auto`',
  });
}

function fullPath(repo: ProjectRepo, rel: string): string {
  return `${repo.prefix}${rel}`;
}

/** Project-relative paths of the files under `dir` at `rev` (a commit id). */
export async function listAt(repo: ProjectRepo, rev: string, dir: string): Promise<string[]> {
  const r = await repo.run(['ls-tree', '-r', '-z', '--full-name', '--name-only', rev, '--', fullPath(repo, dir)]);
  if (r.code !== 0) throw gitFailed(repo, `cannot list ${dir} at ${rev}`, r);
  return r.stdout
    .toString('utf8')
    .split('\0')
    .filter((p) => p !== '')
    .map((p) => p.slice(repo.prefix.length));
}

/**
 * The text of project-relative files at `rev`, read in one `git cat-file --batch`
 * run; a file absent at that revision maps to undefined.
 */
export async function readAt(repo: ProjectRepo, rev: string, paths: readonly string[]): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  if (paths.length === 0) return out;
  for (const p of paths) {
    if (/[\n\0]/.test(p)) throw new IntactError('USAGE', `cannot read ${JSON.stringify(p)} from git: the name holds a newline`, { file: p });
  }
  const r = await repo.run(['cat-file', '--batch'], paths.map((p) => `${rev}:${fullPath(repo, p)}\n`).join(''));
  if (r.code !== 0) throw gitFailed(repo, `cannot read files at ${rev}`, r);
  let at = 0;
  const buf = r.stdout;
  for (const p of paths) {
    const nl = buf.indexOf(10, at);
    const head = buf.subarray(at, nl).toString('utf8');
    at = nl + 1;
    const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(head);
    if (!m) {
      out.set(p, undefined); // "<rev>:<path> missing"
      continue;
    }
    const size = Number(m[2]);
    out.set(p, m[1] === 'blob' ? buf.subarray(at, at + size).toString('utf8') : undefined);
    at += size + 1;
  }
  return out;
}

/** `git status --porcelain` lines for one project-relative path; empty when it is committed as it is. */
export async function statusOf(repo: ProjectRepo, rel: string): Promise<string> {
  const r = await repo.run(['status', '--porcelain', '--untracked-files=all', '--', fullPath(repo, rel)]);
  if (r.code !== 0) throw gitFailed(repo, `cannot ask the status of ${rel}`, r);
  return r.stdout.toString('utf8').trim();
}

export interface FileDelta {
  /** Repository-relative path. */
  path: string;
  added: number;
  removed: number;
  binary: boolean;
}

/**
 * Lines added and removed between `base` and the work tree, over the whole
 * repository (a merge request is reviewed whole), untracked files included.
 */
export async function deltasSince(repo: ProjectRepo, base: string): Promise<FileDelta[]> {
  const r = await repo.run(['diff', '--numstat', '-z', '--no-renames', '--no-ext-diff', '--no-textconv', base, '--']);
  if (r.code !== 0) throw gitFailed(repo, `cannot diff against ${base}`, r);
  const out: FileDelta[] = [];
  for (const rec of r.stdout.toString('utf8').split('\0')) {
    const m = /^(\d+|-)\t(\d+|-)\t(.+)$/s.exec(rec.replace(/^\n/, ''));
    if (!m) continue;
    const binary = m[1] === '-';
    out.push({ path: m[3]!, added: binary ? 0 : Number(m[1]), removed: binary ? 0 : Number(m[2]), binary });
  }
  const u = await repo.run(['ls-files', '-z', '--others', '--exclude-standard', '--full-name', '--', '.']);
  if (u.code !== 0) throw gitFailed(repo, 'cannot list untracked files', u);
  const { readFile } = await import('node:fs/promises');
  for (const path of u.stdout
    .toString('utf8')
    .split('\0')
    .filter((p) => p !== '')) {
    const bytes = await readFile(join(repo.top, path)).catch(() => Buffer.alloc(0));
    const binary = bytes.includes(0);
    const text = bytes.toString('utf8');
    const lines = text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    out.push({ path, added: binary ? 0 : lines, removed: 0, binary });
  }
  return out;
}

/** Which of the repository-relative paths git attributes mark `linguist-generated` (or `-diff`). */
export async function generatedByAttributes(repo: ProjectRepo, paths: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (paths.length === 0) return out;
  const r = await repo.run(['check-attr', '-z', '--stdin', 'linguist-generated', 'diff'], paths.map((p) => `${p}\0`).join(''));
  if (r.code !== 0) return out; // attributes are a refinement; without them the default list applies
  const parts = r.stdout.toString('utf8').split('\0');
  for (let i = 0; i + 2 < parts.length; i += 3) {
    const [path, attr, value] = [parts[i]!, parts[i + 1]!, parts[i + 2]!];
    if ((attr === 'linguist-generated' && (value === 'set' || value === 'true')) || (attr === 'diff' && value === 'unset')) out.add(path);
  }
  return out;
}

function gitFailed(repo: ProjectRepo, what: string, r: GitRun): IntactError {
  return new IntactError('GIT_COMMAND_FAILED', `${what} in ${repo.top}: ${gitMessage(r.stderr)}`, {
    hint: 'check the repository with `git status` and `git fsck`; a shallow clone may lack the revision',
  });
}
