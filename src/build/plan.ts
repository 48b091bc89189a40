// The build plan: recipe + lock entry + the plans of its dependencies → what
// to fetch, which steps to run with which environment, and the store key. Pure:
// no I/O, so every decision here is unit-tested and the key depends on nothing
// but the inputs.
import { IntactError } from '../errors.js';
import { buildKey, depName, sourcesOn } from '../lock/keys.js';
import type { LockEntry, LockedSource } from '../lock/types.js';
import { allDeps, recipePlatforms, type Platform, type Recipe, type Source, type Step } from '../recipe/types.js';
import { entryName } from '../store/key.js';
import { parseLimitValue, type BuildLimits } from '../recipe/limits.js';
import { SOURCE_DATE_EPOCH } from '../store/entry-layout.js';

export { recipePlatforms };

export interface PlannedSource {
  /** The recipe's source (strip, path, archive, ...). */
  source: Source;
  /** Its pin from the lock. */
  pin: LockedSource;
}

export interface PlannedDep {
  name: string;
  version: string;
  key: string;
  entry: string;
  /** The dep's `bin` paths, relative to its entry. */
  bin: string[];
  /** A `tools` entry: built for the build machine, its programs on PATH. */
  tool: boolean;
}

export interface BuildPlan {
  name: string;
  version: string;
  /** The target: what the output runs on. */
  platform: Platform;
  /** The machine the build runs on; differs from `platform` when cross-building. */
  buildPlatform: Platform;
  /** The dependency whose bin/ the full sandbox shows at /bin and /usr/bin. */
  sandboxBin?: string;
  key: string;
  /** `<key>-<name>-<version>` */
  entry: string;
  sources: PlannedSource[];
  steps: Step[];
  /** Direct dependencies; their own deps are reachable through their plans. */
  deps: PlannedDep[];
  bin: string[];
  /** The output hash the lock records for this platform (`intact lock --outputs`), if any. */
  expectedOutput?: string;
  /** The recipe's own build limits (checked against their bounds when it was loaded). */
  limits?: Partial<BuildLimits>;
}

/**
 * `depPlans` holds the plans of the recipe's tools (for `buildPlatform`) and of
 * its deps (for `platform`), by name.
 */
export function planBuild(
  recipe: Recipe,
  entry: LockEntry,
  platform: Platform,
  depPlans: ReadonlyMap<string, BuildPlan>,
  buildPlatform: Platform = platform,
): BuildPlan {
  if (!recipePlatforms(recipe).includes(platform)) {
    throw new IntactError('PLATFORM_UNSUPPORTED', `${recipe.name}@${recipe.version} is not declared for ${platform}`, {
      hint: `its platforms are ${recipePlatforms(recipe).join(', ')}; add ${platform} (with sources for it) to the recipe to build it here`,
    });
  }
  const sources: PlannedSource[] = sourcesOn(recipe, platform).map((i) => {
    const pin = entry.sources[i];
    if (!pin) throw new IntactError('LOCK_STALE', `${recipe.name}: sources[${i}] is not in the lock`, { hint: `run \`intact lock ${recipe.name}\`` });
    return { source: recipe.sources![i]!, pin };
  });
  const deps: PlannedDep[] = allDeps(recipe).map((spec, i) => {
    const name = depName(spec);
    const tool = i < (recipe.tools ?? []).length;
    const p = depPlans.get(name);
    if (!p) throw new IntactError('INTERNAL', `no plan for ${name}, a dependency of ${recipe.name}`);
    const want = tool ? buildPlatform : platform;
    // Everything of one build runs on one build machine; a tool is also built for it.
    if (p.platform !== want || p.buildPlatform !== buildPlatform) {
      throw new IntactError(
        'PLATFORM_UNSUPPORTED',
        `${recipe.name} needs ${name} ${tool ? 'as a tool' : 'as a dep'} for ${want}, and another recipe of this build needs it for ${p.platform}`,
        {
          hint: 'one build plans each recipe for one platform: build the two separately, or give the tool its own recipe',
        },
      );
    }
    return { name, version: p.version, key: p.key, entry: p.entry, bin: p.bin, tool };
  });
  // The one key formula, shared with the lock's `keys` (src/lock/keys.ts).
  const key = buildKey(
    entry.recipeHash,
    sources.map((s) => s.pin),
    Object.fromEntries(deps.map((d) => [d.name, d.key])),
    platform,
    buildPlatform,
  );
  // Defence in depth: checkLock judges recorded keys too, but only where its lock holds every input.
  // The lock records native keys (built where they run); a cross build's key is its own.
  if (buildPlatform === platform && entry.keys && entry.keys[platform] !== key) {
    throw new IntactError('LOCK_STALE', `${recipe.name}: the lock records ${entry.keys[platform] ? 'another' : 'no'} store key for ${platform}`, {
      expected: key,
      ...(entry.keys[platform] ? { found: entry.keys[platform] } : {}),
      hint: `run \`intact lock ${recipe.name}\` and commit the new intact.lock`,
    });
  }
  return {
    name: recipe.name,
    version: recipe.version,
    platform,
    buildPlatform,
    ...(recipe.sandboxBin ? { sandboxBin: recipe.sandboxBin } : {}),
    key,
    entry: entryName(key, recipe.name, recipe.version),
    sources,
    steps: recipe.build ?? [],
    deps,
    bin: recipe.bin ?? [],
    // Recorded outputs are native builds' (as the keys are).
    ...(buildPlatform === platform && entry.output?.[platform] ? { expectedOutput: entry.output[platform] } : {}),
    ...(recipe.limits ? { limits: recipeLimits(recipe.limits) } : {}),
  };
}

