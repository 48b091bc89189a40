// What changed between two snapshots of the project (snapshot.ts), recipe by
// recipe: added, removed, upgraded or downgraded (the version moved), changed
// (the recipe or a file it references changed, same version), or relocked (only
// its lock entry changed, e.g. a dependency's version moved its closure). For each:
// sources and their pins, dependencies and closure, store keys, recorded output
// hashes, license. Pure; sizes come later from the store (sizes.ts) where it
// knows them.
import { byCodePoint } from '../canonical-json.js';
import { lockClosure } from '../lock/closure.js';
import { locationOf } from '../lock/location.js';
import { pinLabel, type LockEntry, type LockedSource } from '../lock/types.js';
import { allDeps, type Source } from '../recipe/types.js';
import type { Snapshot, SnapshotRecipe } from './snapshot.js';
import { compareVersions } from './versions.js';

export type RecipeStatus = 'added' | 'removed' | 'upgraded' | 'downgraded' | 'changed' | 'relocked';

export interface Change<T = string> {
  before?: T;
  after?: T;
}

export interface SourceChange {
  index: number;
  /** How the source is located: `npm:spec`, a URL, `git:url#rev`, `file:path` (plus ` > archive`). */
  location: Change;
  integrity: Change;
  archiveIntegrity: Change;
}

export interface RecipeDiff {
  name: string;
  file: string;
  status: RecipeStatus;
  version: Change;
  /** The recipe's text differs. */
  recipeChanged: boolean;
  /** The lock entry differs. */
  lockChanged: boolean;
  sources: SourceChange[];
  deps: { added: string[]; removed: string[] };
  closure: { added: string[]; removed: string[] };
  /** Referenced repository files whose recorded hash changed (patches, vendored sources). */
  files: ({ path: string } & Change)[];
  outputs: ({ platform: string } & Change)[];
  /** Recorded store keys that changed: a changed key means a rebuild on that platform. */
  keys: ({ platform: string } & Change)[];
  license?: Change;
  /** Bytes of the built output on this machine's platform, where the store has it. */
  size?: Change<number>;
}

export interface DiffReport {
  base: { label: string; rev?: string };
  head: { label: string; rev?: string };
  recipes: RecipeDiff[];
  counts: Record<RecipeStatus, number>;
}

export function diffSnapshots(base: Snapshot, head: Snapshot): DiffReport {
  const names = [
    ...new Set([...base.recipes.keys(), ...head.recipes.keys(), ...Object.keys(base.lock?.recipes ?? {}), ...Object.keys(head.lock?.recipes ?? {})]),
  ].sort(byCodePoint);
  const recipes: RecipeDiff[] = [];
  for (const name of names) {
    const d = diffRecipe(name, base, head);
    if (d) recipes.push(d);
  }
  const counts: Record<RecipeStatus, number> = { added: 0, removed: 0, upgraded: 0, downgraded: 0, changed: 0, relocked: 0 };
  for (const r of recipes) counts[r.status]++;
  return {
    base: { label: base.label, ...(base.rev !== undefined ? { rev: base.rev } : {}) },
    head: { label: head.label, ...(head.rev !== undefined ? { rev: head.rev } : {}) },
    recipes,
    counts,
  };
}

