// Running a program as the unprivileged user of the end-to-end tests: uid 65534
// through setpriv when the suite runs as root (as CI does here), else as
// ourselves. The user's environment (proxies, CA bundles, the npm registry it
// configured, which intact resolves npm sources against) is kept, minus what
// `npm run` exported to the test process (it names the invoking user's files),
// with a home and a temp folder of the test's own.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const asRoot = process.getuid?.() === 0;
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups', '--'];

export interface AsUserOptions {
  cwd: string;
  home: string;
  tmp: string;
  env?: Record<string, string>;
}

/** Runs `cmd` as the test's user; a failure's message carries the program's stdout and stderr. */
export async function runAsUser(cmd: string, args: readonly string[], o: AsUserOptions): Promise<{ stdout: string; stderr: string }> {
  const user = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || /^npm_config_(@[^:]+:)?registry$/i.test(k)));
  const env = { ...user, HOME: o.home, TMPDIR: o.tmp, NO_COLOR: '1', ...o.env };
  const [c, a] = asRoot ? ['setpriv', [...NOBODY, cmd, ...args]] : [cmd, [...args]];
  try {
    return await exec(c, a, { cwd: o.cwd, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const x = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`${x.message}\n${x.stdout ?? ''}\n${x.stderr ?? ''}`);
  }
}
