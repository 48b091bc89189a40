// `intact repair [NAME...]`: make the store whole again after `verify --store`
// found it damaged. Per entry, the least that restores it:
//
// - content differs (or cannot be read, or the metadata is gone): build the
//   recipe again in a fresh folder and swap it in atomically
//   (src/store/replace-entry.ts). Only recipes of this project, at this lock,
//   can be rebuilt: the key must be one this project's plans produce;
// - content intact but writable: drop the write bits in place (the hash proved
//   the bytes are the recorded ones);
// - content intact, file manifest missing or damaged: record it again;
// - an entry this project's profile uses is gone: build it;
// - a download-cache file that no longer matches its name: remove it, and fetch
//   it again when this project's lock pins it.
//
// A rebuild whose output differs from the hash intact.lock records (lock
// --outputs) is refused, as install refuses it; one that differs only from the
// store's old metadata is used, and said (the recipe is not reproducible).
import { byCodePoint } from '../canonical-json.js';
import { finding, IntactError, type Finding } from '../errors.js';
import type { Platform } from '../recipe/types.js';
import { entryPath, hasEntry } from '../store/entry.js';
import { listStore, type StoredEntry } from '../store/listing.js';
import { lockKey } from '../store/lock.js';
import { writeManifest } from '../store/manifest.js';
import type { StoreLayout } from '../store/paths.js';
import { replaceEntry } from '../store/replace-entry.js';
import { holdRoot } from '../store/roots.js';
import { hashRecords, takeRecords } from '../store/tree-hash.js';
import { scanTree } from '../store/tree-scan.js';
import { verifyEntry, verifyStore, type EntryResult, type StoreVerifyReport } from '../store/verify-store.js';
import { buildOne, forceRemove } from '../build/build-one.js';
import type { BuildContext, BuildServices } from '../build/context.js';
import { planProject, plansByName } from './plan.js';
import type { BuildPlan } from '../build/plan.js';
import { SOURCE_DATE_EPOCH } from '../store/entry-layout.js';

export type RepairAction = 'rebuilt' | 'sealed' | 'manifest' | 'built' | 'cache-removed' | 'refetched';

export type RepairEvent =
  | { type: 'start'; label: string; action: RepairAction }
  | { type: 'done'; label: string; action: RepairAction; detail?: string }
  | { type: 'fail'; label: string; message: string };

export interface RepairOptions {
  names: readonly string[];
  jobs: number;
  platform?: Platform;
  build: BuildServices;
  onEvent?: (e: RepairEvent) => void;
}

export interface RepairResult {
  /** What verify --store found before. */
  before: StoreVerifyReport;
  repaired: { label: string; entry?: string; action: RepairAction; detail?: string }[];
  /** What could not be repaired (STORE_REPAIR_FAILED, or the build's own error). */
  failed: Finding[];
  ok: boolean;
}

