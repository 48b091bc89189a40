// The command line that builds a full sandbox and runs one step in it. Pure: the
// same plan gives the same argv and fstab, so both are unit-tested without
// namespaces.
//
// Why util-linux `unshare` and `mount` driven by a short shell script, and not
// bubblewrap or a helper of our own: bubblewrap is not installed here and is often
// absent (or setuid, or forbidden) on users' machines, while util-linux and
// coreutils are everywhere; a static helper built by the pinned toolchain can
// replace this script later without changing runStep's contract. The script only
// prepares the root and never runs the build itself. Every path reaches it as a
// positional parameter (`sh -c SCRIPT sh ARGS...`) or inside an fstab file with
// the fstab escapes, never as shell text; the host tools it uses come by absolute
// path in its own environment, which the step never sees.
//
// All the mounts are one `mount -a --fstab FILE`, in order: one process instead
// of one per mount, which halves a step's overhead.
//
// The chain, all in place (exec), so the step ends up as PID 1 of its PID
// namespace and its death takes every leftover process with it:
//
//   unshare --user --map-root-user --mount --net --pid --ipc --uts --fork ...
//     sh -c SETUP   (mapped root: hostname, mount -a, ro checks, remount / ro)
//       env -i K=V...   (exactly the step's environment)
//         unshare --user --map-user=1000 --map-group=1000 --root=R --wd=CWD
//           argv...   (uid 1000, no capabilities, chrooted)
//
// The second, nested user namespace drops the step to an unprivileged uid with no
// capabilities: a chrooted root could otherwise chroot again and climb out, and
// some configure scripts refuse to run as root. The kernel refuses to create user
// namespaces from a chrooted process, so the step cannot regain them.
import { join } from 'node:path';
import { INSIDE_USER, type Skeleton } from './skeleton.js';
import type { HostTools } from './tools.js';

/** A mount, validated and resolved (see layout.ts). */
export interface PlannedMount {
  /** Real path, symlinks resolved. */
  real: string;
  inside: string;
  writable: boolean;
  /** nosuid/nodev/noexec of the mount holding `real`: a read-only remount in a user namespace must keep them. */
  locked: string[];
}

export interface FullPlan {
  /** The private root's mount point: an empty host folder; the tmpfs on it exists only in the step's mount namespace. */
  root: string;
  /** Where the fstab written from fstabFor(plan) is. */
  fstab: string;
  skeleton: Skeleton;
  mounts: PlannedMount[];
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** `hostname`: the host's tool that sets it; `name`: the name to set (default INSIDE_USER.hostname). */
  tools: Required<Pick<HostTools['paths'], 'unshare' | 'mount' | 'sh' | 'env'>> & { hostname?: string; name?: string };
  /**
   * The size of the sandbox's /tmp and /dev/shm each (the build's disk limit):
   * without it a tmpfs may grow to half the host's memory.
   */
  tmpBytes?: number;
  /** RLIMIT_NPROC of the step (the build's process limit), set before the step's uid is. */
  processes?: number;
  /**
   * When intact is root: the host uid/gid the step's uid 1000 maps to. The outer
   * namespace then maps two ids, which intact writes (writeIdMaps) while the
   * setup waits (GATE_SCRIPT); the step drops to uid 1000 with `--setuid`.
   */
  buildUser?: { uid: number; gid: number };
}

/**
 * The setup, run as the mapped root of the new namespaces. Exit 125 with an
 * `intact-sandbox:` line on stderr when a stage fails; `ready` on fd 3 just
 * before the final exec, so the caller can tell a setup failure from a step's.
 */
export const SETUP_SCRIPT = `set -eu
die() { printf 'intact-sandbox: %s\\n' "$*" >&2; exit 125; }
R=$1 FSTAB=$2; shift 2
# Mount points are made world-searchable whatever the step's umask (verify
# --rebuild varies it): the step is not their owner when it is the build user.
STEP_UMASK=$(umask); umask 022
[ -z "$INTACT_SB_HOSTNAME" ] || "$INTACT_SB_HOSTNAME" "$INTACT_SB_NAME" || die "cannot set the hostname"
"$INTACT_SB_MOUNT" -a -T "$FSTAB" || die "cannot mount the private root (see mount's message above)"
while [ "$1" != -- ]; do
  # Defence in depth: a bind whose read-only remount failed would still be writable.
  # (A redirection on a group, unlike one on \`:\`, may fail without ending the shell.)
  if { :; } 2>/dev/null >"$R$1/.intact-ro-check"; then die "$1 is writable although mounted read-only"; fi
  shift
done
shift
"$INTACT_SB_MOUNT" -o remount,bind,ro,nosuid,nodev "$R" || die "cannot make the private root read-only"
# bash and busybox call RLIMIT_NPROC -u, dash -p.
[ -z "\${INTACT_SB_NPROC:-}" ] || ulimit -u "$INTACT_SB_NPROC" 2>/dev/null || ulimit -p "$INTACT_SB_NPROC" || die "cannot limit the step's processes"
umask "$STEP_UMASK"
printf 'ready\\n' >&3
exec 3>&-
exec "$@"
`;

