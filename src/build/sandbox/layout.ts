// The private root's layout: which host folders appear where. Checked before any
// namespace is made, so a bad mount is reported with its path rather than as a
// failed setup: inside paths are absolute and normal, never nested in one another
// (a bind inside a bind would create its mount point in the real folder), and
// never over the folders the sandbox provides itself.
import { realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { IntactError } from '../../errors.js';
import type { Mount } from '../types.js';
import { lockedFlags } from './mountinfo.js';
import type { PlannedMount } from './setup-script.js';

/** Folders the sandbox itself provides; no mount may go at or under them. */
export const RESERVED = ['/dev', '/proc', '/tmp', '/etc'] as const;

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

function invalid(m: Mount, why: string): IntactError {
  return new IntactError('SANDBOX_MOUNT_INVALID', `cannot mount ${m.real} at ${m.inside} in the sandbox: ${why}`, {
    file: m.real,
    hint: 'mount each dependency at its own folder, e.g. /store/<entry>, and the build folder at /build',
  });
}

export async function planMounts(mounts: readonly Mount[]): Promise<PlannedMount[]> {
  for (const m of mounts) {
    if (m.inside.includes('\0') || m.real.includes('\0')) throw invalid(m, 'a path holds a NUL byte');
    if (m.inside === '/') throw invalid(m, "the root is the sandbox's own");
    if (!posix.isAbsolute(m.inside) || posix.normalize(m.inside) !== m.inside || m.inside.endsWith('/'))
      throw invalid(m, 'the inside path must be absolute and normal');
    const r = RESERVED.find((d) => under(m.inside, d));
    if (r) throw invalid(m, `${r} is provided by the sandbox`);
    if (!posix.isAbsolute(m.real)) throw invalid(m, 'the real path must be absolute');
    const other = mounts.find((o) => o !== m && under(m.inside, o.inside));
    if (other) throw invalid(m, other.inside === m.inside ? `${m.inside} is mounted twice` : `it is inside the mount at ${other.inside}`);
  }
  const reals = await Promise.all(
    mounts.map(async (m) => {
      const real = await realpath(m.real).catch((e: unknown) => {
        throw new IntactError('SANDBOX_MOUNT_MISSING', `${m.real} (to appear at ${m.inside} in the sandbox) does not exist`, {
          file: m.real,
          cause: e,
          hint: 'a dependency is missing from the store: rebuild it',
        });
      });
      if (!(await stat(real)).isDirectory()) throw invalid(m, 'only folders can be mounted');
      return real;
    }),
  );
  const locked = await lockedFlags(reals);
  return mounts
    .map((m, i) => ({ real: reals[i]!, inside: m.inside, writable: m.writable, locked: locked[i]! }))
    .sort((a, b) => (a.inside < b.inside ? -1 : a.inside > b.inside ? 1 : 0));
}

/** The host path behind an inside path, or undefined when nothing of the host is there. */
export function toReal(mounts: readonly { real: string; inside: string }[], inside: string): string | undefined {
  const p = posix.normalize(inside);
  for (const m of mounts) {
    if (under(p, m.inside)) return posix.join(m.real, p.slice(m.inside.length));
  }
  return undefined;
}
