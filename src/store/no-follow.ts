// Writing intact's own files in the store and the profile (build logs, gc roots,
// the profile manifest) so that a symlink planted there is never written
// through. A repository can commit such links (a tracked file under an ignored
// folder is checked out all the same), and `install` would then overwrite
// whatever they point at in the user's home.
//
// Each write goes to an exclusive temp file (O_CREAT|O_EXCL|O_NOFOLLOW: it is
// new, whatever was planted), then renames over the final name, which replaces a
// link rather than following it. The folders themselves must be real folders.
import { constants, lstatSync } from 'node:fs';
import { lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { dotTempName } from '../temp-name.js';

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Atomically make `dir/name` hold `data`, never writing through a link. */
export async function writeNoFollow(dir: string, name: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = join(dir, dotTempName(name));
  try {
    const fh = await open(tmp, CREATE, mode);
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, name));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** writeNoFollow with the bytes of `from`, itself opened without following a link. */
export async function copyNoFollow(from: string, dir: string, name: string): Promise<void> {
  const fh = await open(from, constants.O_RDONLY | constants.O_NOFOLLOW);
  let data: Buffer;
  try {
    data = await fh.readFile();
  } finally {
    await fh.close();
  }
  await writeNoFollow(dir, name, data);
}

/** Make `dir` if missing (its parent must exist) and refuse it when it is a link or not a folder. */
export async function ownDir(dir: string, what: string): Promise<void> {
  await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw linked(dir, what, st.isSymbolicLink());
}

/** The same check for folders that may not exist yet (missing is fine). */
export function refuseLinkedDir(dir: string, what: string): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw linked(dir, what, st.isSymbolicLink());
}

function linked(dir: string, what: string, link: boolean): IntactError {
  return new IntactError('FOLDER_IS_LINK', `${dir} (${what}) is ${link ? 'a symlink' : 'not a folder'}; intact writes there and refuses to follow it`, {
    file: dir,
    hint: link
      ? 'a repository may have committed this link: remove it (`rm` the link, not its target) and run the command again; to keep the store elsewhere, use --store or INTACT_STORE'
      : 'move the file away and run the command again',
  });
}
