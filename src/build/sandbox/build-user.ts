// Who a step runs as on the host when intact runs as root. The kernel does not
// apply RLIMIT_NPROC to a process whose real uid is the host's root, even inside
// a user namespace whose uid 1000 maps to it: a fork bomb would be bounded by
// nothing. So, as Nix does with its build users, a root intact maps the step's
// uid 1000 to an unprivileged host uid, and the limit holds. An ordinary user's
// step is already that user on the host, and bounded.
//
// The uid is fixed (documented in docs/builds.md): below 65536, so it is mapped
// in the usual container ranges, and outside the ranges given to people (1000
// to 59999) and to system accounts (below 1000). It owns nothing outside the
// build folder, and only while a step runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { INSIDE_USER } from './skeleton.js';

export const BUILD_USER = { uid: 64_000, gid: 64_000 } as const;

type Plan = { user?: typeof BUILD_USER; unbounded?: string };
let plan: Plan | undefined;

/** Where `inside` of this process's user namespace maps on the host, per /proc/self/{uid,gid}_map. */
function mapsTo(kind: 'uid' | 'gid', inside: number): number | undefined {
  try {
    for (const line of readFileSync(`/proc/self/${kind}_map`, 'utf8').trim().split('\n')) {
      const [a, b, n] = line.trim().split(/\s+/).map(Number);
      if (inside >= a! && inside < a! + n!) return b! + (inside - a!);
    }
  } catch {
    // No /proc: nothing can be said, and nothing is mapped.
  }
  return undefined;
}

function decide(): Plan {
  if (process.getuid?.() !== 0) return {};
  // Root of a user namespace that is not the host's root (a rootless container) is bound like anyone.
  if (mapsTo('uid', 0) !== 0) return {};
  if (mapsTo('uid', BUILD_USER.uid) !== undefined && mapsTo('gid', BUILD_USER.gid) !== undefined) return { user: BUILD_USER };
  return {
    unbounded: `intact runs as root, and the build user (uid ${BUILD_USER.uid}) is not mapped in its user namespace, so a step would run as the host's root, whom RLIMIT_NPROC does not bind`,
  };
}

/** The host uid and gid a step runs as when intact is root; undefined otherwise (the step is the caller). */
export function buildUser(): typeof BUILD_USER | undefined {
  plan ??= decide();
  return plan.user;
}

/** Why the full sandbox cannot bound a build's processes here, if it cannot. */
export function processesUnbounded(): string | undefined {
  plan ??= decide();
  return plan.unbounded;
}

/**
 * The outer namespace's maps: root to root (the setup mounts as the real root, so
 * it reaches a store under /root), the step's uid to the build user. Only a
 * process with CAP_SETUID above the namespace may write two lines, so intact
 * writes them (the setup waits for it), not unshare.
 */
export function writeIdMaps(pid: number): void {
  writeFileSync(`/proc/${pid}/uid_map`, `0 0 1\n${INSIDE_USER.uid} ${BUILD_USER.uid} 1\n`);
  writeFileSync(`/proc/${pid}/gid_map`, `0 0 1\n${INSIDE_USER.gid} ${BUILD_USER.gid} 1\n`);
}

/**
 * Give a tree to uid:gid (links themselves, never what they point to). A file
 * with its setuid or setgid bit set stays the build user's: chown would clear
 * the bits, and the output checks must see (and refuse) what the build made,
 * while making it the host root's, even for a moment, would be worse.
 */
export async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await lchown(dir, uid, gid);
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isFile() && ((await lstat(p).catch(() => undefined))?.mode ?? 0) & 0o6000) continue;
      await lchown(p, uid, gid).catch(() => undefined);
      if (e.isDirectory()) stack.push(p);
    }
  }
}
