// `intact install`: the lock must be current (it is never written here); then the
// closure of the selected recipes is fetched and built, dependencies first and
// independent builds in parallel, reusing every entry already in the store; then
// the profile is switched to the new set in one step. A failed build stops its
// dependants, names the root cause, and leaves the profile as it was.
import { join } from 'node:path';
import { byCodePoint } from '../canonical-json.js';
import { IntactError, exitStatusOf, type Finding } from '../errors.js';
import { requireRecipes } from '../recipe/names.js';
import { checkLock, LOCK_FILE, projectState, readLock, type Lockfile, type ProjectState } from '../lock/index.js';
import { checkOffline } from '../fetch/offline.js';
import { hostPlatform } from '../platform.js';
import { topoOrder } from '../recipe/index.js';
import type { Platform } from '../recipe/types.js';
import { buildOne, cleanStaleBuilds, type BuildContext, type BuildOutcome } from './build-one.js';
import { planBuild, recipePlatforms, type BuildPlan } from './plan.js';
import { readProfile, writeProfile, type ProfileItem } from './profile.js';
import { entryPath, hasEntrySync, readMetaSync } from '../store/entry.js';
import type { StoreLayout } from '../store/paths.js';
import { checkSeal } from '../store/seal.js';
import { holdRoot } from '../store/roots.js';

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
  build: Omit<BuildContext, 'plans' | 'jobs'> & { jobs?: number };
}

export interface InstallResult {
  built: string[];
  reused: string[];
  substituted: string[];
  skipped: { name: string; reason: string }[];
  profile: string[];
  outcomes: Record<string, BuildOutcome>;
}

export interface Selection {
  plans: BuildPlan[];
  skipped: { name: string; reason: string }[];
}

/** Check the names and the lock, and plan the selected recipes (and their closure) for this platform. */
export async function planInstall(projectDir: string, names: readonly string[], platform: Platform): Promise<Selection & { findings: Finding[] }> {
  const [project, read] = await Promise.all([projectState(projectDir), readLock(projectDir)]);
  const findings = project.findings.filter((f) => f.severity === 'error');
  if (exitStatusOf(findings) === 2) return { plans: [], skipped: [], findings };
  const byName = new Map(project.states.map((s) => [s.loaded.recipe.name, s]));
  requireRecipes(names, byName.keys());
  if (!read) throw new IntactError('LOCK_MISSING', `there is no ${LOCK_FILE}`, { file: LOCK_FILE, hint: 'run `intact lock` and commit intact.lock' });
  const stale = staleEntries(project, read.lock);
  if (stale.length > 0) {
    throw new IntactError('NOT_LOCKED', `intact.lock is not current for: ${stale.join(', ')}`, {
      file: LOCK_FILE,
      hint: `run \`intact lock\` and commit intact.lock (install never writes the lock); \`intact verify\` shows the details`,
    });
  }
  const skipped: { name: string; reason: string }[] = [];
  let roots = names.length > 0 ? [...names] : [...byName.keys()].sort(byCodePoint);
  if (names.length === 0) {
    roots = roots.filter((n) => {
      const ok = recipePlatforms(byName.get(n)!.loaded.recipe).includes(platform);
      if (!ok) skipped.push({ name: n, reason: `not declared for ${platform}` });
      return ok;
    });
  }
  const plans = new Map<string, BuildPlan>();
  for (const name of topoOrder(project.graph, roots)) {
    const s = byName.get(name)!;
    plans.set(name, planBuild(s.loaded.recipe, read.lock.recipes[name]!, platform, plans));
  }
  return { plans: [...plans.values()], skipped, findings };
}

