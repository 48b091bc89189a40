// Building one plan into the store: fetch (verified) → unpack into a fresh build
// folder → steps → output checks → normalise → hash → atomic add. The store holds
// either the whole, checked entry afterwards or nothing new: every failure
// removes the build folder (unless --keep-failed) and adds nothing.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { addEntry, entryPath, hasEntry, hasEntrySync, readMeta, type EntryMeta } from '../store/entry.js';
import { lockKey } from '../store/lock.js';
import { copyNoFollow, ownDir, writeNoFollow } from '../store/no-follow.js';
import { buildEnv, stepVars, type BuildPaths, type BuildPlan } from './plan.js';
import { INSIDE, SOURCE_DATE_EPOCH } from '../store/entry-layout.js';
import { runSteps } from './steps.js';
import { resolveLimits } from './limits.js';
import type { BuildContext } from './context.js';
import type { Mount } from './types.js';
import { tempName } from '../temp-name.js';
import { removeTree as forceRemove } from '../store/remove-tree.js';

export interface BuildOutcome {
  status: 'built' | 'present' | 'substituted';
  path: string;
  meta: EntryMeta | undefined;
  /** With --keep-failed, where the failed build folder was kept. */
  keptAt?: string;
}

/**
 * /bin and /usr/bin for configure scripts and make, which run /bin/sh and
 * /usr/bin/env by absolute path: the bin/ folder of the dependency the recipe
 * names (Nix mounts a store shell at /bin/sh the same way). Only a full sandbox
 * has a root of its own to put them in; below it the host's /bin shows.
 */
function sandboxBinMounts(plan: BuildPlan, realDeps: Readonly<Record<string, string>>): Mount[] {
  if (plan.sandboxBin === undefined) return [];
  const dir = join(realDeps[plan.sandboxBin]!, 'bin');
  return ['/bin', '/usr/bin'].map((inside) => ({ real: dir, inside, writable: false }));
}

/** A recipe's closure of dependencies, as plans (itself excluded). */
export function closurePlans(plan: BuildPlan, plans: ReadonlyMap<string, BuildPlan>): BuildPlan[] {
  const out = new Map<string, BuildPlan>();
  const walk = (p: BuildPlan): void => {
    for (const d of p.deps) {
      const dp = plans.get(d.name);
      if (dp && !out.has(dp.name)) {
        out.set(dp.name, dp);
        walk(dp);
      }
    }
  };
  walk(plan);
  return [...out.values()];
}

export async function buildOne(plan: BuildPlan, ctx: BuildContext, opts: { fresh?: boolean } = {}): Promise<BuildOutcome> {
  const final = entryPath(ctx.store, plan.key, plan.name, plan.version);
  // The no-op path: present entries cost one stat (and a metadata read when the
  // lock records an output to compare with).
  if (!opts.fresh && hasEntrySync(ctx.store, plan.key, plan.name, plan.version)) {
    const meta = plan.expectedOutput ? await readMeta(ctx.store, plan.key) : undefined;
    if (meta) checkRecordedOutput(plan, meta.output, ctx);
    return { status: 'present', path: final, meta };
  }
  const release = opts.fresh
    ? async () => {}
    : await lockKey(ctx.store, plan.key, (holder) => ctx.onLog?.(plan.name, `waiting for ${holder}, which is building it\n`));
  try {
    if (!opts.fresh && (await hasEntry(ctx.store, plan.key, plan.name, plan.version))) {
      return { status: 'present', path: final, meta: await readMeta(ctx.store, plan.key) };
    }
    if (!opts.fresh && ctx.substitute && (await ctx.substitute(plan))) {
      return { status: 'substituted', path: final, meta: await readMeta(ctx.store, plan.key) };
    }
    ctx.onBuildStart?.(plan);
    return await buildFresh(plan, ctx, opts.fresh === true);
  } finally {
    await release();
  }
}