/**
 * Before the setup when intact maps a build user: say `map` on fd 3, wait for
 * `go` on stdin (intact has written the id maps), then exec the setup. The exec
 * matters: capabilities are granted at exec to a process that is root in its
 * namespace, and this shell started before its uid was mapped.
 */
export const GATE_SCRIPT = `printf 'map\\n' >&3
IFS= read -r go || exit 125
[ "$go" = go ] || exit 125
exec "$@" </dev/null
`;

/** The file the ro check would leave in a mount whose read-only remount silently failed. */
export const RO_CHECK_FILE = '.intact-ro-check';

/** Options of the outer `unshare`: every namespace, the caller mapped to root for the setup. */
export const OUTER_NAMESPACES = [
  '--user',
  '--map-root-user',
  '--mount',
  '--net',
  '--pid',
  '--ipc',
  '--uts',
  '--fork',
  '--kill-child',
  '--propagation',
  'private',
];

/** fstab's escapes (octal, as libmount reads them) for whitespace, `\`, `#` and control bytes. */
export function fstabEscape(path: string): string {
  return path.replace(/[\s\\#\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

function line(source: string, target: string, type: string, options: string[]): string {
  return `${fstabEscape(source)} ${fstabEscape(target)} ${type} ${options.join(',')} 0 0`;
}

/** A read-only bind that keeps the host mount's locked flags, or the remount half of it fails. */
function roBind(locked: readonly string[]): string[] {
  return ['bind', 'ro', 'nosuid', 'nodev', ...locked.filter((f) => f === 'noexec'), 'X-mount.mkdir'];
}

export function fstabFor(plan: Pick<FullPlan, 'root' | 'skeleton' | 'mounts' | 'tmpBytes'>): string {
  const R = plan.root;
  const size = plan.tmpBytes !== undefined ? [`size=${Math.max(4096, Math.floor(plan.tmpBytes))}`] : [];
  const sk = plan.skeleton;
  const lines = [
    line('intact-root', R, 'tmpfs', ['mode=0755', 'nosuid', 'nodev']),
    line(join(sk.dir, 'dev'), `${R}/dev`, 'none', roBind(sk.locked)),
    ...sk.devNodes.map((n) => line(`/dev/${n}`, `${R}/dev/${n}`, 'none', ['bind'])),
    line('intact-shm', `${R}/dev/shm`, 'tmpfs', ['mode=1777', 'nosuid', 'nodev', ...size]),
    line('proc', `${R}/proc`, 'proc', ['nosuid', 'nodev', 'noexec', 'X-mount.mkdir']),
    line('intact-tmp', `${R}/tmp`, 'tmpfs', ['mode=1777', 'nosuid', 'nodev', 'X-mount.mkdir', ...size]),
    line(join(sk.dir, 'etc'), `${R}/etc`, 'none', roBind(sk.locked)),
    ...plan.mounts.map((m) => line(m.real, `${R}${m.inside}`, 'none', m.writable ? ['bind', 'X-mount.mkdir'] : roBind(m.locked))),
  ];
  return `${lines.join('\n')}\n`;
}

export interface SpawnSpec {
  file: string;
  args: string[];
  env: Record<string, string>;
}

export function fullCommand(plan: FullPlan): SpawnSpec {
  const t = plan.tools;
  const readOnly = ['/dev', '/etc', ...plan.mounts.filter((m) => !m.writable).map((m) => m.inside)];
  const stepEnv = Object.entries(plan.env).map(([k, v]) => `${k}=${v}`);
  // Without a build user the step gets its own user namespace, mapped to the
  // caller; with one, the outer namespace already maps uid 1000 to it.
  const drop = plan.buildUser
    ? [`--setgid=${INSIDE_USER.gid}`, `--setuid=${INSIDE_USER.uid}`]
    : ['--user', `--map-user=${INSIDE_USER.uid}`, `--map-group=${INSIDE_USER.gid}`];
  const exec = [t.env, '-i', '--', ...stepEnv, t.unshare, ...drop, `--root=${plan.root}`, `--wd=${plan.cwd}`, '--', ...plan.argv];
  const setup = [t.sh, '-c', SETUP_SCRIPT, 'intact-sandbox', plan.root, plan.fstab, ...readOnly, '--', ...exec];
  const outer = plan.buildUser ? OUTER_NAMESPACES.filter((a) => a !== '--map-root-user') : OUTER_NAMESPACES;
  return {
    file: t.unshare,
    args: [...outer, '--', ...(plan.buildUser ? [t.sh, '-c', GATE_SCRIPT, 'intact-gate'] : []), ...setup],
    env: {
      // One more than the limit: the outer unshare counts against it for an
      // ordinary user; reaching the limit itself is what supervise.ts stops.
      ...(plan.processes !== undefined ? { INTACT_SB_NPROC: String(plan.processes + 1) } : {}),
      PATH: '/usr/bin:/bin:/usr/sbin:/sbin',
      LC_ALL: 'C',
      INTACT_SB_MOUNT: t.mount,
      INTACT_SB_HOSTNAME: t.hostname ?? '',
      INTACT_SB_NAME: t.name ?? INSIDE_USER.hostname,
    },
  };
}