export async function install(projectDir: string, opts: InstallOptions): Promise<InstallResult> {
  const platform = opts.platform ?? hostPlatform();
  if (!platform) throw new IntactError('PLATFORM_UNSUPPORTED', `intact has no platform name for ${process.platform}-${process.arch}`, { hint: 'recipes name linux-x64, linux-arm64, darwin-x64 or darwin-arm64' });
  const sel = await planInstall(projectDir, opts.names, platform);
  if (sel.findings.length > 0) {
    const first = sel.findings[0]!;
    throw new IntactError(first.code, `${first.file ? `${first.file}: ` : ''}${first.message}${sel.findings.length > 1 ? ` (and ${sel.findings.length - 1} more; run \`intact verify\`)` : ''}`, first);
  }
  for (const s of sel.skipped) opts.onEvent?.({ type: 'skip', ...s });
  // Offline, every source of a build still to run is named at once, before any build starts.
  const toBuild = sel.plans.filter((p) => !hasEntrySync(opts.build.store, p.key, p.name, p.version));
  // Security: an entry already present is checked against its seal before it is
  // reused (as a dependency of a build, or on .intact/bin); programs first.
  await checkPresent(opts.build.store, sel.plans.filter((p) => !toBuild.includes(p)));
  await checkOffline(toBuild.flatMap((p) => p.sources.map(({ source, pin }) => ({ recipe: p.name, source, integrity: pin.integrity }))), opts.build.fetch);
  await cleanStaleBuilds(opts.build.store);
  // A pending gc root before anything is built or reused (src/store/roots.ts), so a
  // concurrent `intact gc` keeps what this install is about to put in the profile.
  const releaseRoot = await holdRoot(opts.build.store, projectDir, sel.plans.map((p) => p.entry));
  try {
    return await installPlanned(projectDir, opts, sel);
  } finally {
    await releaseRoot();
  }
}

async function installPlanned(projectDir: string, opts: InstallOptions, sel: Selection): Promise<InstallResult> {
  const plans = new Map(sel.plans.map((p) => [p.name, p]));
  const concurrent = Math.max(1, opts.jobs);
  const ctx: BuildContext = {
    ...opts.build,
    plans,
    jobs: opts.build.jobs ?? Math.max(1, Math.floor(concurrent)),
    // "build" only for what is really built: not for entries present or substituted.
    onBuildStart: (plan) => opts.onEvent?.({ type: 'build-start', name: plan.name, version: plan.version }),
  };
  const outcomes: Record<string, BuildOutcome> = {};
  const failures = new Map<string, IntactError>();
  await runGraph(sel.plans, concurrent, async (plan) => {
    const failedDep = plan.deps.find((d) => failures.has(d.name));
    if (failedDep) {
      const root = rootCause(failedDep.name, failures);
      failures.set(plan.name, new IntactError('DEP_FAILED', `${plan.name} was not built: its dependency ${failedDep.name} failed`, { hint: `fix ${root} first` }));
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
  const rootFailures = [...failures.entries()].filter(([, e]) => e.code !== 'DEP_FAILED');
  if (rootFailures.length > 0) {
    const [name, first] = rootFailures[0]!;
    const others = [...failures.keys()].filter((n) => n !== name);
    throw new IntactError(first.code, first.message, {
      ...fields(first),
      hint: `${first.hint ?? ''}${others.length > 0 ? `${first.hint ? '; ' : ''}also not installed: ${others.join(', ')}` : ''}; the profile was left as it was`,
    });
  }

  // The profile: with names, the named recipes join (or replace) what was there.
  const items = new Map<string, ProfileItem>();
  if (opts.names.length > 0) for (const it of (await readProfile(projectDir))?.items ?? []) items.set(it.recipe, it);
  for (const p of sel.plans) items.set(p.name, { recipe: p.name, version: p.version, entry: p.entry, bin: p.bin });
  // Entries kept from the old profile go on .intact/bin again: checked like the rest.
  const planned = new Set(sel.plans.map((p) => p.entry));
  await checkSealed(opts.build.store, [...items.values()].filter((it) => !planned.has(it.entry)).map((it) => ({ key: it.entry.slice(0, 32), name: it.recipe, dir: join(opts.build.store.root, it.entry) })));
  const manifest = await writeProfile(projectDir, opts.build.store, [...items.values()]);

  return {
    built: Object.entries(outcomes).filter(([, o]) => o.status === 'built').map(([n]) => n),
    reused: Object.entries(outcomes).filter(([, o]) => o.status === 'present').map(([n]) => n),
    substituted: Object.entries(outcomes).filter(([, o]) => o.status === 'substituted').map(([n]) => n),
    skipped: sel.skipped,
    profile: Object.keys(manifest.links).sort(byCodePoint),
    outcomes,
  };
}

/**
 * The names whose lock entry is not current: lock entries left without a recipe,
 * and recipes checkLock finds fault with. To name them from the data, never from
 * a finding's wording, a stale lock is checked again one recipe at a time (with
 * the whole lock, which keys and closures need; LOCK_ENTRY_EXTRA then concerns
 * the recipes left out of that call).
 */
function staleEntries(project: ProjectState, lock: Lockfile): string[] {
  const { states, graph } = project;
  const named = checkLock({ recipes: states, graph, lock }).flatMap((f) => (f.recipe === undefined ? [] : [f.recipe]));
  return [...new Set(named)].sort(byCodePoint);
}

function fields(e: IntactError) {
  return { file: e.file, line: e.line, col: e.col, field: e.field, url: e.url, expected: e.expected, found: e.found, cause: e.cause };
}

function rootCause(name: string, failures: Map<string, IntactError>): string {
  const e = failures.get(name);
  const m = e?.code === 'DEP_FAILED' ? /dependency (\S+) failed/.exec(e.message) : null;
  return m ? rootCause(m[1]!, failures) : name;
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
        run(p).then(
          () => {
            running--;
            done.add(p.name);
            pump();
          },
          reject,
        );
      }
    };
    pump();
  });
}

/** The seal check (src/store/seal.ts) of present entries, those with programs on .intact/bin first. */
async function checkPresent(store: StoreLayout, plans: readonly BuildPlan[]): Promise<void> {
  const ordered = [...plans].sort((a, b) => Number(b.bin.length > 0) - Number(a.bin.length > 0));
  await checkSealed(store, ordered.map((p) => ({ key: p.key, name: p.name, dir: entryPath(store, p.key, p.name, p.version) })));
}

async function checkSealed(store: StoreLayout, entries: readonly { key: string; name: string; dir: string }[]): Promise<void> {
  for (const e of entries) {
    const meta = readMetaSync(store, e.key);
    if (!meta) {
      throw new IntactError('STORE_ENTRY_NO_META', `${e.name}: the store entry ${e.dir} has no metadata, so nothing says what it should hold; it is not used`, {
        file: e.dir, hint: `\`intact repair ${e.name}\` replaces it with a fresh build`,
      });
    }
    await checkSeal(store, { ...e, output: meta.output });
  }
}
