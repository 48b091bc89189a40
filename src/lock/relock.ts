// `intact lock`: bring intact.lock up to date with the recipes. It fetches the
// sources of new or changed recipes (or of the named ones), pins them, and never
// changes a pin that is still valid: a source whose location did not change
// keeps its pin, and a named recipe is fetched against its pin, so a registry or
// server that now serves other bytes is an error, not a silent re-pin. Versions
// come only from recipes; this never chooses one.
import { requireRecipes } from '../recipe/names.js';
import { byCodePoint, nameMap } from '../canonical-json.js';
import { exitStatusOf, IntactError, type Finding } from '../errors.js';
import { checkOffline, type NeededSource } from '../fetch/offline.js';
import type { FetchContext } from '../fetch/context.js';
import { classifyIntegrity, sourceKind, type Source } from '../recipe/index.js';
import { checkLock, type RecipeState } from './check.js';
import { makeEntry } from './entry.js';
import { withKeys, type Keys } from './keys.js';
import { runLimited } from '../pool.js';
import { readLock, sweepLockTemps, writeLock } from './io.js';
import { emptyLock, serializeLock } from './parse.js';
import { projectState } from './state.js';
import { locationOf } from './location.js';
import { LOCKFILE_VERSION, pinLabel, type LockEntry, type LockedSource, type Lockfile } from './types.js';
import { lockClosure } from './closure.js';

export interface LockOptions {
  /** Recipes to lock again (fetching their sources); default: the new and changed ones. */
  names?: readonly string[];
  fetch: FetchContext;
  /** How many sources are fetched at once. */
  jobs: number;
  /** Hash a file inside a fetched archive (the nested `archive` of a source). */
  hashMember: (archiveFile: string, member: string, opts: { algorithm: string; what: string }) => Promise<string>;
  /** Tree hash of a fetched source unpacked as a build would unpack it (recorded as `tree`). */
  treeOf?: (file: string, source: Source, pin: LockedSource) => Promise<string>;
  /** Compute and show the changes, but write nothing. */
  dryRun?: boolean;
}

export interface LockChange {
  name: string;
  change: 'added' | 'updated' | 'removed';
  details: string[];
}

export interface LockResult {
  /** Recipe problems that stop locking (the lock is not written). */
  findings: Finding[];
  changes: LockChange[];
  written: boolean;
  lock?: Lockfile;
}

export async function relock(projectDir: string, opts: LockOptions): Promise<LockResult> {
  await sweepLockTemps(projectDir);
  const [project, read] = await Promise.all([projectState(projectDir), readLock(projectDir)]);
  const blocking = project.findings.filter((f) => f.severity === 'error');
  if (exitStatusOf(blocking) !== 0) return { findings: project.findings, changes: [], written: false };

  const old = read?.lock ?? emptyLock();
  const byName = new Map(project.states.map((s) => [s.loaded.recipe.name, s]));
  requireRecipes(opts.names ?? [], byName.keys());

  const targets = opts.names ? new Set(opts.names) : staleNames(project.states, project.graph, old);

  const next: Lockfile = { lockfileVersion: LOCKFILE_VERSION, recipes: nameMap() };
  const work: (() => Promise<void>)[] = [];
  const needed: NeededSource[] = [];
  const pinsFor = new Map<string, LockedSource[]>();
  for (const state of project.states) {
    const name = state.loaded.recipe.name;
    const prev = old.recipes[name];
    if (!targets.has(name)) {
      if (prev) next.recipes[name] = prev;
      continue;
    }
    const sources = state.loaded.recipe.sources ?? [];
    const pins: LockedSource[] = new Array(sources.length);
    pinsFor.set(name, pins);
    sources.forEach((src, i) => {
      // A repository file's pin is its content, which an edit changes without
      // moving it: it is always hashed again, never checked against the old pin.
      const reuse = prev && sourceKind(src) !== 'file' ? reusablePin(src, prev) : undefined;
      const verifyOnly = opts.names !== undefined;
      if (reuse && !verifyOnly) {
        pins[i] = reuse;
        return;
      }
      needed.push({ recipe: name, source: src, integrity: src.integrity ?? reuse?.integrity });
      work.push(async () => {
        try {
          pins[i] = await pinSource(src, reuse, opts);
        } catch (e) {
          throw atSource(e, state, i);
        }
      });
    });
  }
  // Without names, an entry whose recipe is gone leaves the lock; with names,
  // only the named recipes change.
  if (opts.names) {
    for (const [name, entry] of Object.entries(old.recipes)) if (!byName.has(name)) next.recipes[name] = entry;
  }

  // Offline, every source that would be fetched and is not in the cache is named at once.
  await checkOffline(needed, opts.fetch);
  await runLimited(work, opts.jobs);

  for (const [name, pins] of pinsFor) {
    const state = byName.get(name)!;
    const prev = old.recipes[name];
    next.recipes[name] = makeEntry(state, pins, prev?.output && prev.recipeHash === state.hash ? prev.output : undefined);
  }
  // Keys last and for every entry, named or not: a dependency's new pin moves
  // the key of each dependant, and a lock that verify calls stale helps no one.
  const lock = withKeys(next, project.graph);
  const changes = diffLocks(old, lock);
  const written = !opts.dryRun && (read === undefined || serializeLock(lock) !== read.text);
  if (written) await writeLock(projectDir, lock);
  return { findings: project.findings, changes, written, lock };
}

