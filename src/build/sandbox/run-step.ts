// One build step at a given sandbox level. Every level gets the same treatment
// from supervise.ts (log, deadline, abort, kill the tree) and the same input
// checks; they differ in what the step can see:
//   full     private root (setup-script.ts), no network, own PID/IPC/UTS, uid 1000
//   partial  own user, network, PID, IPC and UTS namespaces; the host's files
//   none     a plain spawn with exactly the given environment
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { IntactError } from '../../errors.js';
import type { SandboxLevel, StepProcess, StepResult } from '../types.js';
import { planMounts, toReal } from './layout.js';
import { fstabFor, fullCommand, RO_CHECK_FILE, type FullPlan, type PlannedMount } from './setup-script.js';
import { forgetSkeleton, skeleton, tempPrefix } from './skeleton.js';
import { checkArgvAndEnv, checkCwd, locateTool } from './step-input.js';
import { supervise } from './supervise.js';
import { buildUser, chownTree, writeIdMaps } from './build-user.js';
import { findTools, type HostTools } from './tools.js';

export async function runStep(p: StepProcess, level: SandboxLevel): Promise<StepResult> {
  checkArgvAndEnv(p);
  if (level === 'full') return runFull(p, await findTools());
  if (level === 'partial') return runPartial(p, await findTools());
  return runDirect(p);
}

export function baseOptions(p: Pick<StepProcess, 'argv' | 'log' | 'signal' | 'timeoutMs' | 'limits'>) {
  return {
    log: p.log,
    ...(p.limits ? { limits: p.limits } : {}),
    what: posix.basename(p.argv[0]!),
    ...(p.signal ? { signal: p.signal } : {}),
    ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
  };
}

async function runDirect(p: StepProcess): Promise<StepResult> {
  await checkCwd(p.cwd, p.cwd, 'on this machine');
  await locateTool(p.argv[0]!, p.cwd, p.env.PATH, (x) => x, 'on this machine');
  const r = await supervise({ file: p.argv[0]!, args: p.argv.slice(1), env: p.env, cwd: p.cwd, ...baseOptions(p) });
  return { exitCode: r.exitCode, signal: r.signal };
}

/** The mapping for the step in a sandbox that shares the host's files: as itself, without capabilities, where util-linux allows it. */
function partialUserArgs(tools: HostTools): string[] {
  if (!tools.unshare.mapUser) return ['--map-root-user'];
  return [`--map-user=${process.getuid?.() ?? 0}`, `--map-group=${process.getgid?.() ?? 0}`];
}

export function partialArgs(tools: HostTools, argv: readonly string[]): string[] {
  return [
    '--user',
    ...partialUserArgs(tools),
    '--net',
    '--pid',
    '--ipc',
    '--uts',
    '--fork',
    ...(tools.unshare.killChild ? ['--kill-child'] : []),
    '--',
    ...argv,
  ];
}

async function runPartial(p: StepProcess, tools: HostTools): Promise<StepResult> {
  const unshare = tools.paths.unshare;
  if (unshare === undefined) throw unavailable('partial', 'util-linux `unshare` was not found');
  await checkCwd(p.cwd, p.cwd, 'on this machine');
  await locateTool(p.argv[0]!, p.cwd, p.env.PATH, (x) => x, 'on this machine');
  const r = await supervise({ file: unshare, args: partialArgs(tools, p.argv), env: p.env, cwd: p.cwd, ...baseOptions(p) });
  return { exitCode: r.exitCode, signal: r.signal };
}

export function fullTools(tools: HostTools): FullPlan['tools'] {
  const t = tools.paths;
  const missing = (['unshare', 'mount', 'sh', 'env'] as const).filter((n) => t[n] === undefined);
  if (missing.length > 0) throw unavailable('full', `missing host tools: ${missing.join(', ')}`);
  const flags = { mapUser: '--map-user', root: '--root', wd: '--wd', killChild: '--kill-child' } as const;
  const lacks = (Object.keys(flags) as (keyof typeof flags)[]).filter((f) => !tools.unshare[f]);
  if (lacks.length > 0) throw unavailable('full', `this util-linux unshare lacks ${lacks.map((f) => flags[f]).join(', ')} (util-linux 2.38 or newer has them)`);
  return { unshare: t.unshare!, mount: t.mount!, sh: t.sh!, env: t.env!, ...(t.hostname ? { hostname: t.hostname } : {}) };
}