function recipeLimits(given: NonNullable<Recipe['limits']>): Partial<BuildLimits> {
  const out: Partial<BuildLimits> = {};
  for (const [name, value] of Object.entries(given)) {
    const r = parseLimitValue(name, value);
    if (r.ok) out[r.key] = r.value;
  }
  return out;
}

/** Where things are, as the build's steps see them (inside the sandbox, or real paths without one). */
export interface BuildPaths {
  build: string;
  src: string;
  out: string;
  tmp: string;
  /** Each dependency's entry folder, by name. */
  deps: Record<string, string>;
}

/**
 * The complete environment of a build step: only what intact sets. Nothing of
 * the caller's environment is taken (a canary test checks it).
 */
export function buildEnv(plan: BuildPlan, paths: BuildPaths, jobs: number): Record<string, string> {
  const path: string[] = [];
  const cross = plan.platform !== plan.buildPlatform;
  // Tools first; a cross build's deps are for the target, so their programs would not run here.
  for (const d of [...plan.deps.filter((x) => x.tool), ...plan.deps.filter((x) => !x.tool && !cross)]) {
    for (const b of d.bin) {
      const dir = parentOf(`${paths.deps[d.name]}/${b}`);
      if (!path.includes(dir)) path.push(dir);
    }
  }
  return {
    PATH: path.join(':'),
    out: paths.out,
    src: paths.src,
    TMPDIR: paths.tmp,
    TEMP: paths.tmp,
    TMP: paths.tmp,
    // Nowhere useful, as Nix does: a build that needs a home folder says so by failing.
    HOME: '/homeless-shelter',
    XDG_CACHE_HOME: `${paths.tmp}/cache`,
    SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH),
    LC_ALL: 'C',
    TZ: 'UTC',
    TERM: 'dumb',
    JOBS: String(jobs),
    MAKEFLAGS: `-j${jobs}`,
    // What the output runs on and what the build runs on: a C environment's
    // compiler wrappers pick the target from these, and `--host` when they differ.
    INTACT_PLATFORM: plan.platform,
    INTACT_BUILD_PLATFORM: plan.buildPlatform,
  };
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

const VAR = /\$\{([A-Za-z0-9_][A-Za-z0-9._-]*)\}|\$([A-Za-z_][A-Za-z0-9_.-]*)/g;

/**
 * Substitute `$out`, `$src`, `$TMPDIR` and `$<dep>` (also as `${...}`) in a step
 * argument. Recipe names may hold `-` and `.`, so a bare `$name` takes the longest
 * known name it starts with (`$foo-bar/x` with a dep foo-bar, `$out-dir` as $out
 * then "-dir"). Other `$words` are left alone (a script's own variables).
 */
export function substitute(arg: string, vars: Readonly<Record<string, string>>): string {
  const known = (n: string) => Object.hasOwn(vars, n);
  return arg.replace(VAR, (m, braced: string | undefined, bare: string | undefined) => {
    if (braced !== undefined) return known(braced) ? vars[braced]! : m;
    let name = bare!;
    while (!known(name)) {
      const cut = Math.max(name.lastIndexOf('-'), name.lastIndexOf('.'));
      if (cut <= 0) return m;
      name = name.slice(0, cut);
    }
    return vars[name]! + bare!.slice(name.length);
  });
}

/** The variables steps may use, from the paths. */
export function stepVars(paths: BuildPaths): Record<string, string> {
  return { out: paths.out, src: paths.src, TMPDIR: paths.tmp, ...paths.deps };
}
