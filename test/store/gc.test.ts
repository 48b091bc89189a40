// gc, store side: what a live root reaches (directly or through metadata deps)
// stays; the rest goes with its metadata, manifest, log and lock file; nothing
// young, locked, or reachable through a pending root of a running process is
// touched; when gc cannot know what is needed, it removes nothing of that kind.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { link, lstat, mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectGarbage, type GcOptions, type Pins } from '../../src/store/gc.js';
import { lockKey } from '../../src/store/lock.js';
import type { StoreLayout } from '../../src/store/paths.js';
import { holdRoot } from '../../src/store/roots.js';
import { HOST } from '../../src/temp-name.js';
import { cleanupStores, makeStore, putEntry, putRoot, type MadeEntry } from '../helpers/store-entries.js';

afterEach(cleanupStores);

const noPins = async (): Promise<Pins> => ({ cacheFiles: [], gitMirrors: [] });
// `now` a second ahead: with no minimum age, what was made a moment ago (in the same millisecond) is old enough.
const gc = (store: StoreLayout, o: Partial<GcOptions> = {}) => collectGarbage(store, { minAgeMs: 0, now: Date.now() + 1000, pinsOf: noPins, ...o });
const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

/** app → lib → base (metadata deps); stray is reached by nothing. */
async function graph(store: StoreLayout): Promise<Record<'base' | 'lib' | 'app' | 'stray', MadeEntry>> {
  const base = await putEntry(store, 'base', '1.0.0', { 'bin/base': { exec: 'base' } });
  const lib = await putEntry(store, 'lib', '1.0.0', { 'lib/x.a': 'lib' }, { deps: [base.key] });
  const app = await putEntry(store, 'app', '1.0.0', { 'bin/app': { exec: 'app' } }, { deps: [lib.key] });
  const stray = await putEntry(store, 'stray', '0.1.0', { big: 'x'.repeat(5000) });
  return { base, lib, app, stray };
}

async function folders(store: StoreLayout): Promise<string[]> {
  return (await readdir(store.root))
    .filter((n) => /^[0-9a-z]{32}-/.test(n))
    .map((n) => n.slice(33))
    .sort();
}

