// What differs between two record lists of one tree (the manifest recorded when
// an entry was added, and a fresh scan): each path modified, added, missing, or
// replaced by a symlink. A folder that went missing (or appeared) is one change
// that counts what was inside it, not a change per file: deleting a folder of a
// thousand files reads as one line.
import type { Kind, TreeRecord } from './tree-scan.js';

export interface TreeChange {
  change: 'modified' | 'added' | 'missing' | 'symlinked';
  /** Relative path, for messages (UTF-8; raw bytes are in `raw`). */
  path: string;
  raw: Buffer;
  was?: Kind;
  now?: Kind;
  /** For a folder that is missing or added (or replaced): how many entries below it. */
  inside?: number;
  /** One line for people: what changed. */
  detail: string;
}

const NAMES: Record<Kind, string> = { d: 'a folder', f: 'a file', x: 'an executable file', l: 'a symlink' };

/** Both lists sorted by the bytes of `rel`, as scanTree and parseManifest give them. */
export function diffRecords(expected: readonly TreeRecord[], found: readonly TreeRecord[]): TreeChange[] {
  const changes: TreeChange[] = [];
  // Paths (latin1: one char per byte, so exact) whose whole subtree is one change.
  const covered = new Map<string, TreeChange>();
  const coveredBy = (rel: Buffer): TreeChange | undefined => {
    if (covered.size === 0) return undefined;
    const s = rel.toString('latin1');
    for (let i = s.indexOf('/'); i !== -1; i = s.indexOf('/', i + 1)) {
      const c = covered.get(s.slice(0, i));
      if (c) return c;
    }
    return undefined;
  };
  const add = (c: TreeChange, subtree: boolean): void => {
    changes.push(c);
    if (subtree) covered.set(c.raw.toString('latin1'), c);
  };

  let i = 0;
  let j = 0;
  while (i < expected.length || j < found.length) {
    const e = expected[i];
    const f = found[j];
    const order = e && f ? Buffer.compare(e.rel, f.rel) : e ? -1 : 1;
    if (order < 0) {
      i++;
      const parent = coveredBy(e!.rel);
      if (parent) {
        parent.inside = (parent.inside ?? 0) + 1;
        continue;
      }
      add({ change: 'missing', path: e!.rel.toString(), raw: e!.rel, was: e!.kind, detail: `${NAMES[e!.kind]} was removed` }, e!.kind === 'd');
    } else if (order > 0) {
      j++;
      const parent = coveredBy(f!.rel);
      if (parent) {
        parent.inside = (parent.inside ?? 0) + 1;
        continue;
      }
      add({ change: 'added', path: f!.rel.toString(), raw: f!.rel, now: f!.kind, detail: `${NAMES[f!.kind]} was added` }, f!.kind === 'd');
    } else {
      i++;
      j++;
      const parent = coveredBy(e!.rel);
      if (parent) {
        parent.inside = (parent.inside ?? 0) + 1;
        continue;
      }
      const c = compare(e!, f!);
      // A folder that became something else (or the reverse) takes its contents with it.
      if (c) add(c, e!.kind === 'd' || f!.kind === 'd');
    }
  }
  for (const c of changes) {
    if (c.inside) c.detail += ` (with ${c.inside} entr${c.inside === 1 ? 'y' : 'ies'} inside)`;
  }
  return changes;
}

function compare(e: TreeRecord, f: TreeRecord): TreeChange | undefined {
  const base = { path: e.rel.toString(), raw: e.rel, was: e.kind, now: f.kind };
  if (e.kind !== f.kind) {
    if (f.kind === 'l') return { ...base, change: 'symlinked', detail: `${NAMES[e.kind]} was replaced by a symlink to ${f.payload!.toString()}` };
    if ((e.kind === 'f' && f.kind === 'x') || (e.kind === 'x' && f.kind === 'f')) {
      const same = e.payload!.equals(f.payload!);
      return { ...base, change: 'modified', detail: `its executable bit was ${f.kind === 'x' ? 'set' : 'cleared'}${same ? '' : ' and its content changed'}` };
    }
    return { ...base, change: 'modified', detail: `${NAMES[e.kind]} was replaced by ${NAMES[f.kind]}` };
  }
  if (e.kind === 'd' || e.payload!.equals(f.payload!)) return undefined;
  if (e.kind === 'l') return { ...base, change: 'modified', detail: `the symlink now points to ${f.payload!.toString()} instead of ${e.payload!.toString()}` };
  return { ...base, change: 'modified', detail: `its content changed (sha256 ${f.payload!.toString('hex')}, recorded ${e.payload!.toString('hex')})` };
}