export async function repairStore(projectDir: string, opts: RepairOptions): Promise<RepairResult> {
  const store = opts.build.store;
  const before = await verifyStore(store, { names: opts.names });
  const result: RepairResult = { before, repaired: [], failed: [], ok: true };
  const fail = (label: string, message: string, hint: string, file?: string): void => {
    result.failed.push(finding('STORE_REPAIR_FAILED', `${label}: ${message}`, { hint, ...(file ? { file } : {}) }));
    opts.onEvent?.({ type: 'fail', label, message });
  };

  const damaged = before.results.filter((r) => r.damage !== 'none');
  const missing = before.findings.filter((f) => f.code === 'STORE_ENTRY_MISSING').map((f) => f.file!.slice(store.root.length + 1));
  const corrupt = before.findings.filter((f) => f.code === 'STORE_CACHE_CORRUPT').map((f) => f.file!);
  if (damaged.length === 0 && missing.length === 0 && corrupt.length === 0) return result;

  // Plans for every recipe of the project: a damaged entry is rebuilt only when one has its key.
  let plans: BuildPlan[] = [];
  let noPlans = '';
  try {
    plans = (await planProject(projectDir, [], opts.platform)).plans;
  } catch (e) {
    noPlans = (e as Error).message;
  }
  const byKey = new Map(plans.map((p) => [p.key, p]));
  const byEntry = new Map(plans.map((p) => [p.entry, p]));
  const ctx: BuildContext = { ...opts.build, plans: plansByName(plans), jobs: opts.jobs };

  // Keep what this repair builds on out of a concurrent gc's reach.
  const releaseRoot = await holdRoot(
    store,
    projectDir,
    plans.map((p) => p.entry),
  );
  try {
    const listing = await listStore(store);
    const stored = new Map(listing.entries.map((e) => [e.folder, e]));
    // Dependencies first: plans come in dependency order.
    const order = (r: EntryResult): number => {
      const p = byKey.get(r.key);
      return p ? plans.indexOf(p) : plans.length;
    };
    for (const r of [...damaged].sort((a, b) => order(a) - order(b) || byCodePoint(a.entry, b.entry))) {
      const e = stored.get(r.entry);
      if (!e) continue; // removed meanwhile
      try {
        if (r.damage === 'modes' || r.damage === 'manifest') {
          await fixInPlace(store, e, r, ctx, result, opts);
          continue;
        }
        const plan = byKey.get(r.key);
        if (!plan) {
          fail(
            r.label,
            `no recipe of this project builds ${r.entry}${noPlans ? ` (${noPlans})` : ''}`,
            'run `intact repair` in the project that installed it (`intact why` names it), or `intact gc` removes it if nothing uses it',
            e.path,
          );
          continue;
        }
        opts.onEvent?.({ type: 'start', label: r.label, action: 'rebuilt' });
        const detail = await rebuildInPlace(plan, ctx, r, plan.expectedOutput);
        result.repaired.push({ label: r.label, entry: r.entry, action: 'rebuilt', ...(detail ? { detail } : {}) });
        opts.onEvent?.({ type: 'done', label: r.label, action: 'rebuilt', ...(detail ? { detail } : {}) });
      } catch (err) {
        const ie = err instanceof IntactError ? err : new IntactError('BUILD_FAILED', (err as Error).message, { cause: err });
        result.failed.push(ie.toFinding());
        opts.onEvent?.({ type: 'fail', label: r.label, message: ie.message });
      }
    }

    for (const folder of missing) {
      const plan = byEntry.get(folder);
      if (!plan) {
        fail(folder, 'is gone, and no recipe of this project builds it', 'run `intact repair` or `intact install` in the project that uses it');
        continue;
      }
      try {
        opts.onEvent?.({ type: 'start', label: `${plan.name}@${plan.version}`, action: 'built' });
        for (const p of plans) if (p === plan || dependsOn(plan, p, ctx.plans)) await buildOne(p, ctx);
        result.repaired.push({ label: `${plan.name}@${plan.version}`, entry: folder, action: 'built' });
        opts.onEvent?.({ type: 'done', label: `${plan.name}@${plan.version}`, action: 'built' });
      } catch (err) {
        const ie = err instanceof IntactError ? err : new IntactError('BUILD_FAILED', (err as Error).message, { cause: err });
        result.failed.push(ie.toFinding());
        opts.onEvent?.({ type: 'fail', label: folder, message: ie.message });
      }
    }

    await repairCache(corrupt, plans, ctx, result, opts, fail);
  } finally {
    await releaseRoot();
  }
  result.ok = result.failed.length === 0;
  return result;
}

/** Content proven intact: drop write bits, or record the manifest again, in place. */
async function fixInPlace(store: StoreLayout, e: StoredEntry, r: EntryResult, ctx: BuildContext, result: RepairResult, opts: RepairOptions): Promise<void> {
  const action: RepairAction = r.damage === 'modes' ? 'sealed' : 'manifest';
  opts.onEvent?.({ type: 'start', label: r.label, action });
  const release = await lockKey(store, e.key);
  try {
    // Normalising drops every write bit (and resets times) without following links.
    if (r.damage === 'modes') await ctx.normalise(e.path, SOURCE_DATE_EPOCH);
    const scan = await scanTree(e.path);
    if (hashRecords(scan.records) !== e.meta!.output)
      throw new IntactError('STORE_ENTRY_MODIFIED', `${r.label}: changed while being repaired`, { file: e.path, hint: 'run `intact repair` again' });
    await writeManifest(store, e.key, { output: e.meta!.output, records: scan.records });
  } finally {
    await release();
  }
  const after = await verifyEntry(store, e);
  if (after.damage !== 'none')
    throw new IntactError('STORE_REPAIR_FAILED', `${r.label}: still damaged after repair (${after.findings[0]?.message ?? after.damage})`, { file: e.path });
  result.repaired.push({ label: r.label, entry: r.entry, action });
  opts.onEvent?.({ type: 'done', label: r.label, action });
}