describe('collectGarbage', () => {
  it('keeps what roots reach through deps, removes the rest with its metadata, log and lock', async () => {
    const store = await makeStore();
    const g = await graph(store);
    await putRoot(store, store.root, [g.app]);
    await mkdir(store.logs, { recursive: true });
    await writeFile(join(store.logs, `${g.stray.key}.log`), 'log');
    await (await lockKey(store, g.stray.key))();
    const r = await gc(store);
    expect(await folders(store)).toEqual(['app-1.0.0', 'base-1.0.0', 'lib-1.0.0']);
    expect(r.removed).toEqual([{ entry: g.stray.folder, label: 'stray@0.1.0', bytes: 5000 }]);
    expect(r.freedBytes).toBe(5000);
    expect(r.kept.entries).toBe(3);
    for (const p of [
      join(store.meta, `${g.stray.key}.json`),
      join(store.meta, `${g.stray.key}.files`),
      join(store.logs, `${g.stray.key}.log`),
      join(store.locks, g.stray.key),
    ]) {
      expect(await exists(p)).toBe(false);
    }
    expect(r.findings).toEqual([]);
    expect(await readdir(store.tmp)).toEqual([]);
  });

  it('--dry-run says the same and removes nothing', async () => {
    const store = await makeStore();
    const g = await graph(store);
    await putRoot(store, store.root, [g.lib]);
    const r = await gc(store, { dryRun: true });
    expect(r.removed.map((e) => e.label).sort()).toEqual(['app@1.0.0', 'stray@0.1.0']);
    expect(r.freedBytes).toBe(5000 + 3);
    expect(await folders(store)).toHaveLength(4);
  });

  it('keeps entries younger than the minimum age', async () => {
    const store = await makeStore();
    await graph(store);
    const r = await gc(store, { minAgeMs: 15 * 60_000 });
    expect(r.removed).toEqual([]);
    expect(r.skipped.map((s) => s.reason)).toEqual(Array(4).fill('added less than 15 minute(s) ago'));
    expect(await folders(store)).toHaveLength(4);
  });

  it('drops the root of a project whose folder is gone, and collects what only it kept', async () => {
    const store = await makeStore();
    const g = await graph(store);
    const gone = join(store.tmp, 'project-that-was');
    const file = await putRoot(store, gone, [g.app]);
    await putRoot(store, store.root, [g.base]);
    const r = await gc(store);
    expect(r.droppedRoots).toEqual([{ project: gone, file, reason: `the project folder ${gone} is gone` }]);
    expect(await exists(file)).toBe(false);
    expect(await folders(store)).toEqual(['base-1.0.0']);
  });

  it("keeps what a running process holds a pending root for; drops a dead process's", async () => {
    const store = await makeStore();
    const g = await graph(store);
    const release = await holdRoot(store, '/project/being/installed', [g.app.folder]);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const deadFile = join(store.roots, `pending-${HOST}-${dead}-0badc0de.json`);
    await writeFile(deadFile, JSON.stringify({ project: '/x', entries: [g.stray.folder] }));
    const r = await gc(store);
    expect(await folders(store)).toEqual(['app-1.0.0', 'base-1.0.0', 'lib-1.0.0']);
    expect(r.droppedRoots.map((d) => d.file)).toEqual([deadFile]);
    await release();
    await gc(store);
    expect(await folders(store)).toEqual([]);
  });

  it('skips an entry whose key lock another process holds', async () => {
    const store = await makeStore();
    const g = await graph(store);
    const release = await lockKey(store, g.stray.key);
    try {
      const r = await gc(store);
      expect(r.skipped).toEqual([{ entry: g.stray.folder, label: 'stray@0.1.0', reason: 'another intact process holds its lock' }]);
      expect(await folders(store)).toEqual(['stray-0.1.0']);
    } finally {
      await release();
    }
  });

  it('removes no entry when a reached entry has no metadata (its needs are unknown), or a root cannot be read', async () => {
    const store = await makeStore();
    const g = await graph(store);
    await putRoot(store, store.root, [g.lib]);
    await rm(join(store.meta, `${g.lib.key}.json`));
    const r = await gc(store);
    expect(r.findings.map((f) => f.code)).toEqual(['STORE_GC_INCOMPLETE']);
    expect(r.findings[0]!.message).toContain(g.lib.key);
    expect(await folders(store)).toHaveLength(4);

    const store2 = await makeStore();
    await graph(store2);
    await writeFile(join(store2.roots, 'broken.json'), '{');
    const r2 = await gc(store2);
    expect(r2.findings.map((f) => f.code)).toEqual(['STORE_GC_INCOMPLETE']);
    expect(await folders(store2)).toHaveLength(4);
  });

  it("keeps the downloads a live project's lock pins (and their aliases), removes the rest, keeps young ones", async () => {
    const store = await makeStore();
    const put = async (text: string, alg = 'sha512', old = true): Promise<string> => {
      const hex = createHash(alg).update(text).digest('hex');
      const p = join(store.cache, alg, hex.slice(0, 2), hex);
      await mkdir(join(p, '..'), { recursive: true });
      await writeFile(p, text);
      if (old) await utimes(p, new Date(1_000_000), new Date(1_000_000));
      return p;
    };
    const pinned = await put('pinned');
    const alias = join(store.cache, 'sha256', 'aa', 'a'.repeat(64));
    await mkdir(join(alias, '..'), { recursive: true });
    await link(pinned, alias);
    const unpinned = await put('unpinned');
    const young = await put('young', 'sha512', false);
    const project = join(store.tmp, 'project');
    await mkdir(project);
    await putRoot(store, project, []);
    const pinsOf = async (p: string): Promise<Pins> => (p === project ? { cacheFiles: [pinned], gitMirrors: [] } : { cacheFiles: [], gitMirrors: [] });
    const r = await collectGarbage(store, { minAgeMs: 60_000, pinsOf });
    expect(r.cacheRemoved).toEqual([{ path: unpinned, bytes: 8 }]);
    expect(await exists(unpinned)).toBe(false);
    expect(await exists(join(unpinned, '..'))).toBe(false); // its emptied folder too
    for (const p of [pinned, alias, young]) expect(await exists(p)).toBe(true);
    expect(r.kept.cacheFiles).toBe(3);

    // A lock that cannot be read: what it pins is unknown, so every download stays.
    const r2 = await collectGarbage(store, { minAgeMs: 0, pinsOf: async () => undefined });
    expect(r2.cacheRemoved).toEqual([]);
    expect(r2.findings.map((f) => f.code)).toEqual(['STORE_GC_INCOMPLETE']);
  });

  it('removes metadata, logs and lock files left without an entry', async () => {
    const store = await makeStore();
    const g = await graph(store);
    await putRoot(store, store.root, [g.app, g.stray]);
    await mkdir(store.logs, { recursive: true });
    await writeFile(join(store.meta, 'k'.repeat(32) + '.json'), '{}');
    await writeFile(join(store.logs, 'k'.repeat(32) + '.log'), 'log');
    await mkdir(store.locks, { recursive: true });
    await writeFile(join(store.locks, 'k'.repeat(32)), '');
    const r = await gc(store);
    expect(r.otherRemoved.sort()).toEqual(
      [join(store.locks, 'k'.repeat(32)), join(store.logs, 'k'.repeat(32) + '.log'), join(store.meta, 'k'.repeat(32) + '.json')].sort(),
    );
    expect(await folders(store)).toHaveLength(4);
  });
});
