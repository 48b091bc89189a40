// `intact install`: the lock must be current (it is never written here); then the
// closure of the selected recipes is fetched and built, dependencies first and
// independent builds in parallel, reusing every entry already in the store; then
// the profile is switched to the new set in one step. A failed build stops its
// dependants, names the root cause, and leaves the profile as it was.
import { join } from 'node:path';
import { byCodePoint } from '../canonical-json.js';
import { DependencyFailed, IntactError } from '../errors.js';
import { checkOffline } from '../fetch/offline.js';
import { requireHostPlatform, type Platform } from '../platform.js';
import { buildOne, type BuildOutcome } from '../build/build-one.js';
import type { BuildContext, BuildServices } from '../build/context.js';
import type { BuildPlan } from '../build/plan.js';
import { planProject, plansByName, type ProjectPlan } from './plan.js';
import { readProfile, registerRoot, writeProfile, type ProfileItem } from './profile.js';
import { profilePlans } from './profile-set.js';
import { entryPath, hasEntrySync, readMetaSync } from '../store/entry.js';
import type { StoreLayout } from '../store/paths.js';
import { checkSeal } from '../store/seal.js';
import { holdRoot } from '../store/roots.js';
import { sweepStore } from '../store/leftovers.js';
import { runLimited } from '../pool.js';

export type InstallEvent =
  | { type: 'build-start'; name: string; version: string }
  | { type: 'build-done'; name: string; status: BuildOutcome['status']; seconds: number }
  | { type: 'build-fail'; name: string; message: string }
  | { type: 'skip'; name: string; reason: string };

export interface InstallOptions {
  names: readonly string[];
  /** Concurrent builds. */
  jobs: number;
  platform?: Platform;
  onEvent?: (e: InstallEvent) => void;
  /** Everything a build needs but the plan (store, fetchers, sandbox, checks). */
  build: BuildServices;
  /** Accept an output that differs from the one the lock records (for investigation). */
  allowMismatch?: boolean;
}

export interface InstallResult {
  built: string[];
  reused: string[];
  substituted: string[];
  skipped: { name: string; reason: string }[];
  profile: string[];
  outcomes: Record<string, BuildOutcome>;
}

export async function install(projectDir: string, opts: InstallOptions): Promise<InstallResult> {
  const sel = await planProject(projectDir, opts.names, opts.platform);
  for (const s of sel.skipped) opts.onEvent?.({ type: 'skip', ...s });
  // Offline, every source of a build still to run is named at once, before any build starts.
  const toBuild = sel.plans.filter((p) => !hasEntrySync(opts.build.store, p.key, p.name, p.version));
  // Security: an entry already present is checked against its seal before it is
  // reused (as a dependency of a build, or on .intact/bin); programs first.
  await checkPresent(
    opts.build.store,
    sel.plans.filter((p) => !toBuild.includes(p)),
  );
  await checkOffline(
    toBuild.flatMap((p) => p.sources.map(({ source, pin }) => ({ recipe: p.name, source, integrity: pin.integrity }))),
    opts.build.fetch,
  );
  await sweepStore(opts.build.store);
  // A pending gc root before anything is built or reused (src/store/roots.ts), so a
  // concurrent `intact gc` keeps what this install is about to put in the profile.
  const releaseRoot = await holdRoot(
    opts.build.store,
    projectDir,
    sel.plans.map((p) => p.entry),
  );
  try {
    if (!opts.build.substitute) await prefetch(toBuild, opts.build, opts.jobs);
    return await installPlanned(projectDir, opts, sel);
  } finally {
    await releaseRoot();
  }
}

