// Store entries for the cache tests without running builds: a tree written into
// a temp store, normalised, hashed and added as a build would add it; plus the
// checks substitution runs (the real ones the build context uses).
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { assertOutputOk } from '../../src/build/checks/index.js';
import { normaliseOutput } from '../../src/build/checks/normalise.js';
import { SOURCE_DATE_EPOCH } from '../../src/store/entry-layout.js';
import type { PlanLike } from '../../src/cache/substitute.js';
import type { EntryChecks } from '../../src/cache/entry-checks.js';
import { extract } from '../../src/fetch/extract/index.js';
import { addEntry, type EntryMeta } from '../../src/store/entry.js';
import { layoutOf, type StoreLayout } from '../../src/store/paths.js';
import { storeKey } from '../../src/store/key.js';
import { treeHash } from '../../src/store/tree-hash.js';

export type TreeSpec = Record<string, string | { content: string; exec: true } | { link: string } | { dir: true }>;

const stores: string[] = [];
/** Dependency closures of the entries made here, by key. */
const closures = new Map<string, string[]>();

export async function tempStore(): Promise<StoreLayout> {
  const root = await mkdtemp(join(tmpdir(), 'intact-cache-store-'));
  stores.push(root);
  const s = layoutOf(root);
  await mkdir(s.tmp, { recursive: true });
  return s;
}

export async function cleanupStores(): Promise<void> {
  const { removeTree } = await import('../../src/cache/tmp.js');
  await Promise.all(stores.splice(0).map((d) => removeTree(d)));
}

export async function writeTree(dir: string, spec: TreeSpec): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [rel, v] of Object.entries(spec)) {
    const abs = join(dir, rel);
    await mkdir(dirname(abs), { recursive: true });
    if (typeof v === 'string') await writeFile(abs, v);
    else if ('dir' in v) await mkdir(abs, { recursive: true });
    else if ('link' in v) await symlink(v.link, abs);
    else await writeFile(abs, v.content, { mode: 0o755 });
  }
}

/** A plan-like entry with a real key (from its name, version and content) added to `store` as if built. */
export async function addTestEntry(store: StoreLayout, name: string, version: string, spec: TreeSpec, deps: PlanLike[] = []): Promise<PlanLike> {
  const key = storeKey({
    recipeHash: `sha256-${createHash('sha256')
      .update(`${name}@${version}:${JSON.stringify(spec)}`)
      .digest('base64')}`,
    sources: [],
    deps: Object.fromEntries(deps.map((d) => [d.name, d.key])),
    platform: 'linux-x64',
  });
  const plan: PlanLike = { name, version, platform: 'linux-x64', key, entry: `${key}-${name}-${version}`, bin: [], deps: deps.map((d) => ({ name: d.name })) };
  const staged = join(store.tmp, `stage-${key}`);
  await writeTree(staged, spec);
  await normaliseOutput(staged, SOURCE_DATE_EPOCH);
  const output = await treeHash(staged);
  let size = 0;
  for (const e of await readdir(staged, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) size += statSync(join(e.parentPath, e.name)).size;
  }
  const closure = new Set<string>();
  for (const d of deps) for (const k of [d.key, ...(closures.get(d.key) ?? [])]) closure.add(k);
  closures.set(key, [...closure]);
  const meta: EntryMeta = {
    format: 1,
    key,
    name,
    version,
    platform: 'linux-x64',
    output,
    size,
    deps: [...closure].sort(),
    sandbox: 'full',
    origin: 'built',
    bin: [],
  };
  await addEntry(store, staged, meta);
  return plan;
}

/** The checks install uses, on `store`. */
export function checksFor(store: StoreLayout): EntryChecks {
  return {
    store,
    checkOutput: async (dir, input) => {
      await assertOutputOk(dir, input);
    },
    normalise: normaliseOutput,
    extract,
  };
}

/** Entry folders in a store (no tmp leftovers counted). */
export async function entriesOf(store: StoreLayout): Promise<string[]> {
  return (await readdir(store.root).catch(() => [] as string[])).filter((e) => /^[0-9a-z]{32}-/.test(e)).sort();
}

/** What is left in the store's tmp folder (must be nothing after any substitution). */
export async function tmpLeftovers(store: StoreLayout): Promise<string[]> {
  return (await readdir(store.tmp).catch(() => [] as string[])).filter((e) => !e.startsWith('stage-'));
}

export async function removeDir(d: string): Promise<void> {
  await rm(d, { recursive: true, force: true });
}
