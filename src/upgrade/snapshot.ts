// The project's recipes and lock as they stand at one point: a git revision or
// the work tree. `diff` and `review` compare two of them; `upgrade` compares the
// project before and after its edit. Unreadable recipes and locks are kept with
// their findings, so a comparison can say what is broken instead of failing.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Finding, isIntactError } from '../errors.js';
import { LOCK_FILE, parseLock, type Lockfile } from '../lock/index.js';
import { parseRecipe, RECIPES_DIR } from '../recipe/index.js';
import type { LoadedRecipe } from '../recipe/types.js';
import { listAt, readAt, type ProjectRepo } from './git.js';

export interface SnapshotRecipe {
  /** Project-relative, e.g. recipes/zig.yaml. */
  file: string;
  text: string;
  loaded?: LoadedRecipe;
  findings: Finding[];
}

export interface Snapshot {
  /** How the snapshot is named to a reader: "main (merge base 1a2b3c4)", "the work tree". */
  label: string;
  /** The commit, for revisions. */
  rev?: string;
  /** By recipe name (the file name without .yaml). */
  recipes: Map<string, SnapshotRecipe>;
  lock?: Lockfile;
  lockText?: string;
  /** Why the lock could not be read, when it exists but is unusable. */
  lockProblem?: Finding;
}

const RECIPE_FILE = /^recipes\/([a-z0-9][a-z0-9._-]{0,99})\.yaml$/;

/** Pure: a snapshot from file texts (project-relative path → text). */
export function snapshotOf(label: string, files: ReadonlyMap<string, string>, lockText: string | undefined, rev?: string): Snapshot {
  const recipes = new Map<string, SnapshotRecipe>();
  for (const [file, text] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const m = RECIPE_FILE.exec(file);
    if (!m) continue;
    const parsed = parseRecipe(text, file);
    recipes.set(m[1]!, { file, text, ...(parsed.recipe ? { loaded: parsed.recipe } : {}), findings: parsed.findings });
  }
  const snap: Snapshot = { label, recipes, ...(rev !== undefined ? { rev } : {}) };
  if (lockText !== undefined) {
    snap.lockText = lockText;
    try {
      snap.lock = parseLock(lockText, LOCK_FILE);
    } catch (e) {
      if (!isIntactError(e)) throw e;
      snap.lockProblem = e.toFinding();
    }
  }
  return snap;
}

export async function snapshotAt(repo: ProjectRepo, rev: string, label: string): Promise<Snapshot> {
  const files = (await listAt(repo, rev, RECIPES_DIR)).filter((f) => RECIPE_FILE.test(f));
  const texts = await readAt(repo, rev, [...files, LOCK_FILE]);
  const recipes = new Map<string, string>();
  for (const f of files) {
    const t = texts.get(f);
    if (t !== undefined) recipes.set(f, t);
  }
  return snapshotOf(label, recipes, texts.get(LOCK_FILE), rev);
}

export async function snapshotWorkTree(projectDir: string, label = 'the work tree'): Promise<Snapshot> {
  const names = await readdir(join(projectDir, RECIPES_DIR)).catch(() => [] as string[]);
  const files = new Map<string, string>();
  for (const n of names) {
    const rel = `${RECIPES_DIR}/${n}`;
    if (!RECIPE_FILE.test(rel)) continue;
    const text = await readFile(join(projectDir, rel), 'utf8').catch(() => undefined);
    if (text !== undefined) files.set(rel, text);
  }
  const lockText = await readFile(join(projectDir, LOCK_FILE), 'utf8').catch(() => undefined);
  return snapshotOf(label, files, lockText);
}