/** Recipes whose entry is missing or that `verify` would call out of date. */
function staleNames(states: readonly RecipeState[], graph: Parameters<typeof checkLock>[0]['graph'], lock: Lockfile): Set<string> {
  const out = new Set<string>();
  for (const s of states) if (!lock.recipes[s.loaded.recipe.name]) out.add(s.loaded.recipe.name);
  const names = new Set(states.map((s) => s.loaded.recipe.name));
  for (const f of checkLock({ recipes: states, graph, lock })) if (f.recipe !== undefined && names.has(f.recipe)) out.add(f.recipe);
  return out;
}

function sameLocation(a: LockedSource, b: LockedSource): boolean {
  const key = (p: LockedSource) =>
    JSON.stringify([p.kind, p.url, p.mirrors ?? [], p.npm, p.git, p.rev, p.file, p.deb, p.debSource, p.debFile, p.archive, p.platforms ?? []]);
  return key(a) === key(b);
}

/** A previous pin for the same location that is strong and agrees with the recipe. */
function reusablePin(src: Source, prev: LockEntry): LockedSource | undefined {
  const want = locationOf(src);
  const old = prev.sources.find((p) => sameLocation(p, want));
  if (!old || !classifyIntegrity(old.integrity).ok) return undefined;
  if (src.integrity !== undefined && src.integrity !== old.integrity) return undefined;
  if (src.archive !== undefined) {
    if (old.archiveIntegrity === undefined || !classifyIntegrity(old.archiveIntegrity).ok) return undefined;
    if (src.archiveIntegrity !== undefined && src.archiveIntegrity !== old.archiveIntegrity) return undefined;
  }
  return old;
}

async function pinSource(src: Source, previous: LockedSource | undefined, opts: LockOptions): Promise<LockedSource> {
  const [{ fetchSource }, { describeSource }] = await Promise.all([import('../fetch/source.js'), import('../fetch/context.js')]);
  // A declared integrity is what the lock records (so both agree); otherwise the
  // previous pin is checked, or the bytes are pinned by sha512 now.
  const expected = src.integrity ?? previous?.integrity;
  const got = await fetchSource(
    src,
    expected === undefined ? undefined : { integrity: expected, ...debPlace(previous), ...urlSize(src, previous) },
    opts.fetch,
  );
  const pin = locationOf(src);
  pin.integrity = src.integrity ?? previous?.integrity ?? got.integrity;
  if (got.debPath !== undefined) pin.debPath = got.debPath;
  // A url source's size bounds its later downloads (src/fetch/source.ts).
  if (got.size !== undefined && (got.debPath !== undefined || sourceKind(src) === 'url')) pin.size = got.size;
  if (src.archive !== undefined) {
    const declared = src.archiveIntegrity ?? previous?.archiveIntegrity;
    const algorithm = declared ? declared.slice(0, declared.indexOf('-')) : 'sha512';
    const what = `${src.archive} inside ${describeSource(src)}`;
    const found = await opts.hashMember(got.path, src.archive, { algorithm, what });
    if (declared !== undefined && found !== declared) {
      throw new IntactError('INTEGRITY_MISMATCH', `${what} does not match its pin`, {
        expected: declared,
        found,
        url: describeSource(src),
        hint: 'the nested archive changed, or the pin is wrong: check the upstream hash before changing archiveIntegrity',
      });
    }
    pin.archiveIntegrity = found;
  }
  const tree = previous?.tree ?? (await opts.treeOf?.(got.path, src, pin));
  if (tree !== undefined) pin.tree = tree;
  return pin;
}

