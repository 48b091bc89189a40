// Defect class: a build's processes had no limit. A fork bomb in a recipe ran
// until stopped from outside. Now RLIMIT_NPROC holds it in the full sandbox (as
// root through the build user, whom the kernel does not exempt), and reaching
// the limit ends the build with BUILD_PROCESS_LIMIT.
//
// A real fork bomb (busybox sh) runs, so each run is bounded from outside too:
// the CLI runs in a PID namespace of its own, killed with everything in it at a
// deadline; under prlimit --nproc (which binds every uid but root); and, as root,
// in a pids cgroup of its own where one can be made. A failing test cannot take
// the machine down.
import { spawn } from 'node:child_process';
import { chown, mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureProject } from '../helpers/fixture-project.js';
import { CLI } from '../helpers/project.js';
import { fullSandboxSkip, skippedBecause } from '../helpers/sandbox-skip.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
/** The outer bound on processes: far below what hurts a machine, far above the recipe's limit. */
const OUTER_NPROC = 400;
const DEADLINE_MS = 60_000;

// Each process forks two and waits, forever: the population grows until forks
// fail, then stays at the limit (a process that cannot fork exits, and its parent
// forks again). The step itself forks once, early, then only reaps, so it is not
// the one whose fork fails: the bomb keeps running until intact stops it.
const BOMB = `name: bomb
version: 1.0.0
deps: [bb@1.36.0]
limits:
  processes: 48
  time: 120s
build:
  - script: |
      f() { while :; do f & f & wait; done; }
      f &
      while :; do wait; done
    shell: sh
`;

const cgroups: string[] = [];
afterAll(async () => {
  for (const g of cgroups) await rmdir(g).catch(() => undefined);
});

/** As root, a pids cgroup (v2, else v1) with its own pids.max, when this machine lets us make one. */
async function pidsCgroup(): Promise<string | undefined> {
  if (!isRoot) return undefined;
  for (const base of ['/sys/fs/cgroup/pids', '/sys/fs/cgroup']) {
    const dir = join(base, `intact-test-bomb-${process.pid}-${cgroups.length}`);
    try {
      await mkdir(dir);
      cgroups.push(dir);
      await writeFile(join(dir, 'pids.max'), String(OUTER_NPROC));
      return dir;
    } catch {
      // Not this hierarchy: read-only, or no pids controller there.
    }
  }
  return undefined;
}

/** `intact ARGS` inside the outer bounds, as `uid` (root: as is). */
async function boundedCli(args: string[], cwd: string, uid: number | undefined): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  const cg = await pidsCgroup();
  const wrapper = [
    // A user namespace only for nobody, who needs one to make a PID namespace; a
    // /proc of that namespace, so the pids intact reads there are its own.
    'unshare',
    ...(uid === undefined ? [] : ['--user', '--map-current-user']),
    '--pid',
    '--fork',
    '--mount-proc',
    '--kill-child',
    '--',
    'prlimit',
    `--nproc=${OUTER_NPROC}:${OUTER_NPROC}`,
    '--',
  ];
  const setpriv = uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];
  const enter = cg === undefined ? [] : ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg];
  const argv = [...enter, ...setpriv, ...wrapper, process.execPath, CLI, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd,
    env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', HOME: cwd, TMPDIR: join(cwd, 'tmp'), NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  let timedOut = false;
  // Killing the PID namespace's parent kills its init (--kill-child), and with it every process inside.
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, DEADLINE_MS);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr, timedOut };
}

async function chownTree(dir: string, uid: number): Promise<void> {
  await chown(dir, uid, uid);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await chownTree(join(dir, e.name), uid);
    else await chown(join(dir, e.name), uid, uid).catch(() => undefined);
  }
}

async function bombProject(uid?: number): Promise<string> {
  const dir = await fixtureProject({ bomb: BOMB });
  await mkdir(join(dir, 'tmp'));
  if (uid !== undefined) await chownTree(dir, uid);
  return dir;
}

function expectStopped(r: { code: number | null; stderr: string; timedOut: boolean }): void {
  expect(r.timedOut, r.stderr).toBe(false);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain('[BUILD_PROCESS_LIMIT]');
  expect(r.stderr).toContain('limit of 48 processes');
  expect(r.stderr).toMatch(/--limits processes=/);
}

const skip = fullSandboxSkip();

describe.skipIf(skip !== undefined)(`a fork bomb in a build${skippedBecause(skip)}`, () => {
  // The test's own outer bound (a PID namespace it can kill) needs root; as an
  // ordinary user the case below, run as uid 65534 from root, covers it.
  it.runIf(isRoot)(
    `is stopped at the recipe's process limit, as root (through the build user)${isRoot ? '' : ' (skipped: not root, so the outer bound cannot be set up)'}`,
    async () => {
      const dir = await bombProject();
      const r = await boundedCli(['install', 'bomb', '--sandbox=require'], dir, undefined);
      expectStopped(r);
      // Nothing of the build is left behind: no entry, no build folder.
      expect((await readdir(join(dir, 'store'))).filter((n) => n.endsWith('-bomb-1.0.0'))).toEqual([]);
      expect((await readdir(join(dir, 'store/tmp'))).filter((n) => n.startsWith('build-'))).toEqual([]);
    },
    DEADLINE_MS + 30_000,
  );

  it.runIf(isRoot)(
    `is stopped as uid ${NOBODY} too${isRoot ? '' : ' (skipped: not root, so it cannot become uid 65534; the test above ran unprivileged)'}`,
    async () => {
      const dir = await bombProject(NOBODY);
      const r = await boundedCli(['install', 'bomb', '--sandbox=require'], dir, NOBODY);
      expectStopped(r);
    },
    DEADLINE_MS + 30_000,
  );
});