async function installPlanned(projectDir: string, opts: InstallOptions, sel: ProjectPlan): Promise<InstallResult> {
  const concurrent = Math.max(1, opts.jobs);
  const ctx: BuildContext = {
    ...opts.build,
    plans: plansByName(sel.plans),
    jobs: Math.max(1, Math.floor(concurrent)),
    ...(opts.allowMismatch ? { allowMismatch: true } : {}),
    // "build" only for what is really built: not for entries present or substituted.
    onBuildStart: (plan) => opts.onEvent?.({ type: 'build-start', name: plan.name, version: plan.version }),
  };
  const outcomes: Record<string, BuildOutcome> = {};
  const failures = new Map<string, IntactError>();
  await runGraph(sel.plans, concurrent, async (plan) => {
    const failedDep = plan.deps.find((d) => failures.has(d.name));
    if (failedDep) {
      failures.set(plan.name, new DependencyFailed(plan.name, failedDep.name, failures.get(failedDep.name)!));
      opts.onEvent?.({ type: 'skip', name: plan.name, reason: `dependency ${failedDep.name} failed` });
      return;
    }
    const t = Date.now();
    try {
      const o = await buildOne(plan, ctx);
      outcomes[plan.name] = o;
      opts.onEvent?.({ type: 'build-done', name: plan.name, status: o.status, seconds: (Date.now() - t) / 1000 });
    } catch (e) {
      const err = e instanceof IntactError ? e : new IntactError('BUILD_FAILED', `${plan.name}: ${(e as Error).message}`, { cause: e });
      failures.set(plan.name, err);
      opts.onEvent?.({ type: 'build-fail', name: plan.name, message: err.message });
    }
  });
  const rootFailures = [...failures.entries()].filter(([, e]) => !(e instanceof DependencyFailed));
  if (rootFailures.length > 0) {
    const [name, first] = rootFailures[0]!;
    const others = [...failures.keys()].filter((n) => n !== name);
    throw new IntactError(first.code, first.message, {
      ...fields(first),
      hint: `${first.hint ?? ''}${others.length > 0 ? `${first.hint ? '; ' : ''}also not installed: ${others.join(', ')}` : ''}; the profile was left as it was`,
    });
  }

  // A cross build's programs do not run here: the profile stays as it was, and
  // a root of the project for that platform keeps the outputs from gc.
  if (sel.plans.some((p) => p.platform !== p.buildPlatform) || sel.platform !== requireHostPlatform()) {
    await registerRoot(
      projectDir,
      opts.build.store,
      profilePlans(sel.plans, opts.names).map((p) => p.entry),
      sel.platform,
    );
    return { ...summary(outcomes), skipped: sel.skipped, profile: [], outcomes };
  }
  // The profile: with names, the named recipes (and their deps, not their tools)
  // join or replace what was there.
  const items = new Map<string, ProfileItem>();
  if (opts.names.length > 0) for (const it of (await readProfile(projectDir))?.items ?? []) items.set(it.recipe, it);
  for (const p of profilePlans(sel.plans, opts.names)) items.set(p.name, { recipe: p.name, version: p.version, entry: p.entry, bin: p.bin });
  // Entries kept from the old profile go on .intact/bin again: checked like the rest.
  const planned = new Set(sel.plans.map((p) => p.entry));
  await checkSealed(
    opts.build.store,
    [...items.values()]
      .filter((it) => !planned.has(it.entry))
      .map((it) => ({ key: it.entry.slice(0, 32), name: it.recipe, dir: join(opts.build.store.root, it.entry) })),
  );
  const manifest = await writeProfile(projectDir, opts.build.store, [...items.values()]);

  return {
    ...summary(outcomes),
    skipped: sel.skipped,
    profile: Object.keys(manifest.links).sort(byCodePoint),
    outcomes,
  };
}

function summary(outcomes: Record<string, BuildOutcome>): Pick<InstallResult, 'built' | 'reused' | 'substituted'> {
  const with_ = (s: BuildOutcome['status']) =>
    Object.entries(outcomes)
      .filter(([, o]) => o.status === s)
      .map(([n]) => n);
  return { built: with_('built'), reused: with_('present'), substituted: with_('substituted') };
}

/**
 * Downloads ahead of the builds: while one recipe builds, the sources of those
 * after it download, in build order and at most `jobs` at once (each streams to
 * disk, so memory stays flat). fetchSource shares one download per source in a
 * run, so a build that needs a source joins its download. A failure is left for
 * that build to report. Not with a binary cache: a substituted entry needs none.
 */
async function prefetch(plans: readonly BuildPlan[], build: BuildServices, jobs: number): Promise<void> {
  const sources = plans.flatMap((p) => p.sources);
  if (sources.length === 0) return;
  const { fetchSource } = await import('../fetch/source.js');
  const tasks = sources.map(({ source, pin }) => async () => {
    await fetchSource(source, pin, build.fetch).catch(() => undefined);
  });
  void runLimited(tasks, Math.max(1, jobs));
}

function fields(e: IntactError) {
  return { file: e.file, line: e.line, col: e.col, field: e.field, url: e.url, expected: e.expected, found: e.found, cause: e.cause };
}

/** Run each plan once its dependencies are done, at most `jobs` at a time. */
async function runGraph(plans: readonly BuildPlan[], jobs: number, run: (p: BuildPlan) => Promise<void>): Promise<void> {
  const done = new Set<string>();
  const started = new Set<string>();
  const names = new Set(plans.map((p) => p.name));
  let running = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      if (done.size === plans.length) return resolve();
      for (const p of plans) {
        if (running >= jobs) break;
        if (started.has(p.name)) continue;
        if (!p.deps.every((d) => !names.has(d.name) || done.has(d.name))) continue;
        started.add(p.name);
        running++;
        run(p).then(() => {
          running--;
          done.add(p.name);
          pump();
        }, reject);
      }
    };
    pump();
  });
}

/** The seal check (src/store/seal.ts) of present entries, those with programs on .intact/bin first. */
async function checkPresent(store: StoreLayout, plans: readonly BuildPlan[]): Promise<void> {
  const ordered = [...plans].sort((a, b) => Number(b.bin.length > 0) - Number(a.bin.length > 0));
  await checkSealed(
    store,
    ordered.map((p) => ({ key: p.key, name: p.name, dir: entryPath(store, p.key, p.name, p.version) })),
  );
}

async function checkSealed(store: StoreLayout, entries: readonly { key: string; name: string; dir: string }[]): Promise<void> {
  for (const e of entries) {
    const meta = readMetaSync(store, e.key);
    if (!meta) {
      throw new IntactError('STORE_ENTRY_NO_META', `${e.name}: the store entry ${e.dir} has no metadata, so nothing says what it should hold; it is not used`, {
        file: e.dir,
        hint: `\`intact repair ${e.name}\` replaces it with a fresh build`,
      });
    }
    await checkSeal(store, { ...e, output: meta.output });
  }
}
