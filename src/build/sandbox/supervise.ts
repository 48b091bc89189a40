// Running one process tree to its end, at every sandbox level: output to the log
// as it comes, a deadline and an AbortSignal that kill the whole tree, and an exit
// status that says which of the three ended it (the step, the clock, the caller).
//
// The child leads its own process group (`detached`), so one kill(-pgid) reaches
// everything it started that did not leave the group; in a PID namespace the
// step is PID 1, and its death takes every other process of the namespace with it.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { IntactError } from '../../errors.js';
import { folderBytes, limitError, type BuildLimits } from '../limits.js';
import { childPidNs, tasksIn } from './ns-tasks.js';

/** The build's limits as one step runs: the build's deadline and folder are shared by its steps. */
export interface StepLimits {
  limits: BuildLimits;
  /** When the build's time is up (Date.now() clock). */
  deadlineAt: number;
  /** The build folder, measured against the disk limit. */
  diskDir?: string;
}

/** How often the build folder and the step's processes are measured against their limits. */
const WATCH_EVERY_MS = 1000;

export interface SuperviseOptions {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  log: (chunk: Buffer) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Open fd 3 as a pipe: the full sandbox's setup writes `ready` on it before it execs the step. */
  readyPipe?: boolean;
  /** What runs, for messages (the step's program). */
  what: string;
  limits?: StepLimits;
  /**
   * Called with the child's pid when it says `map` on fd 3 (needs readyPipe);
   * then `go` is written to its stdin. A throw is reported on the setup's stderr
   * and the child is not let go.
   */
  gate?: (pid: number) => void;
}

export interface Supervised {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The setup reported `ready` on fd 3 (only with readyPipe). */
  ready: boolean;
  /** The end of stderr, for explaining a failed setup. */
  stderrTail: string;
}

const TAIL = 4096;
/** How long output may stay open after the process exited (a straggler that left the group). */
const DRAIN_MS = 2000;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

export async function supervise(o: SuperviseOptions): Promise<Supervised> {
  if (o.signal?.aborted) throw aborted(o.what, o.signal.reason);
  const child = spawn(o.file, o.args, {
    cwd: o.cwd,
    env: o.env,
    detached: true,
    stdio: o.readyPipe ? [o.gate ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
  });
  let stderrTail = '';
  let readyText = '';
  const lim = o.limits;
  let logged = 0;
  // The log limit: what is kept stops at it, and the step with it.
  const log = (b: Buffer): void => {
    if (lim) {
      silent?.refresh();
      const room = lim.limits.logBytes - logged;
      logged += b.length;
      if (b.length > room) {
        if (room <= 0) return stop('log');
        o.log(b.subarray(0, room));
        stop('log');
        return;
      }
    }
    o.log(b);
  };
  child.stdout!.on('data', (b: Buffer) => log(b));
  child.stderr!.on('data', (b: Buffer) => {
    log(b);
    stderrTail = (stderrTail + b.toString('utf8')).slice(-TAIL);
  });
  let gated = false;
  if (o.readyPipe) {
    (child.stdio[3] as Readable).on('data', (b: Buffer) => {
      readyText += b.toString('utf8');
      if (o.gate && !gated && readyText.includes('map') && child.pid !== undefined) {
        gated = true;
        try {
          o.gate(child.pid);
          child.stdin!.end('go\n');
        } catch (e) {
          stderrTail += `intact: ${(e as Error).message}\n`;
          child.stdin!.end();
        }
      }
    });
    child.stdin?.on('error', () => undefined);
  }
  // Listen from the start: 'close' can come in the same tick as 'exit'.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  let ended: 'timeout' | 'abort' | 'time' | 'silent' | 'log' | 'disk' | 'processes' | undefined;
  function stop(why: NonNullable<typeof ended>): void {
    ended ??= why;
    killGroup(child.pid);
  }
  const timer = o.timeoutMs !== undefined && o.timeoutMs > 0 ? setTimeout(() => stop('timeout'), o.timeoutMs) : undefined;
  const deadline = lim ? setTimeout(() => stop('time'), Math.max(0, lim.deadlineAt - Date.now())) : undefined;
  const silent = lim ? setTimeout(() => stop('silent'), lim.limits.silentMs) : undefined;
  let ns: string | undefined;
  const watch = lim
    ? setInterval(() => {
        if (lim.diskDir !== undefined && folderBytes(lim.diskDir) > lim.limits.diskBytes) stop('disk');
        // The sandbox's RLIMIT_NPROC stops the growth at the limit; reaching it ends the step.
        ns ??= child.pid === undefined ? undefined : childPidNs(child.pid);
        if (ns !== undefined && tasksIn(ns) >= lim.limits.processes) stop('processes');
      }, WATCH_EVERY_MS)
    : undefined;
  const clearLimits = (): void => {
    clearTimeout(deadline);
    clearTimeout(silent);
    clearInterval(watch);
  };
  const onAbort = () => stop('abort');
  o.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, s) => resolve([c, s]));
    });
    // From here on the step is over: a late deadline or abort must not relabel its end.
    if (timer) clearTimeout(timer);
    clearLimits();
    o.signal?.removeEventListener('abort', onAbort);
    // Whatever the step left running in its group goes with it.
    killGroup(child.pid);
    await drain(child, closed);
    if (ended === 'timeout') {
      throw new IntactError('STEP_TIMEOUT', `${o.what} ran longer than ${o.timeoutMs} ms and was killed, with everything it started`, {
        hint: 'raise the step timeout if the build is just slow; otherwise look for a step waiting on input or on the network',
      });
    }
    if (ended === 'abort') throw aborted(o.what, o.signal?.reason);
    if (ended !== undefined && lim) throw limitError(ended, lim.limits, o.what);
    return { exitCode: code, signal: sig, ready: readyText.includes('ready'), stderrTail };
  } catch (e) {
    if (e instanceof IntactError) throw e;
    // Only while the leader lives: once it is reaped and its group empty, the number may be reused.
    if (child.exitCode === null && child.signalCode === null) killGroup(child.pid);
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'ENOTDIR') {
      throw new IntactError('STEP_TOOL_MISSING', `${o.file} cannot be run: ${err.code}`, {
        found: o.file,
        cause: e,
        hint: 'check that the program exists and is executable',
      });
    }
    throw new IntactError('IO', `cannot start ${o.what}: ${err.message}`, { cause: e });
  } finally {
    if (timer) clearTimeout(timer);
    clearLimits();
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** Wait for the output to end, but not for a straggler that escaped the group and holds it open. */
async function drain(child: ReturnType<typeof spawn>, closed: Promise<void>): Promise<void> {
  const t = setTimeout(() => {
    for (const s of child.stdio) s?.destroy();
  }, DRAIN_MS);
  try {
    await closed;
  } finally {
    clearTimeout(t);
  }
}

function aborted(what: string, reason: unknown): IntactError {
  return new IntactError('STEP_ABORTED', `${what} was cancelled and killed, with everything it started`, { cause: reason });
}
