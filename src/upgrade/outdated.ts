// `intact outdated`: which recipes have newer upstream versions, where the source
// kind can tell. Read-only: it never edits a recipe or the lock; an upgrade is
// always an explicit `intact upgrade` that goes through review.
//
// Where versions come from, per recipe, first that applies:
// 1. a `watch:` section (an index page and a pattern);
// 2. an npm source whose spec carries the recipe's version: the package's full
//    document, whose `time` also says when each version was published;
// 3. a git source: the remote's version-like tags (`git ls-remote --tags`);
// 4. a Debian source (deb or debSource): the versions the configured archive's
//    index lists for that package, in dpkg's order, compared with the pinned
//    Debian version (which the row shows as `current`).
// Otherwise the row says it cannot tell, and how to make it tell.
//
// Pre-releases are hidden unless asked for. `minAgeDays` hides releases younger
// than that (a cooling-off period against hijacked releases); only npm says when
// a version was published, so other releases are shown with their age unknown.
import { finding, isIntactError, type Finding } from '../errors.js';
import { runLimited } from '../pool.js';
import type { NpmConfig } from '../fetch/npmrc.js';
import type { FetchLimits } from '../fetch/types.js';
import { compareDebVersions, debArchOf, parseDebBinary, parseDebSource } from '../recipe/deb.js';
import { classifyNpmSpec, loadRecipes } from '../recipe/index.js';
import type { LoadedRecipe } from '../recipe/types.js';
import { remoteTags } from './ls-remote.js';
import { fetchPackument } from './packument.js';
import { compareVersions, isPrerelease, versionFromTag } from './versions.js';
import { watchVersions } from './watch.js';

export type Tracker = 'npm' | 'git' | 'watch' | 'deb' | 'none';

export interface Release {
  version: string;
  /** ISO time of publication, where the source says (npm). */
  published?: string;
  ageDays?: number;
  prerelease: boolean;
  /** npm's deprecation message, when the version is deprecated. */
  deprecated?: string;
}

export interface OutdatedRow {
  name: string;
  current: string;
  file: string;
  via: Tracker;
  /** The npm package, git remote or index page asked. */
  what?: string;
  /** Newer versions that pass the filters, oldest first. */
  newer: Release[];
  latest?: string;
  /** Newer versions left out by the filters. */
  hidden: { prereleases: number; younger: number };
  /** Why nothing can be told, or what went wrong. */
  note?: string;
}

export interface OutdatedReport {
  rows: OutdatedRow[];
  /** Lookups that failed (exit 1) and recipes that could not be read. */
  findings: Finding[];
}

export interface OutdatedOptions {
  npmConfig: () => Promise<NpmConfig>;
  limits: FetchLimits;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  prereleases?: boolean;
  minAgeDays?: number;
  /** "Now", for ages; tests pin it. */
  now?: Date;
  /** Concurrent lookups. */
  jobs?: number;
  names?: readonly string[];
}

const DAY_MS = 24 * 3600 * 1000;

export async function outdated(projectDir: string, opts: OutdatedOptions): Promise<OutdatedReport> {
  const loaded = await loadRecipes(projectDir);
  const findings: Finding[] = loaded.findings.filter((f) => f.severity === 'error');
  let recipes = loaded.recipes;
  if (opts.names && opts.names.length > 0) {
    const wanted = new Set(opts.names);
    for (const n of wanted) {
      if (!recipes.some((r) => r.recipe.name === n))
        findings.push(
          finding('USAGE', `there is no recipe named "${n}"`, { hint: `the recipes are: ${recipes.map((r) => r.recipe.name).join(', ') || 'none'}` }),
        );
    }
    recipes = recipes.filter((r) => wanted.has(r.recipe.name));
  }
  const rows: OutdatedRow[] = new Array(recipes.length);
  const tasks = recipes.map((r, i) => async () => {
    try {
      rows[i] = await lookUp(r, opts);
    } catch (e) {
      if (!isIntactError(e)) throw e;
      rows[i] = { ...baseRow(r), via: trackerOf(r).via, what: trackerOf(r).what, note: e.message };
      findings.push(finding(e.code, `${r.recipe.name}: ${e.message}`, { ...e, file: e.file ?? r.file, hint: e.hint }));
    }
  });
  await runLimited(tasks, opts.jobs ?? 4);
  return { rows, findings };
}

function baseRow(r: LoadedRecipe): Omit<OutdatedRow, 'via'> {
  return { name: r.recipe.name, current: r.recipe.version, file: r.file, newer: [], hidden: { prereleases: 0, younger: 0 } };
}

