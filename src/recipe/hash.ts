// The recipe hash: what the lock records to tell whether a recipe changed since it
// was locked. It covers the recipe's canonical form (so comments and formatting
// do not count) and the bytes of every repository file the recipe references
// (patches, `file` sources), so editing a patch makes the lock stale too.
import { createHash } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { canonicalCompact } from '../canonical-json.js';
import { finding, type Finding } from '../errors.js';
import { referencedFiles } from './references.js';
import { fieldName } from './schema.js';
import type { LoadedRecipe, Recipe } from './types.js';

export const RECIPE_HASH_VERSION = 1;

export function sha256Sri(data: string | Uint8Array): string {
  return `sha256-${createHash('sha256').update(data).digest('base64')}`;
}

/**
 * Pure: the hash of a recipe given the hashes of the files it references. Its
 * `limits` bound how a build may run, not what it makes: raising one neither
 * makes the lock stale nor changes the store key.
 */
export function recipeHash(recipe: Recipe, files: Record<string, string>): string {
  const { limits: _limits, ...made } = recipe;
  return sha256Sri(canonicalCompact({ v: RECIPE_HASH_VERSION, recipe: made, files }));
}

/** A path that stays inside the project, judged on the text alone. */
export function isContainedPath(p: string): boolean {
  if (p === '' || isAbsolute(p) || p.includes('\\') || p.includes('\u0000')) return false;
  return !p.split('/').includes('..');
}

/**
 * Hash the repository files a recipe references. A path that leaves the project
 * (by `..`, an absolute path, or a symlink pointing outside) or does not exist is
 * a finding at the field that names it.
 */
export async function hashReferencedFiles(projectDir: string, loaded: LoadedRecipe): Promise<{ files: Record<string, string>; findings: Finding[] }> {
  const files: Record<string, string> = {};
  const findings: Finding[] = [];
  const refs = referencedFiles(loaded.recipe);
  if (refs.length === 0) return { files, findings };
  const root = await realpath(projectDir);
  for (const ref of refs) {
    const place = { file: loaded.file, ...loaded.locate(ref.field), field: fieldName(ref.field) };
    if (!isContainedPath(ref.path)) {
      findings.push(
        finding('REPO_FILE_ESCAPES', `"${ref.path}" is not a path inside the project`, {
          ...place,
          hint: 'reference files by a relative path inside the repository, without .. or a leading /',
        }),
      );
      continue;
    }
    let real: string;
    try {
      real = await realpath(join(root, ref.path));
    } catch {
      findings.push(finding('REPO_FILE_MISSING', `"${ref.path}" does not exist`, { ...place, hint: `add ${ref.path} to the repository, or fix the path` }));
      continue;
    }
    const rel = relative(root, real);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
      findings.push(
        finding('REPO_FILE_ESCAPES', `"${ref.path}" leads outside the project (through a symlink)`, {
          ...place,
          hint: 'copy the file into the repository instead of linking to it',
        }),
      );
      continue;
    }
    try {
      files[ref.path] = sha256Sri(await readFile(real));
    } catch (e) {
      // A directory (vendored source tree) is hashed by the fetcher as a tree; here its
      // listing is not needed to detect edits of the recipe itself.
      if ((e as NodeJS.ErrnoException).code === 'EISDIR') files[ref.path] = await hashDirectory(real);
      else findings.push(finding('REPO_FILE_MISSING', `cannot read "${ref.path}": ${(e as Error).message}`, { ...place, hint: 'make the file readable' }));
    }
  }
  return { files, findings };
}

async function hashDirectory(dir: string): Promise<string> {
  const { treeHash } = await import('../store/tree-hash.js');
  return treeHash(dir);
}