/**
 * A source's failure, placed at the recipe line that names the source, so the
 * user sees which recipe it is (the URL stays in the error's own fields).
 */
function atSource(e: unknown, state: RecipeState, i: number): unknown {
  if (!(e instanceof IntactError) || e.file !== undefined) return e;
  const { recipe, file } = state.loaded; // the file:line names the recipe
  const kind = recipe.sources?.[i] ? sourceKind(recipe.sources[i]!) : undefined;
  const path = kind === undefined ? ['sources', i] : ['sources', i, kind];
  return new IntactError(e.code, e.message, {
    file,
    ...state.loaded.locate(path),
    field: `sources[${i}]${kind === undefined ? '' : `.${kind}`}`,
    ...(e.url !== undefined ? { url: e.url } : {}),
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
    ...(e.expected !== undefined ? { expected: e.expected } : {}),
    ...(e.found !== undefined ? { found: e.found } : {}),
    cause: e,
  });
}

/** Where a previous pin found a Debian file, so a re-check asks for the same one. */
function debPlace(p: LockedSource | undefined): { debPath?: string; size?: number } {
  if (p?.debPath === undefined) return {};
  return { debPath: p.debPath, ...(p.size !== undefined ? { size: p.size } : {}) };
}

/** The size a previous pin of a url source recorded, so a re-check stops there too. */
function urlSize(src: Source, p: LockedSource | undefined): { size?: number } {
  return sourceKind(src) === 'url' && p?.size !== undefined ? { size: p.size } : {};
}

/** Store key changes, a line per platform; a lock that had none says so once. */
function keyDetails(a: Keys | undefined, b: Keys | undefined): string[] {
  if (b === undefined) return [];
  if (a === undefined) return [`recorded store keys (${Object.keys(b).sort(byCodePoint).join(', ') || 'no platform'})`];
  const short = (k: string | undefined) => (k === undefined ? 'none' : `${k.slice(0, 8)}…`);
  const platforms = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(byCodePoint) as (keyof Keys)[];
  return platforms.filter((p) => a[p] !== b[p]).map((p) => `key ${p} ${short(a[p])} -> ${short(b[p])}`);
}

/** What changed between two locks, per recipe, in words for the terminal. */
export function diffLocks(a: Lockfile, b: Lockfile): LockChange[] {
  const names = [...new Set([...Object.keys(a.recipes), ...Object.keys(b.recipes)])].sort(byCodePoint);
  const out: LockChange[] = [];
  for (const name of names) {
    const x = a.recipes[name];
    const y = b.recipes[name];
    if (!x && y) out.push({ name, change: 'added', details: [`${name}@${y.version}: ${y.sources.length} source(s) pinned`] });
    else if (x && !y) out.push({ name, change: 'removed', details: [`${name}@${x.version}`] });
    else if (
      x &&
      y &&
      serializeLock({ lockfileVersion: LOCKFILE_VERSION, recipes: { x } }) !== serializeLock({ lockfileVersion: LOCKFILE_VERSION, recipes: { x: y } })
    ) {
      const details: string[] = [];
      if (x.version !== y.version) details.push(`version ${x.version} -> ${y.version}`);
      if (x.recipeHash !== y.recipeHash) details.push('recipe changed');
      const pinOf = (s: LockedSource) => JSON.stringify({ ...s, tree: undefined });
      const before = new Set(x.sources.map(pinOf));
      const trees = new Set(x.sources.map((s) => s.tree));
      for (const s of y.sources) {
        const where = pinLabel(s);
        if (!before.has(pinOf(s))) details.push(`pinned ${where} ${s.integrity}`);
        else if (s.tree !== undefined && !trees.has(s.tree)) details.push(`recorded the unpacked tree of ${where}`);
      }
      const [cx, cy] = [lockClosure(a, name), lockClosure(b, name)];
      if (cx.join() !== cy.join()) details.push(`closure ${cx.join(', ') || 'none'} -> ${cy.join(', ') || 'none'}`);
      details.push(...keyDetails(x.keys, y.keys));
      out.push({ name, change: 'updated', details });
    }
  }
  return out;
}
