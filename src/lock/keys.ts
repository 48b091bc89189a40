// The store key of each recipe on each platform, from the lock: the one formula
// that build planning (src/build/plan.ts) and the lock writer share, so the key
// intact.lock records (`keys`) is the key `install` computes. Pure.
//
// A recipe has a key for a platform when it can be planned there from the lock
// alone: the recipe declares the platform, every source it uses there is pinned,
// and every dependency has a key there (so a dependency's change reaches every
// dependant's key, and a platform a dependency lacks is lacked by its dependants).
import { topoOrder, type Graph } from '../recipe/graph.js';
import { allDeps, PLATFORMS, recipePlatforms, type Platform, type Recipe } from '../recipe/types.js';
import { nameMap } from '../canonical-json.js';
import { storeKey } from '../store/key.js';
import type { LockEntry, LockedSource, Lockfile } from './types.js';

export type Keys = Partial<Record<Platform, string>>;

/** Indexes of the recipe's sources a build on `platform` uses, in recipe order. */
export function sourcesOn(recipe: Recipe, platform: Platform): number[] {
  return (recipe.sources ?? []).flatMap((s, i) => (s.platforms && !s.platforms.includes(platform) ? [] : [i]));
}

/** The name part of a dependency spec `name@version`. */
export function depName(spec: string): string {
  return spec.slice(0, spec.lastIndexOf('@'));
}

/** The store key of one build: the lock's recipe hash and pins, the dependencies' keys by name, the platform. */
export function buildKey(
  recipeHash: string,
  pins: readonly LockedSource[],
  deps: Readonly<Record<string, string>>,
  platform: Platform,
  buildPlatform: Platform = platform,
): string {
  return storeKey({
    recipeHash,
    sources: pins.map((p) => ({ integrity: p.integrity, ...(p.archiveIntegrity ? { archiveIntegrity: p.archiveIntegrity } : {}) })),
    deps,
    platform,
    // Only a cross build names the build machine, so every native key stays as it was.
    ...(buildPlatform !== platform ? { buildPlatform } : {}),
  });
}

/**
 * Every recipe's key on every platform it can be planned for. A recipe is left
 * out, rather than given no platform, when an input is not at hand: it has no
 * entry, or a dependency is unknown, in a cycle, or left out itself (the lock
 * checks report those, and a lock given only some entries cannot judge the rest).
 */
export function lockKeys(graph: Graph, lock: Lockfile): Map<string, Keys> {
  const out = new Map<string, Keys>();
  for (const name of topoOrder(graph)) {
    const recipe = graph.byName.get(name)?.recipe;
    const entry = lock.recipes[name];
    if (!recipe || !entry || allDeps(recipe).some((spec) => !out.has(depName(spec)))) continue;
    const keys: Keys = {};
    for (const platform of PLATFORMS) {
      const key = keyOn(recipe, entry, platform, (dep) => out.get(dep)?.[platform]);
      if (key !== undefined) keys[platform] = key;
    }
    out.set(name, keys);
  }
  return out;
}

/** The key on one platform, or undefined when the recipe cannot be planned there from the lock. */
function keyOn(recipe: Recipe, entry: LockEntry, platform: Platform, depKey: (name: string) => string | undefined): string | undefined {
  if (!recipePlatforms(recipe).includes(platform)) return undefined;
  const pins: LockedSource[] = [];
  for (const i of sourcesOn(recipe, platform)) {
    const pin = entry.sources[i];
    if (!pin) return undefined;
    pins.push(pin);
  }
  const deps: Record<string, string> = {};
  for (const spec of allDeps(recipe)) {
    const key = depKey(depName(spec));
    if (key === undefined) return undefined;
    deps[depName(spec)] = key;
  }
  return buildKey(entry.recipeHash, pins, deps, platform);
}

/**
 * The lock with `keys` computed afresh for every entry with a recipe; where that
 * cannot be done (see lockKeys) an entry keeps the keys it had, or records none.
 * An entry kept for a recipe that is gone stays as it is. Returns new objects.
 */
export function withKeys(lock: Lockfile, graph: Graph): Lockfile {
  const keys = lockKeys(graph, lock);
  const recipes = nameMap(
    Object.entries(lock.recipes).map(([name, e]) => [name, graph.byName.has(name) ? { ...e, keys: keys.get(name) ?? e.keys ?? {} } : e] as const),
  );
  return { ...lock, recipes };
}
