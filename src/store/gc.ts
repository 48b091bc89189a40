// `intact gc`: remove what no root reaches. Live roots (src/store/roots.ts) are
// the projects whose folders still exist, plus pending roots of running installs;
// each keeps the entries it lists and, through metadata `deps`, what they need.
// A live project's intact.lock keeps the downloads it pins (the CLI reads the
// lock: the store layer does not know its format) and their git mirrors.
//
// Safe while other intact processes use the same store:
// - installs hold a pending root from before they build or reuse anything, so
//   what they are about to root is reachable already;
// - nothing younger than `minAgeMs` is removed (entries: the time they arrived;
//   downloads: the time they were written), which covers the processes that root
//   nothing (`intact build`, `intact fetch`) and clocks that disagree a little;
// - an entry is removed only under its key lock (never waiting: a held lock
//   means someone builds or repairs it, so it is skipped), and only after it was
//   renamed aside and the roots read again: if a root reached it meanwhile, it is
//   renamed back. So at no point is an entry some root reaches deleted.
// Removal order is the reverse of adding: the entry folder, then its metadata.
//
// When it cannot know what is needed (a root file that cannot be read, an entry a
// root reaches whose metadata is gone, a live project whose lock cannot be read),
// it removes nothing of that kind and says why (STORE_GC_INCOMPLETE).
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { finding, type Finding } from '../errors.js';
import { listCache } from './cache-files.js';
import type { EntryMeta } from './entry.js';
import { keyOfFolder, listStore, loadMeta, type StoredEntry } from './listing.js';
import { tryLockKey } from './lock.js';
import type { StoreLayout } from './paths.js';
import { readRoots, reachable, type Root } from './roots.js';
import { tempName } from '../temp-name.js';
import { sweepStore } from './leftovers.js';
import { removeTree, treeBytes } from './remove-tree.js';

/** The default minimum age of anything gc removes. */
export const DEFAULT_MIN_AGE_MS = 15 * 60 * 1000;

/** What a live project's lock keeps: absolute paths in the store. */
export interface Pins {
  cacheFiles: string[];
  gitMirrors: string[];
}

export interface GcOptions {
  dryRun?: boolean;
  minAgeMs?: number;
  /** The downloads a project's intact.lock pins; undefined when it has no lock or it cannot be read. */
  pinsOf: (projectDir: string) => Promise<Pins | undefined>;
  now?: number;
}

export interface GcReport {
  dryRun: boolean;
  /** Entries removed (or, with dryRun, that would be). */
  removed: { entry: string; label: string; bytes: number }[];
  cacheRemoved: { path: string; bytes: number }[];
  /** Metadata, logs and locks without entries, dead processes' leftovers, unused git mirrors. */
  otherRemoved: string[];
  freedBytes: number;
  kept: { entries: number; cacheFiles: number };
  /** Unreachable entries left in place, and why. */
  skipped: { entry: string; label: string; reason: string }[];
  droppedRoots: { project: string; file: string; reason: string }[];
  findings: Finding[];
}