async function buildFresh(plan: BuildPlan, ctx: BuildContext, fresh: boolean): Promise<BuildOutcome> {
  await mkdir(ctx.store.tmp, { recursive: true });
  await mkdir(ctx.store.root, { recursive: true });
  await ownDir(ctx.store.logs, "the store's logs folder");
  const buildDir = join(ctx.store.tmp, tempName('build', `${plan.name}-${randomBytes(4).toString('hex')}`));
  await mkdir(buildDir, { mode: 0o755 });
  const logFile = join(buildDir, 'build.log');
  const logFd = openSync(logFile, 'a');
  const log = (s: string | Buffer): void => {
    if (typeof s === 'string') writeSync(logFd, s);
    else writeSync(logFd, s);
    ctx.onLog?.(plan.name, s.toString());
  };
  let ok = false;
  const started = Date.now();
  try {
    const limits = resolveLimits(plan.limits, ctx.limits);
    const level = await ctx.sandboxLevel();
    log(`intact: building ${plan.name}@${plan.version} (${plan.entry}) for ${plan.platform}, sandbox ${level}\n`);
    for (const d of ['src', 'tmp']) await mkdir(join(buildDir, d));
    await unpackSources(plan, ctx, buildDir, log);

    const deps = closurePlans(plan, ctx.plans);
    const inside = level === 'full';
    const paths: BuildPaths = inside
      ? {
          build: INSIDE.build,
          src: `${INSIDE.build}/src`,
          out: `${INSIDE.build}/out`,
          tmp: `${INSIDE.build}/tmp`,
          deps: Object.fromEntries(deps.map((d) => [d.name, `${INSIDE.store}/${d.entry}`])),
        }
      : {
          build: buildDir,
          src: join(buildDir, 'src'),
          out: join(buildDir, 'out'),
          tmp: join(buildDir, 'tmp'),
          deps: Object.fromEntries(deps.map((d) => [d.name, entryPath(ctx.store, d.key, d.name, d.version)])),
        };
    const realDeps = Object.fromEntries(deps.map((d) => [d.name, entryPath(ctx.store, d.key, d.name, d.version)]));
    const mounts: Mount[] = [
      { real: buildDir, inside: INSIDE.build, writable: true },
      ...deps.map((d) => ({ real: realDeps[d.name]!, inside: `${INSIDE.store}/${d.entry}`, writable: false })),
      ...sandboxBinMounts(plan, realDeps),
    ];

    if (plan.steps.length === 0) {
      // A recipe without steps installs its unpacked sources (a prebuilt binary).
      await rename(join(buildDir, 'src'), join(buildDir, 'out'));
    } else {
      await mkdir(join(buildDir, 'out'));
      // umask is process-wide: verify --rebuild builds one recipe at a time.
      const umask = ctx.vary ? process.umask(ctx.vary.umask) : undefined;
      try {
        await runSteps(plan.steps, {
          realBuild: buildDir,
          paths,
          realDeps,
          vars: stepVars(paths),
          env: { ...buildEnv(plan, paths, ctx.vary?.jobs ?? ctx.jobs), ...(ctx.vary?.env ?? {}) },
          level,
          mounts,
          projectDir: ctx.projectDir,
          recipe: plan.name,
          log,
          run: ctx.runStep,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          ...(ctx.timeoutMs ? { timeoutMs: ctx.timeoutMs } : {}),
          limits: { limits, deadlineAt: started + limits.timeMs, diskDir: buildDir },
          ...(ctx.vary ? { hostname: ctx.vary.hostname } : {}),
        });
      } finally {
        if (umask !== undefined) process.umask(umask);
      }
    }

    const out = join(buildDir, 'out');
    log('intact: checking the output\n');
    await ctx.checkOutput(out, {
      storeDir: ctx.store.root,
      buildDir,
      deps: deps.map((d) => ({ name: d.name, dir: realDeps[d.name]!, inside: `${INSIDE.store}/${d.entry}` })),
      entryName: plan.entry,
    });
    await ctx.normalise(out, SOURCE_DATE_EPOCH);
    const output = await ctx.treeHash(out);
    const size = await treeSize(out);
    log(`intact: output ${output} (${size} bytes)\n`);
    if (!fresh) checkRecordedOutput(plan, output, ctx);
    const meta: EntryMeta = {
      format: 1,
      key: plan.key,
      name: plan.name,
      version: plan.version,
      platform: plan.platform,
      output,
      size,
      deps: deps.map((d) => d.key).sort(),
      sandbox: level,
      origin: 'built',
      bin: plan.bin,
    };
    if (fresh) {
      ok = true;
      return { status: 'built', path: out, meta, keptAt: buildDir };
    }
    const added = await addEntry(ctx.store, out, meta);
    ok = true;
    return { status: added === 'added' ? 'built' : 'present', path: entryPath(ctx.store, plan.key, plan.name, plan.version), meta };
  } catch (e) {
    log(`intact: build failed: ${(e as Error).message}\n`);
    const base = e instanceof IntactError ? e : new IntactError('BUILD_FAILED', `${plan.name}: ${(e as Error).message}`, { cause: e });
    // The end of the log says why far more often than the exit status does.
    const tail = base.code === 'BUILD_FAILED' ? logTail(logFile, 15) : '';
    // The recipe is named first, whatever failed (a fetch error knows only its URL).
    const named = base.message.startsWith(`${plan.name}:`) ? base.message : `${plan.name}: ${base.message}`;
    throw new IntactError(base.code, `${named}${tail ? `\n${tail}` : ''}`, {
      ...fieldsOf(base),
      cause: base.cause,
      ...(ctx.keepFailed
        ? { hint: `the build folder was kept at ${buildDir} (sources in src/, output in out/, log in build.log)`, file: buildDir }
        : { hint: base.hint, file: base.file }),
    });
  } finally {
    closeSync(logFd);
    // No-follow: a link planted in logs/ (a cloned repository's) is replaced, never written through.
    await copyNoFollow(logFile, ctx.store.logs, `${plan.key}.log`).catch(() => undefined);
    await writeNoFollow(ctx.store.logs, `${plan.name}.last`, `${plan.key}\n`);
    const keep = (!ok && ctx.keepFailed) || (ok && fresh);
    if (!keep) await forceRemove(buildDir);
  }
}

