// The limits every build runs under, so a runaway build (an endless loop, a step
// waiting on input, endless output or endless writes) ends with an error that
// names the limit and how to raise it, instead of running until someone stops it.
// Defaults are in docs/builds.md; INTACT_BUILD_LIMITS (`time=2h,silent=30m,
// log=64MiB,disk=16GiB`) changes them for one run, within MAX.
import { readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { IntactError } from '../errors.js';

export interface BuildLimits {
  /** Wall time of one build, all steps together, ms. */
  timeMs: number;
  /** No output for this long ends the build, ms. */
  silentMs: number;
  /** Bytes of build log kept and read; past it the build ends. */
  logBytes: number;
  /** Bytes the build folder may hold (sources, output, temp files). */
  diskBytes: number;
}

export const DEFAULT_BUILD_LIMITS: BuildLimits = {
  timeMs: 2 * 3600_000,
  silentMs: 30 * 60_000,
  logBytes: 64 * 1024 ** 2,
  diskBytes: 16 * 1024 ** 3,
};

/** How far a limit may be raised. */
export const MAX_BUILD_LIMITS: BuildLimits = {
  timeMs: 24 * 3600_000,
  silentMs: 24 * 3600_000,
  logBytes: 1024 ** 3,
  diskBytes: 256 * 1024 ** 3,
};

const NAMES: Record<string, keyof BuildLimits> = { time: 'timeMs', silent: 'silentMs', log: 'logBytes', disk: 'diskBytes' };
const UNITS: Record<string, number> = { '': 1, s: 1000, m: 60_000, h: 3600_000, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** `time=2h,silent=30m,log=64MiB,disk=16GiB` over the defaults; each within MAX_BUILD_LIMITS. */
export function parseBuildLimits(text: string | undefined, base: BuildLimits = DEFAULT_BUILD_LIMITS): BuildLimits {
  const out = { ...base };
  for (const part of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)([a-zA-Z]*)$/.exec(part);
    const key = m ? NAMES[m[1]!] : undefined;
    const unit = m ? UNITS[m[3]!.toLowerCase()] : undefined;
    if (!m || key === undefined || unit === undefined) {
      throw new IntactError('USAGE', `"${part}" is not a build limit`, { field: 'INTACT_BUILD_LIMITS', hint: 'write e.g. time=2h,silent=30m,log=64MiB,disk=16GiB (see docs/builds.md)' });
    }
    const v = Number(m[2]) * unit;
    if (v <= 0 || v > MAX_BUILD_LIMITS[key]) {
      throw new IntactError('USAGE', `the build limit ${part} is outside 1..${MAX_BUILD_LIMITS[key]}`, { field: 'INTACT_BUILD_LIMITS', hint: 'see docs/builds.md for the bounds' });
    }
    out[key] = v;
  }
  return out;
}

const RAISE = 'INTACT_BUILD_LIMITS (e.g. INTACT_BUILD_LIMITS=time=4h; docs/builds.md)';

export function limitError(which: 'time' | 'silent' | 'log' | 'disk', limits: BuildLimits, what: string): IntactError {
  switch (which) {
    case 'time':
      return new IntactError('BUILD_TIME_LIMIT', `${what} ran past the build's time limit of ${limits.timeMs / 1000} s and was killed, with everything it started`, { hint: `look for an endless loop or a step waiting on input; if the build is just slow, raise time in ${RAISE}` });
    case 'silent':
      return new IntactError('BUILD_SILENT_LIMIT', `${what} printed nothing for ${limits.silentMs / 1000} s and was killed, with everything it started`, { hint: `look for a step waiting on input or the network; a step that is quiet for long may raise silent in ${RAISE}` });
    case 'log':
      return new IntactError('BUILD_LOG_LIMIT', `${what} wrote more than ${limits.logBytes} bytes of log and was killed; the log keeps the first ${limits.logBytes} bytes`, { hint: `make the build quieter, or raise log in ${RAISE}` });
    case 'disk':
      return new IntactError('BUILD_DISK_LIMIT', `${what} made the build folder hold more than ${limits.diskBytes} bytes and was killed`, { hint: `look for a step that writes without end; a large build may raise disk in ${RAISE}` });
  }
}

/** Bytes in a folder (allocated blocks, so sparse files count as what they use); bounded work per call. */
export function folderBytes(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        const st = lstatSync(p);
        total += st.blocks * 512;
        if (st.isDirectory()) stack.push(p);
      } catch {
        // Gone meanwhile: the build is still writing.
      }
    }
  }
  return total;
}
