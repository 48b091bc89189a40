// The host programs the sandbox needs to set itself up, found once per process.
//
// They are looked up in the usual system folders first and only then in the
// caller's PATH, so a project-local `mount` or `env` shim cannot take part in
// building the sandbox. None of them ever runs as a build step: they prepare the
// namespaces and the private root, then the last one execs the step inside it.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

/** What each host tool is for; `hostname` is optional (without it the host's name shows through). */
export const TOOL_ROLES = {
  unshare: 'util-linux: creates the namespaces, then chroots and execs the step',
  mount: 'util-linux: mounts the private root, /proc, /tmp and the bind mounts (mount -a --fstab)',
  sh: 'runs the setup script inside the new namespaces',
  env: 'coreutils: hands the step exactly its environment',
  hostname: 'sets the fixed hostname inside (optional)',
} as const;

export type ToolName = keyof typeof TOOL_ROLES;

export interface HostTools {
  /** Absolute paths of the tools that were found. */
  paths: Partial<Record<ToolName, string>>;
  /** Options of this util-linux `unshare` that the full sandbox relies on. */
  unshare: { mapUser: boolean; root: boolean; wd: boolean; killChild: boolean };
}

const SYSTEM_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'];

let cached: Promise<HostTools> | undefined;

/** The host tools, looked up once per process. */
export function findTools(): Promise<HostTools> {
  cached ??= lookup();
  return cached;
}

async function lookup(): Promise<HostTools> {
  const dirs = [...SYSTEM_DIRS, ...(process.env.PATH ?? '').split(':').filter((d) => isAbsolute(d) && !SYSTEM_DIRS.includes(d))];
  const paths: HostTools['paths'] = {};
  await Promise.all(
    (Object.keys(TOOL_ROLES) as ToolName[]).map(async (name) => {
      const found = await firstExecutable(dirs.map((d) => join(d, name)));
      // The setup passes tool paths where `env` reads NAME=VALUE pairs: a path with
      // `=` in it would be taken for one.
      if (found !== undefined && !found.includes('=')) paths[name] = found;
    }),
  );
  const help = paths.unshare ? await helpText(paths.unshare) : '';
  return {
    paths,
    unshare: {
      mapUser: help.includes('--map-user') && help.includes('--map-group'),
      root: help.includes('--root'),
      wd: help.includes('--wd'),
      killChild: help.includes('--kill-child'),
    },
  };
}

async function firstExecutable(candidates: string[]): Promise<string | undefined> {
  for (const c of candidates) {
    if (
      await access(c, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return c;
  }
  return undefined;
}

function helpText(unshare: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(unshare, ['--help'], { env: { LC_ALL: 'C', PATH: '/usr/bin:/bin' }, timeout: 5000 }, (err, stdout) => resolve(err ? '' : String(stdout)));
  });
}
