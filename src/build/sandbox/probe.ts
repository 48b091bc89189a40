// What isolation this machine allows, found by trying it: reading sysctls cannot
// tell (AppArmor, seccomp in containers, masked /proc and old util-linux all
// interfere in ways no single switch shows). The full sandbox is set up for real
// around a program that does not exist; reaching the exec (status 127 after the
// setup said `ready`) proves every mount, the chroot and the uid drop worked.
// Cached per process: about 30 ms, paid once.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIntactError } from '../../errors.js';
import { INSIDE } from '../../store/entry-layout.js';
import type { SandboxLevel } from '../types.js';
import { planMounts } from './layout.js';
import { execFull, fullTools, partialArgs } from './run-step.js';
import { INSIDE_USER } from './skeleton.js';
import { supervise } from './supervise.js';
import { findTools, type HostTools } from './tools.js';
import { usernsRestrictions } from './userns-knobs.js';
import { processesUnbounded } from './build-user.js';

export interface SandboxProbe {
  level: SandboxLevel;
  /** What was tried and why each stronger level failed, in words for `intact doctor`. */
  reasons: string[];
  /** Host tools found, by name (unshare, mount, sh, env, hostname). */
  tools: Record<string, string>;
  /** Why a build's number of processes is not bounded at this level, if it is not (build-user.ts). */
  unbounded?: string;
}

const PROBE_TIMEOUT_MS = 10_000;

let cached: Promise<SandboxProbe> | undefined;

export function probeSandbox(): Promise<SandboxProbe> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<SandboxProbe> {
  const tools = await findTools();
  const found: Record<string, string> = { ...tools.paths };
  const reasons: string[] = [];
  const full = await tryFull(tools);
  if (full === undefined) {
    if (tools.paths.hostname === undefined)
      reasons.push(`no \`hostname\` tool: the full sandbox keeps the host's hostname instead of "${INSIDE_USER.hostname}"`);
    const unbounded = processesUnbounded();
    return { level: 'full', reasons, tools: found, ...(unbounded ? { unbounded } : {}) };
  }
  reasons.push(`full sandbox: ${full}`);
  const partial = await tryPartial(tools);
  if (partial !== undefined) reasons.push(`partial sandbox: ${partial}`);
  reasons.push(...(await usernsRestrictions()));
  return { level: partial === undefined ? 'partial' : 'none', reasons, tools: found, unbounded: 'the process limit needs the full sandbox' };
}

async function tryFull(tools: HostTools): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'intact-probe-'));
  try {
    const t = fullTools(tools);
    await Promise.all([mkdir(join(dir, 'dep')), mkdir(join(dir, 'build'))]);
    const mounts = await planMounts([
      { real: join(dir, 'build'), inside: INSIDE.build, writable: true },
      { real: join(dir, 'dep'), inside: `${INSIDE.store}/probe`, writable: false },
    ]);
    const argv = [`${INSIDE.build}/.intact-probe-absent`];
    const r = await execFull(mounts, argv, {}, INSIDE.build, t, { log: () => undefined, what: 'sandbox probe', timeoutMs: PROBE_TIMEOUT_MS });
    // 127: util-linux unshare reached execvp inside the new root and found nothing there, as intended.
    return r.exitCode === 127 ? undefined : `the setup ran but the step could not be started in the private root (${r.signal ?? `exit ${r.exitCode}`})`;
  } catch (e) {
    return isIntactError(e) ? e.message : String(e);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function tryPartial(tools: HostTools): Promise<string | undefined> {
  const { unshare, sh } = tools.paths;
  if (unshare === undefined) return 'util-linux `unshare` was not found';
  if (sh === undefined) return 'no `sh` to test it with';
  let said = '';
  try {
    const r = await supervise({
      file: unshare,
      args: partialArgs(tools, [sh, '-c', 'exit 0']),
      env: { LC_ALL: 'C' },
      cwd: '/',
      log: (b) => (said += b.toString('utf8')),
      what: 'sandbox probe',
      timeoutMs: PROBE_TIMEOUT_MS,
    });
    if (r.exitCode === 0) return undefined;
    return `\`unshare --user --net --pid\` failed: ${said.trim().split('\n').pop() || (r.signal ?? `exit ${r.exitCode}`)}`;
  } catch (e) {
    return isIntactError(e) ? e.message : String(e);
  }
}