/** Build the plan afresh and swap it in under the key's lock; returns a note when the output differs from the old record. */
async function rebuildInPlace(plan: BuildPlan, ctx: BuildContext, r: EntryResult, lockedOutput: string | undefined): Promise<string | undefined> {
  // Its dependencies must be whole (damaged ones were repaired first) and present.
  for (const p of ctx.plans.values()) if (p !== plan && dependsOn(plan, p, ctx.plans)) await buildOne(p, ctx);
  const release = await lockKey(ctx.store, plan.key);
  let kept: string | undefined;
  try {
    const fresh = await buildOne(plan, ctx, { fresh: true });
    kept = fresh.keptAt;
    const meta = fresh.meta!;
    if (lockedOutput !== undefined && meta.output !== lockedOutput) {
      throw new IntactError(
        'STORE_REPAIR_FAILED',
        `${r.label}: the rebuild gives ${meta.output}, but intact.lock records ${lockedOutput}; the damaged entry was left in place`,
        {
          expected: lockedOutput,
          found: meta.output,
          hint: `the recipe does not build reproducibly here; \`intact verify --rebuild ${plan.name}\` shows the difference`,
        },
      );
    }
    const records = takeRecords(fresh.path, meta.output) ?? (await scanTree(fresh.path)).records;
    await replaceEntry(ctx.store, fresh.path, meta, records);
    if (!(await hasEntry(ctx.store, plan.key, plan.name, plan.version)))
      throw new IntactError('IO', `${r.label}: the entry is missing after the swap`, { file: entryPath(ctx.store, plan.key, plan.name, plan.version) });
    return r.expected !== undefined && r.expected !== meta.output
      ? `the rebuild's output ${meta.output} differs from the one recorded before (${r.expected}): the recipe may not build reproducibly`
      : undefined;
  } finally {
    await release();
    if (kept) await forceRemove(kept);
  }
}

/** Remove damaged cached downloads; fetch again those this project pins. */
async function repairCache(
  corrupt: readonly string[],
  plans: readonly BuildPlan[],
  ctx: BuildContext,
  result: RepairResult,
  opts: RepairOptions,
  fail: (label: string, message: string, hint: string, file?: string) => void,
): Promise<void> {
  if (corrupt.length === 0) return;
  const { rm } = await import('node:fs/promises');
  const { fetchSource } = await import('../fetch/source.js');
  for (const path of corrupt) {
    const label = `cache ${path.slice(ctx.store.cache.length + 1)}`;
    await rm(path, { force: true });
    const users = plans.flatMap((p) => p.sources).filter((s) => safePath(ctx, s.pin.integrity) === path);
    if (users.length === 0) {
      result.repaired.push({ label, action: 'cache-removed' });
      opts.onEvent?.({ type: 'done', label, action: 'cache-removed' });
      continue;
    }
    try {
      opts.onEvent?.({ type: 'start', label, action: 'refetched' });
      await fetchSource(users[0]!.source, users[0]!.pin, ctx.fetch);
      result.repaired.push({ label, action: 'refetched' });
      opts.onEvent?.({ type: 'done', label, action: 'refetched' });
    } catch (e) {
      fail(label, `removed, but fetching it again failed: ${(e as Error).message}`, 'run `intact fetch` when the source is reachable', path);
    }
  }
}

function safePath(ctx: BuildContext, integrity: string): string | undefined {
  try {
    return ctx.fetch.cache.pathFor(integrity);
  } catch {
    return undefined;
  }
}

/** Does `plan` need `other`, directly or through its dependencies? */
function dependsOn(plan: BuildPlan, other: BuildPlan, plans: ReadonlyMap<string, BuildPlan>): boolean {
  const seen = new Set<string>();
  const stack = plan.deps.map((d) => d.name);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n === other.name) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...(plans.get(n)?.deps.map((d) => d.name) ?? []));
  }
  return false;
}
