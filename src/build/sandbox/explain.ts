// `intact doctor`'s words about the sandbox: what this level protects, what it
// loses, why nothing stronger worked, and how to enable it on the usual systems.
import { INSIDE } from '../../store/entry-layout.js';
import type { SandboxProbe } from './probe.js';
import { INSIDE_USER } from './skeleton.js';
import { lost } from './lost.js';
import { BUILD_USER } from './build-user.js';

const PROTECTS: Record<SandboxProbe['level'], string[]> = {
  full: [
    `build steps see only ${INSIDE.build} and their declared dependencies under ${INSIDE.store} (read-only); no /usr, /lib or /bin of the host`,
    `no network (a separate network namespace whose loopback stays down), own PIDs, IPC and hostname "${INSIDE_USER.hostname}"`,
    `steps run as uid ${INSIDE_USER.uid} without capabilities; outputs cannot record where your store is`,
  ],
  partial: ['build steps have no network and their own PIDs, IPC and hostname', `LOST: ${lost('partial')}`],
  none: ['build steps get only the environment intact sets', `LOST: ${lost('none')}`],
};

const FIXES: { when: RegExp; line: string }[] = [
  {
    when: /kernel\.unprivileged_userns_clone/,
    line: 'Debian before 11 and some kernels: sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)',
  },
  {
    when: /kernel\.apparmor_restrict_unprivileged_userns/,
    line: 'Ubuntu 23.10 and later: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for node allowing `userns,`',
  },
  { when: /user\.max_user_namespaces/, line: 'RHEL/CentOS and hardened systems: sudo sysctl -w user.max_user_namespaces=15000' },
  {
    when: /container/,
    line: 'in a container: docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined (or --privileged), and no masked /proc (--security-opt systempaths=unconfined)',
  },
  {
    when: /util-linux|missing host tools/,
    line: 'install util-linux 2.38 or newer (unshare with --map-user, --root, --wd and --kill-child; mount) and coreutils (env)',
  },
];

/**
 * Whether a build's processes are bounded. RLIMIT_NPROC binds every uid but the
 * host's root, so it holds in the full sandbox only: there the step is the
 * caller's own uid, or the build user when intact is root (build-user.ts).
 */
function processLimit(probe: SandboxProbe): string {
  if (probe.unbounded)
    return `NOT bounded: the number of processes a build runs (a fork bomb runs until its time limit), because ${probe.unbounded}; --sandbox=require refuses to build`;
  return process.getuid?.() === 0
    ? `a build's processes are bounded (RLIMIT_NPROC): as root, steps run as the build user, host uid ${BUILD_USER.uid}, which the kernel does not exempt`
    : "a build's processes are bounded (RLIMIT_NPROC, counted in the step's own user namespace)";
}

export function explainSandbox(probe: SandboxProbe): string[] {
  const lines = [...PROTECTS[probe.level], processLimit(probe)];
  if (probe.level === 'full') {
    for (const r of probe.reasons) lines.push(`note: ${r}`);
    return lines;
  }
  for (const r of probe.reasons) lines.push(`why: ${r}`);
  const text = probe.reasons.join('\n');
  const matched = FIXES.filter((f) => f.when.test(text));
  const fixes = matched.length > 0 ? matched : FIXES;
  lines.push(matched.length > 0 ? 'to enable the full sandbox:' : 'to enable the full sandbox, depending on the system:');
  for (const f of fixes) lines.push(`  ${f.line}`);
  lines.push('then run `intact doctor` again; --sandbox=require makes a missing sandbox an error');
  return lines;
}
