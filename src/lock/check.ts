// Does the lock still describe the recipes? Pure: compares loaded recipes (with
// their recipe hashes) against a parsed lock and reports every difference, each
// pointing at the recipe or the lock line, with the command that fixes it.
import { byCodePoint } from '../canonical-json.js';
import { finding, type ErrorCode, type Finding } from '../errors.js';
import { topoOrder, type Graph } from '../recipe/graph.js';
import { classifyIntegrity } from '../recipe/integrity.js';
import { allDeps, sourceKind, type LoadedRecipe, type Source } from '../recipe/types.js';
import { lockKeys, type Keys } from './keys.js';
import { findKey, LOCK_FILE } from './parse.js';
import type { LockEntry, LockedSource, Lockfile } from './types.js';

export interface RecipeState {
  loaded: LoadedRecipe;
  hash: string;
  files: Record<string, string>;
}

export interface CheckInput {
  recipes: readonly RecipeState[];
  graph: Graph;
  lock: Lockfile;
  /** The lock's text, to point findings at its lines. */
  lockText?: string;
  lockFile?: string;
}

export function checkLock(input: CheckInput): Finding[] {
  const { recipes, graph, lock } = input;
  const lockFile = input.lockFile ?? LOCK_FILE;
  const text = input.lockText ?? '';
  const at = (name: string, key?: string) => ({ file: lockFile, ...(key ? findKey(text, key, name) : findKey(text, name, 'recipes')) });
  const out: Finding[] = [];
  const names = new Set(recipes.map((r) => r.loaded.recipe.name));
  const keys = lockKeys(graph, lock);

  for (const name of Object.keys(lock.recipes).sort(byCodePoint)) {
    if (!names.has(name)) {
      out.push(
        ...about(name, [
          finding('LOCK_ENTRY_EXTRA', `the lock has an entry for "${name}", but there is no recipes/${name}.yaml`, {
            ...at(name),
            hint: `run \`intact lock\` to drop it, or restore recipes/${name}.yaml`,
          }),
        ]),
      );
    }
  }

  // Recipes with a finding other than their keys, and those otherwise current.
  const faulty = new Set<string>();
  const current: RecipeState[] = [];
  for (const r of recipes) {
    const name = r.loaded.recipe.name;
    const found = about(
      name,
      checkEntry(r, lock.recipes[name], (k) => at(name, k)),
    );
    out.push(...found);
    if (found.length > 0) faulty.add(name);
    else current.push(r);
  }

  // Keys last, and only where the entry and its whole closure are otherwise
  // current: fixing a stale dependency moves its dependants' keys anyway, so a
  // finding for each of them would only repeat the dependency's.
  const skip = faulty.size > 0 ? tainted(graph, faulty) : new Set<string>();
  for (const r of current) {
    const name = r.loaded.recipe.name;
    if (skip.has(name)) continue;
    out.push(
      ...about(
        name,
        checkKeys(name, lock.recipes[name]!, keys.get(name), (k) => at(name, k), relockHint(name)),
      ),
    );
  }
  return out;
}

/**
 * The recipes that are faulty or need one that is, in one pass over the graph in
 * dependency order (a walk of each closure made a deep graph quadratic).
 */
function tainted(graph: Graph, faulty: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const name of topoOrder(graph)) {
    if (faulty.has(name) || (graph.edges.get(name) ?? []).some((d) => out.has(d))) out.add(name);
  }
  return out;
}

/** Every finding of a check names its recipe in a field (install and relock list them). */
function about(recipe: string, found: Finding[]): Finding[] {
  return found.map((f) => ({ ...f, recipe }));
}

function relockHint(name: string): string {
  return `run \`intact lock ${name}\` and commit the new intact.lock`;
}

type At = (key?: string) => { file: string; line?: number; col?: number };

/** Everything about one entry but its keys. */
function checkEntry(r: RecipeState, entry: LockEntry | undefined, at: At): Finding[] {
  const { recipe, file } = r.loaded;
  const relock = relockHint(recipe.name);
  if (!entry) {
    return [finding('LOCK_ENTRY_MISSING', `${recipe.name}@${recipe.version} is not in the lock`, { file, ...r.loaded.locate(['name']), hint: relock })];
  }
  const stale = (message: string, extra: object): Finding[] => [finding('LOCK_STALE', `${recipe.name}: ${message}`, { ...at(), hint: relock, ...extra })];
  if (entry.version !== recipe.version) {
    return stale(`the recipe is at ${recipe.version} but the lock pins ${entry.version}`, { expected: recipe.version, found: entry.version });
  }
  if (entry.recipeHash !== r.hash) {
    const changed = Object.keys({ ...r.files, ...(entry.files ?? {}) })
      .filter((f) => r.files[f] !== entry.files?.[f])
      .sort(byCodePoint);
    return stale(changed.length > 0 ? `${changed.join(', ')} changed since the lock was written` : `${file} changed since the lock was written`, {
      expected: entry.recipeHash,
      found: r.hash,
    });
  }
  return [...checkSources(recipe.name, recipe.sources ?? [], entry, at, relock), ...checkDeps(r, entry, at, relock)];
}