async function runFull(p: StepProcess, tools: HostTools): Promise<StepResult> {
  const t = fullTools(tools);
  const mounts = await planMounts(p.mounts);
  const host = (x: string) => toReal(mounts, x);
  if (!posix.isAbsolute(p.cwd))
    throw new IntactError('STEP_CWD_MISSING', `the working folder ${p.cwd} of a build step is not absolute`, {
      found: p.cwd,
      hint: 'steps run in a folder of the sandbox such as /build/src',
    });
  // `/` and `/tmp` are the sandbox's own; anything else must be a mounted folder.
  if (p.cwd !== '/' && p.cwd !== '/tmp') await checkCwd(p.cwd, host(p.cwd), 'inside the sandbox');
  await locateTool(p.argv[0]!, p.cwd, p.env.PATH, host, 'inside the sandbox');

  return execFull(mounts, p.argv, p.env, p.cwd, p.hostname === undefined ? t : { ...t, name: p.hostname }, baseOptions(p));
}

/** Build the private root and exec argv in it; used by runStep and by the probe. */
export async function execFull(
  mounts: PlannedMount[],
  argv: string[],
  env: Record<string, string>,
  cwd: string,
  t: FullPlan['tools'],
  base: ReturnType<typeof baseOptions>,
): Promise<StepResult> {
  const dir = await mkdtemp(tempPrefix('step'));
  const user = buildUser();
  const writable = mounts.filter((m) => m.writable);
  try {
    const plan = {
      root: join(dir, 'root'),
      fstab: join(dir, 'fstab'),
      skeleton: await skeleton(),
      mounts,
      argv,
      env,
      cwd,
      tools: t,
      ...(base.limits ? { tmpBytes: base.limits.limits.diskBytes, processes: base.limits.limits.processes } : {}),
      ...(user ? { buildUser: user } : {}),
    };
    await Promise.all([mkdir(plan.root), writeFile(plan.fstab, fstabFor(plan))]);
    // The build user writes the build folder only while its step runs.
    if (user) for (const m of writable) await chownTree(m.real, user.uid, user.gid);
    const cmd = fullCommand(plan);
    const r = await supervise({ file: cmd.file, args: cmd.args, env: cmd.env, cwd: '/', readyPipe: true, ...(user ? { gate: writeIdMaps } : {}), ...base });
    if (!r.ready) {
      forgetSkeleton();
      // The read-only check may have left its file where a remount failed.
      await Promise.all(mounts.filter((m) => !m.writable).map((m) => rm(join(m.real, RO_CHECK_FILE), { force: true }).catch(() => undefined)));
      const said = r.stderrTail
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.includes('dmesg(1)'))
        .slice(-3)
        .join(' / ');
      throw new IntactError('SANDBOX_SETUP_FAILED', `the build sandbox could not be set up (${r.signal ?? `exit ${r.exitCode}`}): ${said || 'no message'}`, {
        hint: 'run `intact doctor` to see what this machine allows; --sandbox=auto falls back to a weaker sandbox',
      });
    }
    return { exitCode: r.exitCode, signal: r.signal };
  } finally {
    // Back to intact's own user, so the output checks and the store see only its files.
    if (user) for (const m of writable) await chownTree(m.real, process.getuid!(), process.getgid!()).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

export function unavailable(level: SandboxLevel, why: string): IntactError {
  return new IntactError('SANDBOX_UNAVAILABLE', `the ${level} sandbox is not available here: ${why}`, {
    hint: 'run `intact doctor` for what is missing and how to enable it, or use --sandbox=auto',
  });
}