/**
 * The lock may record the output hash (`intact lock --outputs`); a build that
 * gives another one is refused before it enters the store, unless told otherwise.
 */
function checkRecordedOutput(plan: BuildPlan, output: string, ctx: BuildContext): void {
  if (!plan.expectedOutput || plan.expectedOutput === output || ctx.allowMismatch) return;
  throw new IntactError('OUTPUT_MISMATCH', `${plan.name}: the output differs from the one intact.lock records for ${plan.platform}`, {
    file: 'intact.lock',
    expected: plan.expectedOutput,
    found: output,
    hint: `\`intact verify --rebuild ${plan.name}\` builds twice and lists the files that differ; --allow-mismatch installs it anyway for investigation; \`intact lock --outputs ${plan.name}\` records the new hash after review`,
  });
}

function logTail(file: string, lines: number): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return text
      .filter((l) => !l.startsWith('intact: build failed'))
      .slice(-lines)
      .map((l) => `  | ${l}`)
      .join('\n');
  } catch {
    return '';
  }
}

function fieldsOf(e: IntactError) {
  return { line: e.line, col: e.col, field: e.field, url: e.url, expected: e.expected, found: e.found };
}

/** Unpack each source's verified download into $src (merging several sources). */
async function unpackSources(plan: BuildPlan, ctx: BuildContext, buildDir: string, log: (s: string) => void): Promise<void> {
  // Loaded here, not at the top: unpack-tree pulls in every extractor, which an
  // install that only reuses entries never needs.
  const [{ fetchSource }, { describeSource }, { unpackOptions }] = await Promise.all([
    import('../fetch/source.js'),
    import('../fetch/context.js'),
    import('../fetch/unpack-tree.js'),
  ]);
  const got = await Promise.all(plan.sources.map(({ source, pin }) => fetchSource(source, pin, ctx.fetch)));
  const src = join(buildDir, 'src');
  for (let i = 0; i < plan.sources.length; i++) {
    const { source, pin } = plan.sources[i]!;
    const name = describeSource(source);
    log(`intact: unpacking ${name}\n`);
    const dest = join(buildDir, `unpack-${i}`);
    await ctx.extract(got[i]!.path, dest, {
      ...unpackOptions(source, pin.archiveIntegrity ?? source.archiveIntegrity),
      name,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    await mergeInto(dest, src, name);
  }
}

/**
 * Moves one source's unpacked tree into $src. Security: each tree was checked
 * alone, but links from an earlier source may point elsewhere once the trees
 * meet (`d -> e/../..` plus `e -> ../..`), so only a real folder merges into a
 * real folder (lstat, never stat): nothing is written through a link.
 */
export async function mergeInto(from: string, to: string, what: string): Promise<void> {
  for (const e of await readdir(from)) {
    const target = join(to, e);
    const st = await lstat(target).catch(() => undefined);
    if (st) {
      if (st.isDirectory() && (await lstat(join(from, e))).isDirectory()) {
        await mergeInto(join(from, e), target, what);
        continue;
      }
      throw new IntactError('BUILD_STEP', `${what}: ${e} is already in $src from another source`, {
        hint: 'give one of the sources a `path:` so they do not overlap',
      });
    }
    await rename(join(from, e), target);
  }
  await rm(from, { recursive: true, force: true });
}

async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))).size;
  }
  return total;
}

/** Remove a folder even when a build left read-only folders in it. */
export { removeTree as forceRemove } from '../store/remove-tree.js';