function checkSources(name: string, sources: readonly Source[], entry: LockEntry, at: At, relock: string): Finding[] {
  const out: Finding[] = [];
  if (entry.sources.length !== sources.length) {
    return [finding('LOCK_STALE', `${name}: the recipe has ${sources.length} source(s), the lock ${entry.sources.length}`, { ...at('sources'), hint: relock })];
  }
  sources.forEach((src, i) => {
    const pin = entry.sources[i]!;
    const where = `${name}: sources[${i}]`;
    const mismatch = locationMismatch(src, pin);
    if (mismatch) {
      out.push(finding('LOCK_STALE', `${where}: the lock pins ${mismatch}`, { ...at('sources'), hint: relock }));
      return;
    }
    out.push(...checkPin(where, 'integrity', pin.integrity, src.integrity, at, relock));
    if (src.archive !== undefined) {
      if (pin.archive !== src.archive) {
        out.push(finding('LOCK_STALE', `${where}: the lock does not pin the nested archive ${src.archive}`, { ...at('sources'), hint: relock }));
      } else {
        out.push(...checkPin(`${where} (archive ${src.archive})`, 'archiveIntegrity', pin.archiveIntegrity, src.archiveIntegrity, at, relock));
      }
    }
  });
  return out;
}

function checkPin(where: string, key: string, pinned: string | undefined, declared: string | undefined, at: At, relock: string): Finding[] {
  if (pinned === undefined || pinned === '') {
    return [finding('LOCK_UNPINNED', `${where} is not pinned by a hash`, { ...at(key), hint: relock })];
  }
  const v = classifyIntegrity(pinned);
  if (!v.ok) {
    const code: ErrorCode = 'LOCK_WEAK_HASH';
    return [finding(code, `${where} is pinned by a hash intact refuses: ${v.reason}`, { ...at(key), found: pinned, hint: `${relock} (it pins sha512)` })];
  }
  if (declared !== undefined && declared !== pinned) {
    return [
      finding('LOCK_INTEGRITY_DISAGREES', `${where}: the recipe declares ${key} ${declared} but the lock pins ${pinned}`, {
        ...at(key),
        expected: declared,
        found: pinned,
        hint: 'one of them is wrong: check the upstream hash, fix the recipe, then run `intact lock`',
      }),
    ];
  }
  return [];
}

/** What the lock records about where a source is must be what the recipe says. */
function locationMismatch(src: Source, pin: LockedSource): string | undefined {
  const kind = sourceKind(src);
  if (pin.kind !== kind) return `a ${pin.kind} source where the recipe has a ${kind} source`;
  const pairs: [string, unknown, unknown][] = [];
  if ('url' in src) pairs.push(['url', src.url, pin.url], ['mirrors', (src.mirrors ?? []).join(' '), (pin.mirrors ?? []).join(' ')]);
  if ('npm' in src) pairs.push(['npm', src.npm, pin.npm]);
  if ('git' in src) pairs.push(['git', src.git, pin.git], ['rev', src.rev, pin.rev]);
  if ('file' in src) pairs.push(['file', src.file, pin.file]);
  if ('deb' in src) pairs.push(['deb', src.deb, pin.deb]);
  if ('debSource' in src) pairs.push(['debSource', src.debSource, pin.debSource], ['debFile', src.debFile, pin.debFile]);
  pairs.push(['platforms', (src.platforms ?? []).join(' '), (pin.platforms ?? []).join(' ')]);
  for (const [k, want, have] of pairs) if (want !== have) return `${k} ${JSON.stringify(have)} where the recipe has ${JSON.stringify(want)}`;
  return undefined;
}

/**
 * The recorded store keys must be the ones the recipes and the lock give now: a
 * hand-edited key, or an intact whose key formula or store format changed, would
 * otherwise make `install` build what the lock does not describe. `now` is
 * undefined when an input is not in this lock (see lockKeys): not judged here.
 */
function checkKeys(name: string, entry: LockEntry, now: Keys | undefined, at: At, relock: string): Finding[] {
  if (entry.keys === undefined) {
    return [finding('LOCK_STALE', `${name}: the lock records no store keys`, { ...at(), hint: relock })];
  }
  if (now === undefined) return [];
  const recorded = entry.keys;
  const platforms = [...new Set([...Object.keys(recorded), ...Object.keys(now)])].sort(byCodePoint) as (keyof Keys)[];
  return platforms
    .filter((p) => recorded[p] !== now[p])
    .map((p) => {
      const message =
        now[p] === undefined
          ? `the lock records a store key for ${p}, where it cannot be planned`
          : recorded[p] === undefined
            ? `the lock records no store key for ${p}`
            : `the store key for ${p} is not the one the recipes and the lock give`;
      return finding('LOCK_STALE', `${name}: ${message}`, {
        ...at('keys'),
        ...(now[p] !== undefined ? { expected: now[p] } : {}),
        ...(recorded[p] !== undefined ? { found: recorded[p] } : {}),
        hint: relock,
      });
    });
}

/**
 * The lock's direct dependencies must be the recipe's. The closure is not
 * recorded (lockfileVersion 2): it follows from the deps, whose versions the
 * graph checks resolve against the recipes.
 */
function checkDeps(r: RecipeState, entry: LockEntry, at: At, relock: string): Finding[] {
  const name = r.loaded.recipe.name;
  const deps = allDeps(r.loaded.recipe).sort(byCodePoint);
  if (deps.join('\n') === [...entry.deps].sort(byCodePoint).join('\n')) return [];
  return [
    finding('LOCK_CLOSURE', `${name}: the lock's deps (${entry.deps.join(', ') || 'none'}) differ from the recipe's (${deps.join(', ') || 'none'})`, {
      ...at('deps'),
      hint: relock,
    }),
  ];
}
