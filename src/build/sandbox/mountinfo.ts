// Which mount a host path lives on, read from /proc/self/mountinfo. Needed because
// in a user namespace the flags nosuid, nodev and noexec of a mount made by the
// real root are locked: a read-only remount of a bind that leaves one out fails
// (and util-linux then leaves the bind writable). So the setup asks for them.
import { readFile } from 'node:fs/promises';

export interface MountEntry {
  mountPoint: string;
  options: string[];
}

/** Octal escapes (`\040` for a space) as the kernel writes them in mountinfo. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 6) continue;
    out.push({ mountPoint: unescapeOctal(f[4]!), options: f[5]!.split(',') });
  }
  return out;
}

/** The mount holding `path` (already resolved): the longest mount point above it, the last one mounted if stacked. */
export function mountOf(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const e of entries) {
    const mp = e.mountPoint;
    const above = mp === '/' || path === mp || path.startsWith(`${mp}/`);
    if (above && (best === undefined || mp.length >= best.mountPoint.length)) best = e;
  }
  return best;
}

const LOCKABLE = new Set(['nosuid', 'nodev', 'noexec']);

/** nosuid/nodev/noexec of the mount holding each path. */
export async function lockedFlags(paths: readonly string[]): Promise<string[][]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const entries = parseMountInfo(text);
  return paths.map((p) => (mountOf(entries, p)?.options ?? []).filter((o) => LOCKABLE.has(o)));
}