export async function collectGarbage(store: StoreLayout, opts: GcOptions): Promise<GcReport> {
  const now = opts.now ?? Date.now();
  const minAge = opts.minAgeMs ?? DEFAULT_MIN_AGE_MS;
  const cutoff = now - minAge;
  const dryRun = opts.dryRun === true;
  const report: GcReport = {
    dryRun,
    removed: [],
    cacheRemoved: [],
    otherRemoved: [],
    freedBytes: 0,
    kept: { entries: 0, cacheFiles: 0 },
    skipped: [],
    droppedRoots: [],
    findings: [],
  };
  const incomplete = (message: string, file?: string): void => {
    report.findings.push(
      finding('STORE_GC_INCOMPLETE', message, {
        ...(file ? { file } : {}),
        hint: 'run `intact verify --store` and `intact repair`, or remove the file at fault; gc removed nothing it could not prove unused',
      }),
    );
  };

  const roots = await readRoots(store, now);
  for (const u of roots.unreadable) incomplete(`the gc root ${u.file} cannot be read (${u.why}): no entry or download was removed`, u.file);
  for (const d of roots.dropped) {
    report.droppedRoots.push({ project: d.project, file: d.file, reason: d.reason });
    if (!dryRun) await rm(d.file, { force: true });
  }

  const listing = await listStore(store);
  const metas = new Map(listing.entries.filter((e) => e.meta).map((e) => [e.key, e.meta!] as const));
  const present = new Set(listing.entries.map((e) => e.key));
  const reach = reachable(roots.live, (k) => metas.get(k), present);
  for (const k of reach.blind)
    incomplete(`the entry ${k} is in use but has no metadata, so what it needs is unknown: no entry was removed`, join(store.meta, `${k}.json`));
  const entriesSafe = roots.unreadable.length === 0 && reach.blind.length === 0;

  const lockedOut = new Set<string>();
  for (const e of listing.entries) {
    if (reach.keys.has(e.key)) {
      report.kept.entries++;
      continue;
    }
    const skip = (reason: string): void => {
      report.kept.entries++;
      report.skipped.push({ entry: e.folder, label: e.label, reason });
    };
    if (!entriesSafe) {
      skip('gc could not tell what is in use');
      continue;
    }
    const arrived = Math.max(e.changedMs, await mtimeOf(join(store.meta, `${e.key}.json`)));
    if (arrived > cutoff) {
      skip(`added less than ${Math.round(minAge / 60_000)} minute(s) ago`);
      continue;
    }
    const bytes = e.meta?.size ?? (e.type === 'dir' ? await treeBytes(e.path) : 0);
    if (dryRun) {
      report.removed.push({ entry: e.folder, label: e.label, bytes });
      report.freedBytes += bytes;
      continue;
    }
    const outcome = await removeEntry(store, e, now);
    if (typeof outcome !== 'string') {
      report.removed.push({ entry: e.folder, label: e.label, bytes });
      report.freedBytes += bytes;
      report.otherRemoved.push(...outcome.files, ...(await removeLockFile(store, e.key)));
    } else {
      lockedOut.add(e.key);
      skip(outcome === 'locked' ? 'another intact process holds its lock' : 'a root reached it while gc ran');
    }
  }

  // Metadata, logs and locks of keys without an entry (a build that stopped
  // between writing the metadata and the rename, or an entry removed by hand).
  if (entriesSafe) {
    const keys = new Set<string>(listing.orphanMeta);
    for (const f of await readdir(store.logs).catch(() => [] as string[])) {
      const m = /^(.+)\.log$/.exec(f);
      if (m) keys.add(m[1]!);
    }
    for (const f of await readdir(store.locks).catch(() => [] as string[])) if (!f.endsWith('.lock')) keys.add(f);
    for (const key of [...keys].sort()) {
      if (present.has(key) || lockedOut.has(key)) continue;
      const newest = Math.max(await mtimeOf(join(store.meta, `${key}.json`)), await mtimeOf(join(store.logs, `${key}.log`)));
      if (newest > cutoff) continue;
      if (dryRun) {
        report.otherRemoved.push(...(await keyFiles(store, key)));
        continue;
      }
      const release = await tryLockKey(store, key);
      if (!release) continue;
      try {
        // Re-check under the lock: an install may have added it since the listing.
        if ((await presentKeys(store)).has(key)) continue;
        report.otherRemoved.push(...(await removeKeyFiles(store, key)));
      } finally {
        await release();
      }
      report.otherRemoved.push(...(await removeLockFile(store, key)));
    }
  }

  await collectCache(store, roots.live, roots.unreadable.length === 0, cutoff, opts, report, incomplete);
  if (!dryRun) report.otherRemoved.push(...(await sweepStore(store)));
  return report;
}

type RemoveOutcome = { files: string[] } | 'locked' | 'rooted';

/** Remove one unreachable entry, under its key lock, with the roots read again around the rename. */
async function removeEntry(store: StoreLayout, e: StoredEntry, now: number): Promise<RemoveOutcome> {
  const release = await tryLockKey(store, e.key);
  if (!release) return 'locked';
  try {
    if (await reachedNow(store, e.key, now)) return 'rooted';
    const aside = join(store.tmp, tempName('gc', randomBytes(4).toString('hex')));
    await mkdir(store.tmp, { recursive: true });
    // Moving a folder to another parent rewrites its `..`: it needs u+w for that.
    if (e.type === 'dir') await chmod(e.path, 0o755);
    await rename(e.path, aside);
    if (await reachedNow(store, e.key, now)) {
      await rename(aside, e.path);
      if (e.type === 'dir') await chmod(e.path, 0o555);
      return 'rooted';
    }
    // Under the lock still: a process building this key again must not lose its new metadata.
    const files = await removeKeyFiles(store, e.key);
    await removeTree(aside);
    return { files };
  } finally {
    await release();
  }
}

