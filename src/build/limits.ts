// Enforcing the limits every build runs under (the model, defaults and bounds:
// src/recipe/limits.ts), so a runaway build (an endless loop, a step waiting on
// input, endless output or writes, a fork bomb) ends with an error that names the
// limit and how to raise it, instead of running until someone stops it. A recipe
// may set its own (`limits:`), the command line (`--limits`) overrides both.
import { readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { DEFAULT_BUILD_LIMITS, parseLimitValue, type BuildLimits, type LimitName } from '../recipe/limits.js';

export type { BuildLimits } from '../recipe/limits.js';

/** `time=4h,log=128MiB` (the `--limits` flag): each within its bound, else a USAGE error naming the flag. */
export function parseLimitList(text: string, field = '--limits'): Partial<BuildLimits> {
  const out: Partial<BuildLimits> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const r = eq < 0 ? parseLimitValue(part, '') : parseLimitValue(part.slice(0, eq), part.slice(eq + 1));
    if (!r.ok) throw new IntactError('USAGE', `${field} ${part}: ${r.reason}`, { field, found: part, hint: r.hint.replace(/(\w+): (\S+)/, '$1=$2') });
    out[r.key] = r.value;
  }
  return out;
}

/** What a build runs under: the defaults, then the recipe's, then the command line's. */
export function resolveLimits(recipe: Partial<BuildLimits> | undefined, cli: Partial<BuildLimits> | undefined): BuildLimits {
  return { ...DEFAULT_BUILD_LIMITS, ...recipe, ...cli };
}

/** The codes limitError gives: a step's failure keeps them (src/build/steps.ts). */
export const LIMIT_CODES: ReadonlySet<string> = new Set([
  'BUILD_TIME_LIMIT',
  'BUILD_SILENT_LIMIT',
  'BUILD_LOG_LIMIT',
  'BUILD_DISK_LIMIT',
  'BUILD_PROCESS_LIMIT',
]);

const RAISE = (n: LimitName, example: string) => `\`limits: { ${n}: ${example} }\` in the recipe, or \`--limits ${n}=${example}\` for one run (docs/builds.md)`;

export function limitError(which: 'time' | 'silent' | 'log' | 'disk' | 'processes', limits: BuildLimits, what: string): IntactError {
  switch (which) {
    case 'time':
      return new IntactError(
        'BUILD_TIME_LIMIT',
        `${what} ran past the build's time limit of ${limits.timeMs / 1000} s and was killed, with everything it started`,
        { field: 'limits.time', hint: `look for an endless loop or a step waiting on input; if the build is just slow, raise it with ${RAISE('time', '4h')}` },
      );
    case 'silent':
      return new IntactError('BUILD_SILENT_LIMIT', `${what} printed nothing for ${limits.silentMs / 1000} s and was killed, with everything it started`, {
        field: 'limits.silent',
        hint: `look for a step waiting on input or the network; a step that is quiet for long may raise it with ${RAISE('silent', '1h')}`,
      });
    case 'log':
      return new IntactError(
        'BUILD_LOG_LIMIT',
        `${what} wrote more than ${limits.logBytes} bytes of log and was killed; the log keeps the first ${limits.logBytes} bytes`,
        { field: 'limits.log', hint: `make the build quieter, or raise it with ${RAISE('log', '128MiB')}` },
      );
    case 'disk':
      return new IntactError('BUILD_DISK_LIMIT', `${what} made the build folder hold more than ${limits.diskBytes} bytes and was killed`, {
        field: 'limits.disk',
        hint: `look for a step that writes without end; a large build may raise it with ${RAISE('disk', '32GiB')}`,
      });
    case 'processes':
      return new IntactError(
        'BUILD_PROCESS_LIMIT',
        `${what} reached the build's limit of ${limits.processes} processes and threads and was killed, with everything it started`,
        {
          field: 'limits.processes',
          hint: `look for a fork bomb or a step that starts processes without end; a build that needs more (a high --jobs) may raise it with ${RAISE('processes', String(limits.processes * 2))}`,
        },
      );
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
