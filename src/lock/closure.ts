// A lock entry's dependency closure, derived from the `deps` of the entries it
// reaches. The lock records direct dependencies only (lockfileVersion 2), so its
// size grows with recipes plus edges, not recipes times closure size.
import { byCodePoint } from '../canonical-json.js';
import { depName } from './keys.js';
import type { Lockfile } from './types.js';

/** Every `name@version` that `name` needs, directly or not, sorted; a dependency without an entry ends its branch. */
export function lockClosure(lock: Lockfile, name: string): string[] {
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length > 0) {
    for (const spec of lock.recipes[stack.pop()!]?.deps ?? []) {
      if (seen.has(spec)) continue;
      seen.add(spec);
      stack.push(depName(spec));
    }
  }
  return [...seen].sort(byCodePoint);
}
