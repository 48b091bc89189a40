// The switches distributions use to restrict unprivileged user namespaces, read
// so that `intact doctor` can say which one is in the way. Reading them decides
// nothing: the probe decides by trying; these only explain a failure.
import { access, readFile } from 'node:fs/promises';

async function read(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  );
}

/** One line per switch that forbids or restricts unprivileged user namespaces here. */
export async function usernsRestrictions(): Promise<string[]> {
  const [clone, max, apparmor, dockerenv, containerenv] = await Promise.all([
    read('/proc/sys/kernel/unprivileged_userns_clone'),
    read('/proc/sys/user/max_user_namespaces'),
    read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
    access('/.dockerenv').then(
      () => true,
      () => false,
    ),
    access('/run/.containerenv').then(
      () => true,
      () => false,
    ),
  ]);
  const out: string[] = [];
  if (clone === '0')
    out.push('kernel.unprivileged_userns_clone = 0: this kernel switches unprivileged user namespaces off (Debian before 11, some hardened kernels)');
  if (max === '0') out.push('user.max_user_namespaces = 0: user namespaces are disabled (RHEL/CentOS 7 and some hardened systems)');
  if (apparmor === '1')
    out.push(
      'kernel.apparmor_restrict_unprivileged_userns = 1: AppArmor lets unprivileged user namespaces exist but without capabilities (Ubuntu 23.10 and later)',
    );
  if (dockerenv || containerenv)
    out.push('running inside a container: its seccomp profile may forbid unshare, and a masked /proc forbids mounting a fresh one');
  return out;
}
