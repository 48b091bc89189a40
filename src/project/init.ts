// `intact init`: turn an existing folder into an intact project. It checks first
// and then creates, so it either makes everything or touches nothing; it never
// overwrites a file (an existing .gitignore only gains the lines it lacks).
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { emptyLock, LOCK_FILE, serializeLock } from '../lock/index.js';
import { exists } from '../fs-exists.js';

export const GITIGNORE_LINES = ['/store/*', '!/store/.gitkeep', '/.intact/'];

export async function initProject(dir: string): Promise<{ created: string[]; updated: string[] }> {
  const planned = ['recipes', LOCK_FILE, 'store'];
  const present: string[] = [];
  for (const p of planned) if (await exists(join(dir, p))) present.push(p);
  if (present.length > 0) {
    throw new IntactError('INIT_EXISTS', `this folder already has ${present.join(', ')}`, {
      file: present[0],
      hint: 'intact init never overwrites; the project is already set up (run `intact verify`), or move those away first',
    });
  }
  const created: string[] = [];
  const updated: string[] = [];
  await mkdir(join(dir, 'recipes'));
  created.push('recipes/');
  await writeFile(join(dir, LOCK_FILE), serializeLock(emptyLock()), { flag: 'wx' });
  created.push(LOCK_FILE);
  await mkdir(join(dir, 'store'));
  await writeFile(join(dir, 'store', '.gitkeep'), '', { flag: 'wx' });
  created.push('store/.gitkeep');

  const gi = join(dir, '.gitignore');
  const current = await readFile(gi, 'utf8').catch(() => undefined);
  const have = new Set((current ?? '').split(/\r?\n/).map((l) => l.trim()));
  const missing = GITIGNORE_LINES.filter((l) => !have.has(l));
  if (current === undefined) {
    await writeFile(gi, `# intact: the store's contents and the profile are local\n${missing.join('\n')}\n`, { flag: 'wx' });
    created.push('.gitignore');
  } else if (missing.length > 0) {
    const sep = current === '' || current.endsWith('\n') ? '' : '\n';
    await appendFile(gi, `${sep}# intact: the store's contents and the profile are local\n${missing.join('\n')}\n`);
    updated.push('.gitignore');
  }
  return { created, updated };
}
