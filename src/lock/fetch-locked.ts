// `intact fetch`: every source the lock pins (for this platform, or all), into the
// download cache, verified against its pin. Reads only the lock.
import { byCodePoint } from '../canonical-json.js';
import { IntactError } from '../errors.js';
import { checkOffline } from '../fetch/offline.js';
import { describeSource, type FetchContext } from '../fetch/context.js';
import { fetchSource } from '../fetch/source.js';
import { hostPlatform } from '../platform.js';
import type { Source } from '../recipe/types.js';
import { lockClosure } from './closure.js';
import { readLock } from './io.js';
import { depName } from './keys.js';
import { LOCK_FILE } from './parse.js';
import type { LockedSource, Lockfile } from './types.js';
import { runLimited } from '../pool.js';

export interface FetchLockedOptions {
  names: readonly string[];
  fetch: FetchContext;
  jobs: number;
  allPlatforms: boolean;
}

export interface FetchLockedResult {
  sources: number;
  fetched: number;
  cached: number;
}

/** The recipe-source form of a pinned source, for the fetchers. */
export function sourceOfPin(p: LockedSource): Source {
  const common = p.platforms ? { platforms: p.platforms } : {};
  switch (p.kind) {
    case 'url':
      return { url: p.url!, ...(p.mirrors ? { mirrors: p.mirrors } : {}), ...common };
    case 'npm':
      return { npm: p.npm!, ...common };
    case 'git':
      return { git: p.git!, rev: p.rev!, ...common };
    case 'file':
      return { file: p.file!, ...common };
    case 'deb':
      return { deb: p.deb!, ...common };
    case 'debSource':
      return { debSource: p.debSource!, debFile: p.debFile!, ...common };
  }
}

/** Names plus everything they need, per the lock's deps. */
export function selectWithClosure(lock: Lockfile, names: readonly string[]): string[] {
  if (names.length === 0) return Object.keys(lock.recipes).sort(byCodePoint);
  const out = new Set<string>();
  for (const n of names) {
    const e = lock.recipes[n];
    if (!e) {
      throw new IntactError('NOT_LOCKED', `"${n}" is not in ${LOCK_FILE}`, { file: LOCK_FILE, hint: `check the name, or run \`intact lock ${n}\`` });
    }
    out.add(n);
    for (const c of lockClosure(lock, n)) out.add(depName(c));
  }
  return [...out].sort(byCodePoint);
}

export async function fetchLocked(projectDir: string, opts: FetchLockedOptions): Promise<FetchLockedResult> {
  const read = await readLock(projectDir);
  if (!read) throw new IntactError('LOCK_MISSING', `there is no ${LOCK_FILE}`, { file: LOCK_FILE, hint: 'run `intact lock` and commit intact.lock' });
  const platform = hostPlatform();
  const pins: { recipe: string; pin: LockedSource }[] = [];
  for (const name of selectWithClosure(read.lock, opts.names)) {
    for (const p of read.lock.recipes[name]!.sources) {
      if (opts.allPlatforms || !p.platforms || (platform !== undefined && p.platforms.includes(platform))) pins.push({ recipe: name, pin: p });
    }
  }
  // Offline, every missing source is named at once, before anything is read.
  await checkOffline(
    pins.map(({ recipe, pin }) => ({ recipe, source: sourceOfPin(pin), integrity: pin.integrity })),
    opts.fetch,
  );
  let fetched = 0;
  let cached = 0;
  await runLimited(
    pins.map(({ pin: p }) => async () => {
      const src = sourceOfPin(p);
      const got = await fetchSource(src, p, opts.fetch).catch((e: unknown) => {
        if (e instanceof IntactError) throw e;
        throw new IntactError('FETCH_FAILED', `${describeSource(src)}: ${(e as Error).message}`, { cause: e });
      });
      if (got.cached) cached++;
      else fetched++;
    }),
    opts.jobs,
  );
  return { sources: pins.length, fetched, cached };
}
