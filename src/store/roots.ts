// GC roots: what keeps store entries alive. Two kinds, both `<store>/roots/*.json`
// holding {project, entries: [entry folder names]}:
//
// - a project's root (`<hash of the project path>.json`, written by the profile,
//   src/project/profile.ts): live while the project folder exists;
// - a pending root (`pending-<host>-<pid>-<random>.json`, holdRoot below): written
//   by a process before it starts to build or reuse entries, and removed when it
//   is done. It closes the window in which an entry was built (or found present)
//   but the project's root does not list it yet, so gc cannot collect it under a
//   running install. Live while its process runs (same host), or for a day when
//   written on another host (a store shared over the network).
//
// An entry's own needs are its metadata's `deps` (keys), followed transitively.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { byCodePoint, canonicalJson } from '../canonical-json.js';
import type { EntryMeta } from './entry.js';
import { ownDir, writeNoFollow } from './no-follow.js';
import type { StoreLayout } from './paths.js';
import { processAlive } from '../process-alive.js';

import { HOST, tempName } from '../temp-name.js';
const PENDING_RE = /^pending-(.+)-(\d+)-[0-9a-f]+\.json$/;
/** A pending root from another host is trusted to be alive this long. */
const FOREIGN_PENDING_MS = 24 * 60 * 60 * 1000;

export interface Root {
  file: string;
  project: string;
  /** Entry folder names. */
  entries: string[];
  /** A pending root: the process holding it. */
  pending?: { host: string; pid: number };
}

export interface RootsState {
  live: Root[];
  /** Roots that keep nothing any more: the project folder is gone, or the process that held it died. */
  dropped: (Root & { reason: string })[];
  /** Root files that cannot be read: what they protect is unknown. */
  unreadable: { file: string; why: string }[];
}

export async function readRoots(store: StoreLayout, now = Date.now()): Promise<RootsState> {
  const state: RootsState = { live: [], dropped: [], unreadable: [] };
  for (const name of (await readdir(store.roots).catch(() => [] as string[])).sort()) {
    if (name.startsWith('.') || !name.endsWith('.json')) continue; // temp files of a root being written
    const file = join(store.roots, name);
    let root: Root;
    try {
      const j = JSON.parse(await readFile(file, 'utf8')) as { project?: unknown; entries?: unknown };
      if (typeof j.project !== 'string' || !Array.isArray(j.entries) || !j.entries.every((e) => typeof e === 'string'))
        throw new Error('not a root: it lacks project or entries');
      root = { file, project: j.project, entries: j.entries as string[] };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      state.unreadable.push({ file, why: (e as Error).message });
      continue;
    }
    const pending = PENDING_RE.exec(name);
    if (pending) {
      root.pending = { host: pending[1]!, pid: Number(pending[2]) };
      const alive =
        root.pending.host === HOST ? processAlive(root.pending.pid) : now - ((await lstat(file).catch(() => undefined))?.mtimeMs ?? 0) < FOREIGN_PENDING_MS;
      if (alive) state.live.push(root);
      else state.dropped.push({ ...root, reason: `the process that held it (${root.pending.host} pid ${root.pending.pid}) is gone` });
      continue;
    }
    const st = await stat(root.project).catch(() => undefined);
    if (st?.isDirectory()) state.live.push(root);
    else state.dropped.push({ ...root, reason: `the project folder ${root.project} is gone` });
  }
  return state;
}

/**
 * Register a pending root for `entries` (folder names) of `projectDir` until the
 * returned release is called. Call it before building or reusing any of them.
 */
export async function holdRoot(store: StoreLayout, projectDir: string, entries: readonly string[]): Promise<() => Promise<void>> {
  await mkdir(store.root, { recursive: true });
  await ownDir(store.roots, "the store's roots folder");
  const id = tempName('pending', randomBytes(4).toString('hex'));
  const file = join(store.roots, `${id}.json`);
  try {
    await writeNoFollow(
      store.roots,
      `${id}.json`,
      canonicalJson({ format: 1, project: projectDir, entries: [...new Set(entries)].sort(byCodePoint), pending: true }),
    );
  } catch (e) {
    // A read-only store cannot be collected either: nothing to hold it against.
    // An install that needs to write there fails at that write, with its own error.
    if ((e as NodeJS.ErrnoException).code === 'EROFS') return async () => undefined;
    throw e;
  }
  return async () => {
    await rm(file, { force: true });
  };
}

/**
 * Every key reachable from the roots' entries through metadata `deps`.
 * `blind` lists reached entries that are present but whose metadata is missing:
 * what they need is unknown, so a collector must not trust the set.
 */
export function reachable(
  roots: readonly Root[],
  metaOf: (key: string) => EntryMeta | undefined,
  present: ReadonlySet<string>,
): { keys: Set<string>; blind: string[]; via: Map<string, string[]> } {
  const keys = new Set<string>();
  const blind: string[] = [];
  /** key → the projects whose roots reach it. */
  const via = new Map<string, string[]>();
  for (const r of roots) {
    const seen = new Set<string>();
    const stack = r.entries.map((e) => e.slice(0, 32));
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (seen.has(k)) continue;
      seen.add(k);
      keys.add(k);
      via.set(k, [...(via.get(k) ?? []), r.project]);
      const m = metaOf(k);
      if (m) stack.push(...m.deps);
      else if (present.has(k)) blind.push(k);
    }
  }
  for (const [k, v] of via) via.set(k, [...new Set(v)].sort(byCodePoint));
  return { keys, blind: [...new Set(blind)].sort(), via };
}
