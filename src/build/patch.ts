// The `patch` step: a unified diff from the repository, applied by intact itself
// (jsdiff), so a build needs no host `patch`. Like `patch -pN`, N leading path
// components are dropped from the file names in the diff. A hunk that does not
// apply is an error naming the file; nothing is fuzzed.
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { applyPatch, parsePatch } from 'diff';
import { IntactError } from '../errors.js';
import { isContainedPath } from '../recipe/hash.js';

function stripPath(name: string | undefined, strip: number): string | undefined {
  if (name === undefined || name === '/dev/null') return undefined;
  const clean = name.replace(/\t.*$/, '');
  const parts = clean.split('/').filter((p) => p !== '');
  return parts.slice(strip).join('/');
}

/**
 * Apply `patchFile` (a path in the project) inside `dir`. `resolve` maps a path
 * relative to the step's folder to a real path and refuses one outside the build.
 */
export async function applyPatchFile(projectDir: string, patchFile: string, strip: number, resolve: (p: string) => Promise<string>): Promise<void> {
  if (!isContainedPath(patchFile)) {
    throw new IntactError('REPO_FILE_ESCAPES', `patch ${patchFile} is not a path inside the project`, {
      file: patchFile,
      hint: 'keep patches in the repository, e.g. patches/<name>.patch',
    });
  }
  const text = await readFile(join(projectDir, patchFile), 'utf8');
  const patches = parsePatch(text);
  if (patches.length === 0 || patches.every((p) => p.hunks.length === 0)) {
    throw new IntactError('BUILD_STEP', `${patchFile} holds no unified diff`, { file: patchFile, hint: 'make it with `diff -u` or `git diff`' });
  }
  for (const p of patches) {
    const target = stripPath(p.newFileName, strip) ?? stripPath(p.oldFileName, strip);
    if (target === undefined || target === '') {
      throw new IntactError('BUILD_STEP', `${patchFile}: a diff names no file after stripping ${strip} component(s)`, {
        file: patchFile,
        hint: 'set `strip:` on the patch step (default 1, like patch -p1)',
      });
    }
    const real = await resolve(target);
    const creating = p.oldFileName === '/dev/null';
    const deleting = p.newFileName === '/dev/null';
    let before = '';
    if (!creating) {
      try {
        before = await readFile(real, 'utf8');
      } catch {
        throw new IntactError('BUILD_STEP', `${patchFile}: ${target} does not exist in the sources`, {
          file: patchFile,
          hint: 'check `strip:` and `cwd:` of the patch step',
        });
      }
    }
    const after = applyPatch(before, p);
    if (after === false) {
      throw new IntactError('BUILD_STEP', `${patchFile}: a hunk does not apply to ${target}`, {
        file: patchFile,
        hint: 'the sources differ from what the patch expects; regenerate the patch against this version',
      });
    }
    if (deleting) await rm(real, { force: true });
    else {
      await mkdir(dirname(real), { recursive: true });
      await writeFile(real, after);
    }
  }
}
