// What a project's intact.lock keeps in a store's download cache, for gc: the
// cache file of every pinned source (every platform's, not only this one's: the
// lock pins them all) and the git fetcher's mirror of every pinned git remote.
// gc lives in the store layer, which does not read lockfiles; it asks this.
import { DownloadCache } from '../fetch/cache.js';
import { gitMirrorDir } from '../fetch/git.js';
import { readLock } from '../lock/index.js';
import type { Pins } from '../store/gc.js';
import type { StoreLayout } from '../store/paths.js';

/** undefined when the lock exists but cannot be read: then what it needs is unknown. */
export async function projectPins(store: StoreLayout, projectDir: string): Promise<Pins | undefined> {
  let read;
  try {
    read = await readLock(projectDir);
  } catch {
    return undefined;
  }
  const pins: Pins = { cacheFiles: [], gitMirrors: [] };
  if (!read) return pins; // no lock: it pins nothing
  const cache = new DownloadCache(store.root);
  for (const entry of Object.values(read.lock.recipes)) {
    for (const s of entry.sources) {
      for (const integrity of [s.integrity, s.archiveIntegrity]) {
        if (integrity === undefined) continue;
        try {
          pins.cacheFiles.push(cache.pathFor(integrity));
        } catch {
          // a malformed pin names no file; `intact verify` reports it
        }
      }
      if (s.git !== undefined) pins.gitMirrors.push(gitMirrorDir(store, s.git));
    }
  }
  return pins;
}
