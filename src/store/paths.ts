// Where the store is, and the fixed layout inside it. Every path here is a pure
// function of the store root (and of a hash), so two processes agree on it.
import { isAbsolute, join, resolve } from 'node:path';
import { IntactError } from '../errors.js';
import { refuseLinkedDir } from './no-follow.js';

/** Folders that belong to the system; a user-space store never lives there. */
const SYSTEM_ROOTS = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/proc', '/sbin', '/sys', '/usr', '/var/lib', '/var/cache'];

export interface StoreLayout {
  root: string;
  /** Downloads, content-addressed (src/fetch/cache.ts). */
  cache: string;
  /** Temporary files and folders, on the same filesystem as everything else. */
  tmp: string;
  /** Per entry: metadata written before the entry appears (`<key>.json`). */
  meta: string;
  /** Per entry: the log of its last build (`<key>.log`). */
  logs: string;
  /** Per key: the lock held while it is built. */
  locks: string;
  /** Projects whose profiles keep entries alive (gc roots). */
  roots: string;
  /** Per git remote: the git fetcher's bare mirror (`<sha256 hex of the URL>`, src/fetch/git.ts). */
  git: string;
}

/**
 * The store for a project: `--store` / INTACT_STORE when given (relative to the
 * working folder, as a user typed it), else `<project>/store`.
 */
export function resolveStore(projectDir: string, option: string | undefined, cwd = process.cwd()): StoreLayout {
  const root = option !== undefined && option !== '' ? resolve(cwd, option) : join(projectDir, 'store');
  if (!isAbsolute(root) || root === '/' || SYSTEM_ROOTS.some((s) => root === s || root.startsWith(`${s}/`))) {
    throw new IntactError('STORE_PATH', `the store cannot be ${root}: that is a system folder`, {
      hint: 'use a folder you own, e.g. --store ~/.local/share/intact/store (the default is ./store in the project)',
    });
  }
  const layout = layoutOf(root);
  // A store given by the user may itself be a link to another disk; the default
  // one comes with the repository, which could commit it as a link.
  if (option === undefined || option === '') refuseLinkedDir(root, 'the store');
  for (const [what, dir] of Object.entries(layout)) if (what !== 'root') refuseLinkedDir(dir, `the store's ${what} folder`);
  return layout;
}

export function layoutOf(root: string): StoreLayout {
  const at = (d: string) => join(root, d);
  return { root, cache: at('cache'), tmp: at('tmp'), meta: at('meta'), logs: at('logs'), locks: at('locks'), roots: at('roots'), git: at('git') };
}
