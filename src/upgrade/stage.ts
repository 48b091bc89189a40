// Edits that are verified before they are made. `add` and `upgrade` write the
// new recipe text into a temporary copy of the project (recipes/, intact.lock and
// every repository file a recipe references), lock there, and only when every new
// pin was fetched and checked write recipe(s) and lock into the project, all
// prepared beside their targets first and then renamed into place. Any failure
// before that leaves the project exactly as it was.
//
// The copy holds real files, not links: the recipe hash refuses referenced files
// that lead outside the project through a symlink, and so would the copy's.
import { randomBytes } from 'node:crypto';
import { copyFile, cp, link, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { IntactError } from '../errors.js';
import { LOCK_FILE } from '../lock/index.js';
import { isContainedPath, loadRecipes, RECIPES_DIR, referencedFiles } from '../recipe/index.js';

export interface Staged {
  /** The copy: a project folder of its own. */
  dir: string;
  /** Write a project-relative file in the copy (a recipe being added or edited). */
  write(rel: string, text: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function stageProject(projectDir: string): Promise<Staged> {
  const dir = await mkdtemp(join(tmpdir(), 'intact-stage-'));
  const staged: Staged = {
    dir,
    write: async (rel, text) => {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), text);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  try {
    await cp(join(projectDir, RECIPES_DIR), join(dir, RECIPES_DIR), { recursive: true, verbatimSymlinks: true, errorOnExist: false }).catch(
      (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      },
    );
    await copyFile(join(projectDir, LOCK_FILE), join(dir, LOCK_FILE)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    const { recipes } = await loadRecipes(projectDir);
    const refs = new Set(recipes.flatMap((r) => referencedFiles(r.recipe).map((f) => f.path)));
    for (const ref of refs) {
      // Escaping or missing paths are left out: the lock reports them as it would in the project.
      if (!isContainedPath(ref) || ref.startsWith(`${RECIPES_DIR}/`)) continue;
      await copyInto(join(projectDir, ref), join(dir, ref));
    }
  } catch (e) {
    await staged.cleanup();
    throw new IntactError('IO', `cannot prepare a temporary copy of the project's recipes: ${(e as Error).message}`, {
      cause: e,
      hint: `check free space in ${tmpdir()} (or set TMPDIR)`,
    });
  }
  return staged;
}

/** A file by hard link when it can (no copy of large vendored sources), else a copy; folders recursively. */
async function copyInto(from: string, to: string): Promise<void> {
  const st = await stat(from).catch(() => undefined);
  if (!st) return;
  await mkdir(dirname(to), { recursive: true });
  if (st.isDirectory()) {
    await cp(from, to, { recursive: true, verbatimSymlinks: true, errorOnExist: false });
    return;
  }
  await link(from, to).catch(() => copyFile(from, to));
}

export interface FileWrite {
  /** Project-relative path. */
  rel: string;
  text: string;
  /** The text it had when the work began (undefined: it did not exist); anything else means someone else edited it meanwhile. */
  before: string | undefined;
}

/**
 * Write the files into the project: each goes to a temporary file beside its
 * target, and only when all are written are they renamed into place. A file that
 * changed since the work began stops everything (PROJECT_CHANGED).
 */
export async function writeProjectFiles(projectDir: string, files: readonly FileWrite[]): Promise<void> {
  const temps: { tmp: string; final: string }[] = [];
  try {
    for (const f of files) {
      const final = join(projectDir, f.rel);
      const now = await readFile(final, 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw e;
      });
      if (now !== f.before) {
        throw new IntactError('PROJECT_CHANGED', `${f.rel} changed while intact was working; nothing was written`, {
          file: f.rel,
          hint: 'run the command again once the other edit is done',
        });
      }
      await mkdir(dirname(final), { recursive: true });
      const tmp = join(dirname(final), `.${f.rel.split('/').pop()}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      temps.push({ tmp, final });
      await writeFile(tmp, f.text, { flag: 'wx' });
    }
    for (const t of temps) await rename(t.tmp, t.final);
  } catch (e) {
    await Promise.all(temps.map((t) => rm(t.tmp, { force: true })));
    if (e instanceof IntactError) throw e;
    throw new IntactError('IO', `cannot write into ${projectDir}: ${(e as Error).message}`, {
      cause: e,
      hint: 'check that the project folder is writable; nothing was changed',
    });
  }
}
