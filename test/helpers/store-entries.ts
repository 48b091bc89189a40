// Store entries made by hand, without builds: a staged tree, normalised, hashed
// and added as a build would (so it has metadata and a file manifest). For the
// store-side tests of verify --store, gc, list and why.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { normaliseOutput } from '../../src/build/checks/normalise.js';
import { addEntry, entryPath, type EntryMeta } from '../../src/store/entry.js';
import { storeKey } from '../../src/store/key.js';
import { layoutOf, type StoreLayout } from '../../src/store/paths.js';
import { removeTree, treeBytes } from '../../src/store/remove-tree.js';
import { treeHash } from '../../src/store/tree-hash.js';

export type FileSpec = string | { exec: string } | { link: string } | { dir: true };

const made: string[] = [];

export async function makeStore(): Promise<StoreLayout> {
  const root = await mkdtemp(join(tmpdir(), 'intact-store-'));
  made.push(root);
  const store = layoutOf(root);
  for (const d of [store.tmp, store.meta, store.roots]) await mkdir(d, { recursive: true });
  return store;
}

export interface MadeEntry {
  key: string;
  folder: string;
  path: string;
  meta: EntryMeta;
}

export async function putEntry(
  store: StoreLayout,
  name: string,
  version: string,
  files: Record<string, FileSpec>,
  opts: { deps?: string[] } = {},
): Promise<MadeEntry> {
  const key = storeKey({ recipeHash: `sha256-${randomBytes(32).toString('base64')}`, sources: [], deps: {}, platform: 'linux-x64' });
  const staged = join(store.tmp, `stage-${randomBytes(4).toString('hex')}`);
  await mkdir(staged, { recursive: true });
  for (const [rel, spec] of Object.entries(files)) {
    const p = join(staged, rel);
    await mkdir(typeof spec === 'object' && 'dir' in spec ? p : dirname(p), { recursive: true });
    if (typeof spec === 'string') await writeFile(p, spec);
    else if ('exec' in spec) await writeFile(p, spec.exec, { mode: 0o755 });
    else if ('link' in spec) await symlink(spec.link, p);
  }
  await normaliseOutput(staged, 315532800);
  const output = await treeHash(staged);
  const meta: EntryMeta = {
    format: 1,
    key,
    name,
    version,
    platform: 'linux-x64',
    output,
    size: await treeBytes(staged),
    deps: [...(opts.deps ?? [])].sort(),
    sandbox: 'full',
    origin: 'built',
    bin: [],
  };
  expect(await addEntry(store, staged, meta)).toBe('added');
  return { key, folder: `${key}-${name}-${version}`, path: entryPath(store, key, name, version), meta };
}

/** Remove the stores made (their entries are read-only). */
export async function cleanupStores(): Promise<void> {
  for (const d of made.splice(0)) await removeTree(d);
}

/** A gc root for `project` listing `entries` (as the profile writes it). */
export async function putRoot(store: StoreLayout, project: string, entries: MadeEntry[], id = randomBytes(16).toString('hex')): Promise<string> {
  const file = join(store.roots, `${id}.json`);
  await writeFile(file, JSON.stringify({ format: 1, project, entries: entries.map((e) => e.folder).sort() }));
  return file;
}
