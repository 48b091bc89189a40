// Finding a build step's tool: a path (relative to the step's folder), or a name
// looked up in the step's own PATH, never the host's. One rule for both callers:
// planning a step (build/steps.ts, which knows the recipe's deps and says which
// to add) and starting it (build/sandbox/step-input.ts, which also checks the
// tool's interpreter is there). `toHost` maps a path as the step sees it to the
// host (undefined where the step has nothing).
import { access, constants, lstat, readlink, stat } from 'node:fs/promises';
import { posix } from 'node:path';

/** The paths a step's `tool` may be, as the step sees them, in the order they are tried. */
export function toolCandidates(tool: string, cwd: string, path: string | undefined): string[] {
  if (tool.includes('/')) return [posix.resolve(cwd, tool)];
  return (path ?? '')
    .split(':')
    .filter((d) => d !== '')
    .map((d) => posix.resolve(cwd, d, tool));
}

/** The first candidate that is an executable file: where the step sees it, and where it is on the host. */
export async function findTool(
  tool: string,
  cwd: string,
  path: string | undefined,
  toHost: (p: string) => string | undefined,
): Promise<{ seen: string; host: string } | undefined> {
  for (const seen of toolCandidates(tool, cwd, path)) {
    const host = await followLinks(seen, toHost);
    if (host !== undefined && (await isExecutableFile(host))) return { seen, host };
  }
  return undefined;
}

/**
 * Where `seen` ends up on the host, its symlinks followed as the step would see
 * them: a link in an entry may name another entry by its path inside the
 * sandbox (/store/<entry>/bin/busybox), which the host's own resolution would
 * look for at the host's root. Undefined when it leads where the step has nothing.
 */
export async function followLinks(seen: string, toHost: (p: string) => string | undefined): Promise<string | undefined> {
  let at = seen;
  // Linux's own bound on links followed in one lookup.
  for (let hops = 0; hops <= 40; hops++) {
    const host = toHost(at);
    if (host === undefined) return undefined;
    const st = await lstat(host).catch(() => undefined);
    if (!st?.isSymbolicLink()) return host;
    at = posix.resolve(posix.dirname(at), await readlink(host));
  }
  return undefined;
}

/** A regular file (links followed) this process may execute. */
export async function isExecutableFile(p: string): Promise<boolean> {
  const st = await stat(p).catch(() => undefined);
  if (!st?.isFile()) return false;
  return access(p, constants.X_OK).then(
    () => true,
    () => false,
  );
}
