// Which project a command works on: the nearest folder, from the working folder
// upwards, that holds intact.lock or recipes/ (as Cargo and npm find their
// manifests), so intact works from any subfolder of a project.
import { dirname, join, resolve } from 'node:path';
import { IntactError } from '../errors.js';
import { exists } from '../fs-exists.js';

export async function findProject(start: string): Promise<string> {
  let dir = resolve(start);
  for (;;) {
    if ((await exists(join(dir, 'intact.lock'))) || (await exists(join(dir, 'recipes')))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new IntactError('PROJECT_NOT_FOUND', `no intact project in ${resolve(start)} or any folder above it`, {
    hint: 'run intact inside a project (a folder with recipes/ or intact.lock), or create one with `intact init`',
  });
}

/** The project's profile folder (.intact/bin and its manifest). */
export const PROFILE_DIR = '.intact';