/** Which source tells this recipe's versions. */
export function trackerOf(r: LoadedRecipe): { via: Tracker; what?: string; npm?: string; git?: string; deb?: { name: string; arch: string; version: string } } {
  const { recipe } = r;
  if (recipe.watch) return { via: 'watch', what: recipe.watch.url };
  for (const s of recipe.sources ?? []) {
    if (!('npm' in s)) continue;
    const spec = classifyNpmSpec(s.npm);
    if (spec.exact && spec.version === recipe.version) return { via: 'npm', what: spec.name!, npm: spec.name! };
  }
  const git = (recipe.sources ?? []).find((s): s is Extract<typeof s, { git: string }> => 'git' in s);
  if (git) return { via: 'git', what: git.git, git: git.git };
  for (const s of recipe.sources ?? []) {
    const deb = 'deb' in s ? parseDebBinary(s.deb) : 'debSource' in s ? parseDebSource(s.debSource) : undefined;
    if (!deb?.ok) continue;
    const arch = 'deb' in s ? debArchOf(deb.spec, s.platforms ?? recipe.platforms) : 'source';
    if (arch === undefined) continue;
    return {
      via: 'deb',
      what: `${deb.spec.name}${arch === 'source' ? ' (source)' : `:${arch}`}`,
      deb: { name: deb.spec.name, arch, version: deb.spec.version },
    };
  }
  return { via: 'none' };
}

async function lookUp(r: LoadedRecipe, opts: OutdatedOptions): Promise<OutdatedRow> {
  const t = trackerOf(r);
  const base = { ...baseRow(r), via: t.via, ...(t.what !== undefined ? { what: t.what } : {}) };
  const common = { limits: opts.limits, env: opts.env, ...(opts.signal ? { signal: opts.signal } : {}) };
  let releases: Release[];
  switch (t.via) {
    case 'none':
      return { ...base, note: noteFor(r) };
    case 'watch': {
      const versions = await watchVersions(r, r.recipe.watch!, common);
      releases = versions.map((version) => ({ version, prerelease: isPrerelease(version) }));
      break;
    }
    case 'npm': {
      const doc = await fetchPackument(t.npm!, await opts.npmConfig(), common);
      const now = (opts.now ?? new Date()).getTime();
      releases = Object.values(doc.versions).map((v) => {
        const published = doc.time[v.version];
        const at = published === undefined ? NaN : Date.parse(published);
        const rel: Release = { version: v.version, prerelease: isPrerelease(v.version) };
        if (!Number.isNaN(at)) {
          rel.published = published!;
          rel.ageDays = Math.floor((now - at) / DAY_MS);
        }
        if (typeof v.deprecated === 'string' && v.deprecated !== '') rel.deprecated = v.deprecated;
        return rel;
      });
      break;
    }
    case 'deb': {
      const { debArchives } = await import('../fetch/deb/archives.js');
      const { listVersions } = await import('../fetch/deb/fetch.js');
      const d = t.deb!;
      const versions = await listVersions(d.name, d.arch, debArchives(opts.env), common);
      const newer = versions.filter((v) => compareDebVersions(v, d.version) > 0).reverse();
      const shown = newer.filter((v) => opts.prereleases || !v.includes('~'));
      const latest = shown.at(-1);
      return {
        ...base,
        current: d.version,
        newer: shown.map((version) => ({ version, prerelease: version.includes('~') })),
        hidden: { prereleases: newer.length - shown.length, younger: 0 },
        ...(latest !== undefined ? { latest } : {}),
        ...(versions.includes(d.version) ? {} : { note: `${d.version} is no longer on the configured archive` }),
      };
    }
    case 'git': {
      const tags = await remoteTags(t.git!, { env: opts.env, ...(opts.signal ? { signal: opts.signal } : {}) });
      const seen = new Set<string>();
      releases = [];
      for (const tag of tags) {
        const version = versionFromTag(tag.name, r.recipe.name);
        if (version === undefined || seen.has(version)) continue;
        seen.add(version);
        releases.push({ version, prerelease: isPrerelease(version) });
      }
      break;
    }
  }
  return { ...base, ...filterNewer(r.recipe.version, releases, opts) };
}

/** Newer releases than `current`, oldest first, with the filters applied and counted. */
export function filterNewer(
  current: string,
  releases: readonly Release[],
  opts: { prereleases?: boolean; minAgeDays?: number },
): Pick<OutdatedRow, 'newer' | 'hidden' | 'latest'> {
  const hidden = { prereleases: 0, younger: 0 };
  const newer: Release[] = [];
  for (const rel of [...releases].sort((a, b) => compareVersions(a.version, b.version))) {
    if (compareVersions(rel.version, current) <= 0) continue;
    if (rel.prerelease && !opts.prereleases) {
      hidden.prereleases++;
      continue;
    }
    if (opts.minAgeDays !== undefined && rel.ageDays !== undefined && rel.ageDays < opts.minAgeDays) {
      hidden.younger++;
      continue;
    }
    newer.push(rel);
  }
  const latest = newer.at(-1)?.version;
  return { newer, hidden, ...(latest !== undefined ? { latest } : {}) };
}

function noteFor(r: LoadedRecipe): string {
  const kinds = new Set((r.recipe.sources ?? []).map((s) => Object.keys(s).find((k) => ['url', 'npm', 'git', 'file'].includes(k))));
  if (kinds.has('npm')) return `no npm source carries version ${r.recipe.version}; add a \`watch:\` section to ${r.file} to follow upstream`;
  if (kinds.has('url')) return `url sources cannot list versions; add a \`watch:\` section (an index URL and a pattern) to ${r.file}`;
  if (kinds.size === 0) return 'the recipe has no sources';
  return 'vendored files: upstream is not known to intact';
}
