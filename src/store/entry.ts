// Store entries: `<store>/<key>-<name>-<version>/` holds a build's output and
// nothing else; `<store>/meta/<key>.json` says what it is. An entry appears only
// by an atomic rename of a checked, normalised, read-only folder, after its
// metadata was written, so a present entry folder is always a whole one.
// Beside the metadata, `<store>/meta/<key>.files` lists every file the output hash
// was made of (src/store/manifest.ts), so `verify --store` can name what changed.
import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../canonical-json.js';
import { IntactError } from '../errors.js';
import type { Platform } from '../platform.js';
import { entryName } from './key.js';
import { writeManifest } from './manifest.js';
import { writeSeal } from './seal.js';
import type { StoreLayout } from './paths.js';
import { hashRecords, takeRecords } from './tree-hash.js';
import { scanTree, type TreeRecord } from './tree-scan.js';
import { tempName } from '../temp-name.js';

/** How strongly a build was isolated (src/build/sandbox); recorded with every entry. */
export type SandboxLevel =
  /** New user, mount, network, PID, IPC and UTS namespaces; a root holding only the build folder and declared deps. */
  | 'full'
  /** Namespaces for network and PID, but the host's filesystem is visible (no private root could be set up). */
  | 'partial'
  /** No isolation: a controlled environment only. */
  | 'none';

export interface EntryMeta {
  format: 1;
  key: string;
  name: string;
  version: string;
  platform: Platform;
  /** Tree hash of the entry's content (src/store/tree-hash.ts). */
  output: string;
  /** Bytes of file content in the entry. */
  size: number;
  /** Keys of the entries it needs at run time and build time. */
  deps: string[];
  sandbox: SandboxLevel;
  /** How it got here. */
  origin: 'built' | 'substituted';
  /** Paths under the entry to put on PATH. */
  bin: string[];
}

export function entryPath(store: StoreLayout, key: string, name: string, version: string): string {
  return join(store.root, entryName(key, name, version));
}

export async function hasEntry(store: StoreLayout, key: string, name: string, version: string): Promise<boolean> {
  return hasEntrySync(store, key, name, version);
}

/**
 * Synchronous on purpose: a no-op install asks this for every recipe in
 * dependency order, and each async call waits on the thread pool (measured with
 * bench/install-noop.mjs: ~45 ms of 200 were idle waiting).
 */
export function hasEntrySync(store: StoreLayout, key: string, name: string, version: string): boolean {
  try {
    return lstatSync(entryPath(store, key, name, version)).isDirectory();
  } catch {
    return false;
  }
}

export async function readMeta(store: StoreLayout, key: string): Promise<EntryMeta | undefined> {
  return readMetaSync(store, key);
}

/** Synchronous for the same reason as hasEntrySync: install's seal check reads it per entry. */
export function readMetaSync(store: StoreLayout, key: string): EntryMeta | undefined {
  try {
    return JSON.parse(readFileSync(join(store.meta, `${key}.json`), 'utf8')) as EntryMeta;
  } catch {
    return undefined;
  }
}

/** Write an entry's metadata atomically (temp file in the store's tmp, then rename). */
export async function writeMeta(store: StoreLayout, meta: EntryMeta): Promise<void> {
  await mkdir(store.meta, { recursive: true });
  await mkdir(store.tmp, { recursive: true });
  await writeAtomic(join(store.meta, `${meta.key}.json`), canonicalJson(meta), store.tmp);
}

async function writeAtomic(file: string, text: string, tmpDir: string): Promise<void> {
  const tmp = join(tmpDir, tempName('meta', randomBytes(6).toString('hex')));
  try {
    await writeFile(tmp, text, { flag: 'wx', mode: 0o444 });
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Move a finished output into the store. `staged` must be inside `store.tmp`
 * (same filesystem) and already checked, normalised and hashed. When the entry
 * already exists (another process built it meanwhile), that is success: the
 * staged copy is discarded.
 *
 * `records` (the tree-hash records of `staged`) feed the file manifest; without
 * them the ones kept by the treeHash call that made `meta.output` are used, and
 * failing that the tree is read again.
 */
export async function addEntry(store: StoreLayout, staged: string, meta: EntryMeta, opts: { records?: TreeRecord[] } = {}): Promise<'added' | 'present'> {
  const final = entryPath(store, meta.key, meta.name, meta.version);
  await mkdir(store.meta, { recursive: true });
  if (await hasEntry(store, meta.key, meta.name, meta.version)) return 'present';
  const records = opts.records ?? takeRecords(staged, meta.output) ?? (await scanTree(staged)).records;
  // Defence in depth: the manifest, the metadata and the folder must describe the same bytes.
  if (hashRecords(records) !== meta.output) {
    throw new IntactError('OUTPUT_MISMATCH', `the output of ${meta.name} changed after it was hashed: it no longer hashes to ${meta.output}`, {
      file: staged,
      expected: meta.output,
      found: hashRecords(records),
      hint: "nothing was added to the store; build it again, and check that no other process writes into the store's tmp folder",
    });
  }
  // Metadata first: a crash after it and before the rename leaves metadata of an
  // absent entry, which is harmless; the reverse would leave an unexplained entry.
  await writeManifest(store, meta.key, { output: meta.output, records });
  await writeAtomic(join(store.meta, `${meta.key}.json`), canonicalJson(meta), store.tmp);
  try {
    // Renaming a folder to another parent rewrites its `..`, which needs write
    // permission on it for anyone but root: so it moves, writable, to a temp name
    // beside the entries first, becomes read-only there, and only then takes its
    // name by a rename within one folder (which needs no write permission on it).
    // A kill at any point leaves a whole read-only entry or a `publish-` temp
    // the next run sweeps (src/store/leftovers.ts), never a writable entry.
    const aside = join(store.root, tempName('publish', randomBytes(4).toString('hex')));
    await chmod(staged, 0o755);
    await rename(staged, aside);
    await chmod(aside, 0o555);
    await rename(aside, final).catch(async (e: unknown) => {
      await chmod(aside, 0o755).catch(() => undefined);
      await rename(aside, staged).catch(() => undefined);
      throw e;
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await hasEntry(store, meta.key, meta.name, meta.version))) return 'present';
    throw new IntactError('IO', `cannot move the build of ${meta.name} into the store: ${(e as Error).message}`, {
      file: final,
      cause: e,
      hint: 'check free space and permissions of the store folder',
    });
  }
  // After the last chmod: the seal records the entry as published. Without one,
  // the first use hashes the entry in full instead (src/store/seal.ts).
  await writeSeal(store, meta.key, final, meta.bin).catch(() => undefined);
  return 'added';
}
