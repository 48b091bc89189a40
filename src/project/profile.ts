// The project's profile: `.intact/bin`, one link per `bin` entry of the installed
// recipes, pointing into the store. It is replaced atomically: a new profile
// folder is made aside, then the `.intact/bin` symlink is swapped to it by a
// rename, so a reader sees the old set or the new one, never a mix. The store
// records the project as a gc root, listing the entries its profile needs.
import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { byCodePoint, canonicalJson } from '../canonical-json.js';
import { IntactError } from '../errors.js';
import { ownDir, writeNoFollow } from '../store/no-follow.js';
import type { StoreLayout } from '../store/paths.js';
import type { Platform } from '../recipe/types.js';

export { PROFILE_DIR } from './find.js';
import { PROFILE_DIR } from './find.js';
import { dotTempName, sweepLeftovers } from '../temp-name.js';

export interface ProfileItem {
  recipe: string;
  version: string;
  /** The entry folder name in the store. */
  entry: string;
  /** The recipe's `bin` paths, relative to the entry. */
  bin: string[];
}

export interface ProfileManifest {
  format: 1;
  store: string;
  items: ProfileItem[];
  /** Link name → absolute target. */
  links: Record<string, string>;
}

export function binName(binPath: string): string {
  return binPath.slice(binPath.lastIndexOf('/') + 1);
}

export async function readProfile(projectDir: string): Promise<ProfileManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(projectDir, PROFILE_DIR, 'profile.json'), 'utf8')) as ProfileManifest;
  } catch {
    return undefined;
  }
}

/** Make the profile for `items` and switch `.intact/bin` to it. */
export async function writeProfile(projectDir: string, store: StoreLayout, items: ProfileItem[]): Promise<ProfileManifest> {
  const links: Record<string, string> = {};
  const owner: Record<string, string> = {};
  for (const it of [...items].sort((a, b) => byCodePoint(a.recipe, b.recipe))) {
    for (const b of it.bin) {
      const name = binName(b);
      if (owner[name] !== undefined && owner[name] !== it.recipe) {
        throw new IntactError('BIN_CONFLICT', `both ${owner[name]} and ${it.recipe} provide a program named "${name}"`, {
          hint: 'remove it from the `bin` of one of the recipes, or install only one of them',
        });
      }
      const target = join(store.root, it.entry, b);
      const st = await stat(target).catch(() => undefined);
      if (!st?.isFile() || (st.mode & 0o111) === 0) {
        throw new IntactError('BIN_MISSING', `${it.recipe}: bin ${b} is not an executable file in its output`, {
          file: `recipes/${it.recipe}.yaml`,
          field: 'bin',
          hint: `fix \`bin:\` in recipes/${it.recipe}.yaml, or the build steps that should make ${b}`,
        });
      }
      owner[name] = it.recipe;
      links[name] = target;
    }
  }
  const manifest: ProfileManifest = { format: 1, store: store.root, items: [...items].sort((a, b) => byCodePoint(a.recipe, b.recipe)), links };
  const text = canonicalJson(manifest);
  const id = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const base = join(projectDir, PROFILE_DIR);
  const profiles = join(base, 'profiles');
  const dir = join(profiles, id);
  await ownDir(base, 'the profile folder');
  await ownDir(profiles, 'the profile folder');
  if (
    !(await lstat(dir).then(
      () => true,
      () => false,
    ))
  ) {
    const tmp = join(profiles, dotTempName('new'));
    await mkdir(join(tmp, 'bin'), { recursive: true });
    for (const [name, target] of Object.entries(links)) await symlink(target, join(tmp, 'bin', name));
    await writeFile(join(tmp, 'profile.json'), text);
    await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
      await rm(tmp, { recursive: true, force: true });
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
    });
  }
  // The swap: a symlink made aside, renamed over the old one.
  const link = join(base, 'bin');
  const old = await lstat(link).catch(() => undefined);
  if (old && !old.isSymbolicLink()) await rm(link, { recursive: true, force: true });
  const tmpLink = join(base, dotTempName('bin'));
  await symlink(join('profiles', id, 'bin'), tmpLink);
  await rename(tmpLink, link);
  await writeNoFollow(base, 'profile.json', text);
  await registerRoot(
    projectDir,
    store,
    manifest.items.map((i) => i.entry),
  );
  // Older profiles are no longer reachable from .intact/bin.
  // A live writer's new profile stays; what a killed one left (by PID and host) goes.
  for (const p of await readdir(profiles)) if (p !== id && !p.startsWith('.')) await rm(join(profiles, p), { recursive: true, force: true });
  for (const dir of [profiles, base]) await sweepLeftovers(dir, [], (p) => rm(p, { recursive: true, force: true }));
  return manifest;
}

/**
 * `<store>/roots/<hash of the project path>.json`: what this project keeps alive
 * (for gc). A cross build's outputs are not on the profile (they do not run
 * here) but are the project's too: `<hash>-<platform>.json` keeps them, the
 * last ones installed for that platform.
 */
export async function registerRoot(projectDir: string, store: StoreLayout, entries: readonly string[], platform?: Platform): Promise<void> {
  await mkdir(store.root, { recursive: true });
  await ownDir(store.roots, "the store's roots folder");
  const id = createHash('sha256').update(projectDir).digest('hex').slice(0, 32) + (platform ? `-${platform}` : '');
  const text = canonicalJson({ format: 1, project: projectDir, entries: [...entries].sort(byCodePoint) });
  // Unchanged (a no-op install): nothing to write, so a read-only store is no obstacle.
  if (readText(join(store.roots, `${id}.json`)) === text) return;
  // No-follow: a root planted as a link is replaced by a file, not written through.
  await writeNoFollow(store.roots, `${id}.json`, text);
}

/** A file's text, read without following a link; undefined when it cannot be read. */
function readText(file: string): string | undefined {
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