/** Does a live root reach `key` now? Read fresh: a process may have rooted it since gc started. */
async function reachedNow(store: StoreLayout, key: string, now: number): Promise<boolean> {
  const roots = await readRoots(store, now);
  if (roots.unreadable.length > 0) return true;
  const metas = new Map<string, EntryMeta | undefined>();
  const metaOf = (k: string): EntryMeta | undefined => metas.get(k);
  // Load the metadata of every key on the way (few: a closure, not the store).
  const pending = roots.live.flatMap((r) => r.entries.map((f) => f.slice(0, 32)));
  while (pending.length > 0) {
    const k = pending.pop()!;
    if (metas.has(k)) continue;
    const m = (await loadMeta(store, k)).meta;
    metas.set(k, m);
    if (m) pending.push(...m.deps);
  }
  const present = await presentKeys(store);
  const r = reachable(roots.live, metaOf, present);
  return r.keys.has(key) || r.blind.length > 0;
}

/** The per-key files beside an entry: metadata, manifest, last build log. */
async function keyFiles(store: StoreLayout, key: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of [join(store.meta, `${key}.json`), join(store.meta, `${key}.files`), join(store.logs, `${key}.log`)]) {
    if (
      await lstat(p).then(
        () => true,
        () => false,
      )
    )
      out.push(p);
  }
  return out;
}

/** Remove them; call with the key's lock held. */
async function removeKeyFiles(store: StoreLayout, key: string): Promise<string[]> {
  const files = await keyFiles(store, key);
  for (const p of files) await rm(p, { force: true });
  return files;
}

/** The key's lock file, once its lock is released and nobody took it (`<key>.lock` is proper-lockfile's lock folder). */
async function removeLockFile(store: StoreLayout, key: string): Promise<string[]> {
  const file = join(store.locks, key);
  if (
    await lstat(`${file}.lock`).then(
      () => true,
      () => false,
    )
  )
    return [];
  if (
    !(await lstat(file).then(
      () => true,
      () => false,
    ))
  )
    return [];
  await rm(file, { force: true });
  return [file];
}

/** Downloads no live project's lock pins, and git mirrors no lock names. */
async function collectCache(
  store: StoreLayout,
  live: readonly Root[],
  rootsReadable: boolean,
  cutoff: number,
  opts: GcOptions,
  report: GcReport,
  incomplete: (message: string, file?: string) => void,
): Promise<void> {
  const keepPaths = new Set<string>();
  const keepGit = new Set<string>();
  let known = rootsReadable;
  for (const project of [...new Set(live.map((r) => r.project))]) {
    const pins = await opts.pinsOf(project);
    if (!pins) {
      known = false;
      incomplete(`the lock of ${project} cannot be read, so the downloads it needs are unknown: no download was removed`, join(project, 'intact.lock'));
      continue;
    }
    for (const p of pins.cacheFiles) keepPaths.add(p);
    for (const g of pins.gitMirrors) keepGit.add(g);
  }
  const cache = await listCache(store.cache);
  if (!known) {
    report.kept.cacheFiles = cache.files.length;
    return;
  }
  // Aliases: one download stored under two algorithms is one inode (hard links).
  const keepInodes = new Set(cache.files.filter((f) => keepPaths.has(f.path)).map((f) => f.ino));
  const emptied = new Set<string>();
  for (const f of cache.files) {
    if (keepPaths.has(f.path) || keepInodes.has(f.ino) || f.mtimeMs > cutoff) {
      report.kept.cacheFiles++;
      continue;
    }
    if (!opts.dryRun) await rm(f.path, { force: true });
    report.cacheRemoved.push({ path: f.path, bytes: f.size });
    report.freedBytes += f.size;
    emptied.add(join(f.path, '..'));
  }
  if (!opts.dryRun) for (const d of emptied) await rmdir(d).catch(() => undefined);

  for (const name of await readdir(store.git).catch(() => [] as string[])) {
    const p = join(store.git, name);
    if (keepGit.has(p) || (await mtimeOf(p)) > cutoff) continue;
    const bytes = await treeBytes(p);
    if (!opts.dryRun) await removeTree(p);
    report.otherRemoved.push(p);
    report.freedBytes += bytes;
  }
}

async function mtimeOf(p: string): Promise<number> {
  return (await lstat(p).catch(() => undefined))?.mtimeMs ?? 0;
}

/** Keys with an entry folder in the store now. */
async function presentKeys(store: StoreLayout): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const n of await readdir(store.root).catch(() => [] as string[])) {
    const k = keyOfFolder(n);
    if (k) keys.add(k);
  }
  return keys;
}
