// The limits a build runs under, as a recipe (`limits:`) and the command line
// (`--limits`) may set them: names, units, defaults and bounds. Pure, and in the
// recipe layer because a recipe is checked against the bounds when it is loaded
// (an error at its file and line); the build engine enforces them
// (src/build/limits.ts). docs/builds.md has the table.

export interface BuildLimits {
  /** Wall time of one build, all steps together, ms. */
  timeMs: number;
  /** No output for this long ends the build, ms. */
  silentMs: number;
  /** Bytes of build log kept and read; past it the build ends. */
  logBytes: number;
  /** Bytes the build folder may hold (sources, output, temp files). */
  diskBytes: number;
  /** Processes and threads a build may run at once (RLIMIT_NPROC in its sandbox). */
  processes: number;
}

export const DEFAULT_BUILD_LIMITS: BuildLimits = {
  timeMs: 2 * 3600_000,
  silentMs: 30 * 60_000,
  logBytes: 64 * 1024 ** 2,
  diskBytes: 16 * 1024 ** 3,
  processes: 4096,
};

/** How far a limit may be raised. */
export const MAX_BUILD_LIMITS: BuildLimits = {
  timeMs: 24 * 3600_000,
  silentMs: 24 * 3600_000,
  logBytes: 1024 ** 3,
  diskBytes: 256 * 1024 ** 3,
  processes: 65_536,
};

/** The names a recipe and `--limits` use. */
export const LIMIT_NAMES = { time: 'timeMs', silent: 'silentMs', log: 'logBytes', disk: 'diskBytes', processes: 'processes' } as const satisfies Record<
  string,
  keyof BuildLimits
>;
export type LimitName = keyof typeof LIMIT_NAMES;

const KIND: Record<LimitName, 'duration' | 'bytes' | 'count'> = { time: 'duration', silent: 'duration', log: 'bytes', disk: 'bytes', processes: 'count' };
const UNITS = {
  duration: { s: 1000, m: 60_000, h: 3600_000 },
  bytes: { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 },
  count: { '': 1 },
} as const;
const EXAMPLE: Record<LimitName, string> = { time: '4h', silent: '1h', log: '128MiB', disk: '32GiB', processes: '8192' };

/** A limit's value (`4h`, `128MiB`, `8192`) in the model's unit, or why it is refused. */
export function parseLimitValue(
  name: string,
  value: unknown,
): { ok: true; key: keyof BuildLimits; value: number } | { ok: false; reason: string; hint: string; pastBound?: true } {
  if (!(name in LIMIT_NAMES))
    return { ok: false, reason: `"${name}" is not a build limit`, hint: `the limits are ${Object.keys(LIMIT_NAMES).join(', ')} (docs/builds.md)` };
  const n = name as LimitName;
  const units: Record<string, number> = UNITS[KIND[n]];
  const m = /^(\d+)([a-zA-Z]*)$/.exec(String(value).trim());
  const unit = m ? units[m[2]!.toLowerCase()] : undefined;
  const hint = `write e.g. ${n}: ${EXAMPLE[n]} (units: ${Object.keys(units).filter(Boolean).join(', ') || 'none, a count'}; docs/builds.md)`;
  if (!m || unit === undefined || (typeof value !== 'string' && typeof value !== 'number'))
    return { ok: false, reason: `the ${n} limit "${String(value)}" is not a ${KIND[n]}`, hint };
  const key = LIMIT_NAMES[n];
  const v = Number(m[1]) * unit;
  if (v <= 0 || v > MAX_BUILD_LIMITS[key]) {
    return {
      ok: false,
      pastBound: true,
      reason: `the ${n} limit ${String(value)} is outside its bounds (at most ${render(n, MAX_BUILD_LIMITS[key])})`,
      hint: `stay within the bound; ${hint}`,
    };
  }
  return { ok: true, key, value: v };
}

/** A limit in the words a user writes (`24h`, `1024MiB`). */
function render(name: LimitName, v: number): string {
  const units = Object.entries(UNITS[KIND[name]] as Record<string, number>).sort((a, b) => b[1] - a[1]);
  const [u, f] = units.find(([, f]) => v % f === 0) ?? ['', 1];
  return `${v / f}${u === 'kib' ? 'KiB' : u === 'mib' ? 'MiB' : u === 'gib' ? 'GiB' : u}`;
}