function diffRecipe(name: string, base: Snapshot, head: Snapshot): RecipeDiff | undefined {
  const a = base.recipes.get(name);
  const b = head.recipes.get(name);
  const ea = base.lock?.recipes[name];
  const eb = head.lock?.recipes[name];
  const recipeChanged = a?.text !== b?.text;
  const lockChanged = JSON.stringify(ea) !== JSON.stringify(eb);
  if (!recipeChanged && !lockChanged) return undefined;
  const va = versionOf(a, ea);
  const vb = versionOf(b, eb);
  let status: RecipeStatus;
  if (!a && !b)
    status = ea ? 'removed' : 'added'; // only a lock entry: it follows the lock
  else if (!a) status = 'added';
  else if (!b) status = 'removed';
  else if (va !== undefined && vb !== undefined && va !== vb) status = compareVersions(vb, va) > 0 ? 'upgraded' : 'downgraded';
  else if (recipeChanged || ea?.recipeHash !== eb?.recipeHash) status = 'changed';
  else status = 'relocked';
  const diff: RecipeDiff = {
    name,
    file: b?.file ?? a?.file ?? `recipes/${name}.yaml`,
    status,
    version: change(va, vb),
    recipeChanged,
    lockChanged,
    sources: diffSources(a, ea, b, eb),
    deps: setDiff(ea?.deps ?? (a?.loaded ? allDeps(a.loaded.recipe) : []), eb?.deps ?? (b?.loaded ? allDeps(b.loaded.recipe) : [])),
    closure: setDiff(ea && base.lock ? lockClosure(base.lock, name) : [], eb && head.lock ? lockClosure(head.lock, name) : []),
    files: mapDiff(ea?.files ?? {}, eb?.files ?? {}).map(([path, c]) => ({ path, ...c })),
    outputs: mapDiff(ea?.output ?? {}, eb?.output ?? {}).map(([platform, c]) => ({ platform, ...c })),
    keys: mapDiff(ea?.keys ?? {}, eb?.keys ?? {}).map(([platform, c]) => ({ platform, ...c })),
  };
  const la = a?.loaded?.recipe.license;
  const lb = b?.loaded?.recipe.license;
  if (la !== lb) diff.license = change(la, lb);
  return diff;
}

function versionOf(r: SnapshotRecipe | undefined, e: LockEntry | undefined): string | undefined {
  return r?.loaded?.recipe.version ?? e?.version;
}

function change<T>(before: T | undefined, after: T | undefined): Change<T> {
  return { ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) };
}

/** Where a pinned source is, in one line. */
export function locationOfPin(p: LockedSource): string {
  let s: string;
  if (p.npm !== undefined) s = `npm:${p.npm}`;
  else if (p.url !== undefined) s = p.url + (p.mirrors && p.mirrors.length > 0 ? ` (+${p.mirrors.length} mirror${p.mirrors.length > 1 ? 's' : ''})` : '');
  else if (p.git !== undefined) s = `git:${p.git}#${p.rev ?? ''}`;
  else if (p.deb !== undefined || p.debSource !== undefined) s = pinLabel(p);
  else s = `file:${p.file ?? ''}`;
  if (p.archive !== undefined) s += ` > ${p.archive}`;
  if (p.platforms && p.platforms.length > 0) s += ` [${p.platforms.join(', ')}]`;
  return s;
}

function locationOfSource(s: Source): string {
  return locationOfPin(locationOf(s));
}

interface SideSource {
  location: string;
  integrity?: string;
  archiveIntegrity?: string;
}

/** The lock's pins where there are any, else the recipe's sources (unpinned). */
function sidesOf(r: SnapshotRecipe | undefined, e: LockEntry | undefined): SideSource[] {
  if (e)
    return e.sources.map((p) => ({
      location: locationOfPin(p),
      integrity: p.integrity,
      ...(p.archiveIntegrity !== undefined ? { archiveIntegrity: p.archiveIntegrity } : {}),
    }));
  return (r?.loaded?.recipe.sources ?? []).map((s) => ({ location: locationOfSource(s) }));
}

function diffSources(a: SnapshotRecipe | undefined, ea: LockEntry | undefined, b: SnapshotRecipe | undefined, eb: LockEntry | undefined): SourceChange[] {
  const x = sidesOf(a, ea);
  const y = sidesOf(b, eb);
  const out: SourceChange[] = [];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p && q && p.location === q.location && p.integrity === q.integrity && p.archiveIntegrity === q.archiveIntegrity) continue;
    out.push({
      index: i,
      location: change(p?.location, q?.location),
      integrity: change(p?.integrity, q?.integrity),
      archiveIntegrity: change(p?.archiveIntegrity, q?.archiveIntegrity),
    });
  }
  return out;
}

function setDiff(a: readonly string[], b: readonly string[]): { added: string[]; removed: string[] } {
  const x = new Set(a);
  const y = new Set(b);
  return { added: [...y].filter((v) => !x.has(v)).sort(byCodePoint), removed: [...x].filter((v) => !y.has(v)).sort(byCodePoint) };
}

function mapDiff(a: Readonly<Record<string, string | undefined>>, b: Readonly<Record<string, string | undefined>>): [string, Change][] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(byCodePoint);
  return keys.filter((k) => a[k] !== b[k]).map((k) => [k, change(a[k], b[k])]);
}
