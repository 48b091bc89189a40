// Reading and writing intact.lock on disk. Writes are atomic (temp + rename), so
// an interrupted `intact lock` leaves the old lock or the new one, never half.
import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { dotTempName, sweepLeftovers } from '../temp-name.js';
import { LOCK_FILE, parseLock, serializeLock } from './parse.js';
import type { Lockfile } from './types.js';

/** The lock and its text; undefined when the project has none yet. */
export async function readLock(projectDir: string): Promise<{ lock: Lockfile; text: string } | undefined> {
  let text: string;
  try {
    // Sync: one small file, read on every command's start (see load.ts on why).
    text = readFileSync(join(projectDir, LOCK_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IntactError('IO', `cannot read ${LOCK_FILE}: ${(e as Error).message}`, { file: LOCK_FILE, cause: e, hint: 'check the file permissions' });
  }
  return { lock: parseLock(text, LOCK_FILE), text };
}

export async function writeLock(projectDir: string, lock: Lockfile): Promise<void> {
  const final = join(projectDir, LOCK_FILE);
  const tmp = join(projectDir, dotTempName(LOCK_FILE));
  try {
    await writeFile(tmp, serializeLock(lock), { flag: 'wx' });
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new IntactError('IO', `cannot write ${LOCK_FILE}: ${(e as Error).message}`, {
      file: LOCK_FILE,
      cause: e,
      hint: 'check that the project folder is writable',
    });
  }
}

/** Temps a killed `intact lock` left beside the lock (by PID and host); every `lock` removes them first. */
export async function sweepLockTemps(projectDir: string): Promise<void> {
  await sweepLeftovers(projectDir, [], (p) => rm(p, { force: true })).catch(() => undefined);
}
