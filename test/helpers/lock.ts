// Writing a lock for a test project without the network: sources get made-up but
// well-formed sha512 pins, exactly as `intact lock` would lay them out (store keys
// included, through the writer's own withKeys).
import { createHash } from 'node:crypto';
import { LOCKFILE_VERSION, makeEntry, projectState, withKeys, writeLock, type LockedSource, type Lockfile } from '../../src/lock/index.js';
import { sourceKind, type Source } from '../../src/recipe/index.js';

export function fakePin(seed: string): string {
  return `sha512-${createHash('sha512').update(seed).digest('base64')}`;
}

export function pinSource(s: Source, seed: string): LockedSource {
  const { strip: _s, path: _p, integrity, archiveIntegrity, ...rest } = s as Source & Record<string, unknown>;
  const pin = { kind: sourceKind(s), ...rest, integrity: (integrity as string | undefined) ?? fakePin(seed) } as LockedSource;
  if (s.archive !== undefined) pin.archiveIntegrity = (archiveIntegrity as string | undefined) ?? fakePin(`${seed}:archive`);
  return pin;
}

/** `edit` changes the entries before the store keys are computed, as a relock would. */
export async function lockFor(dir: string, edit: (l: Lockfile) => void = () => {}): Promise<Lockfile> {
  const { states, graph } = await projectState(dir);
  const lock: Lockfile = { lockfileVersion: LOCKFILE_VERSION, recipes: {} };
  for (const s of states) {
    const sources = (s.loaded.recipe.sources ?? []).map((src, i) => pinSource(src, `${s.loaded.recipe.name}:${i}`));
    lock.recipes[s.loaded.recipe.name] = makeEntry(s, sources);
  }
  edit(lock);
  return withKeys(lock, graph);
}

export async function writeLockFor(dir: string): Promise<Lockfile> {
  const lock = await lockFor(dir);
  await writeLock(dir, lock);
  return lock;
}
