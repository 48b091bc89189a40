// Offline runs: the download cache alone, never the network. fetchSource
// (source.ts) serves each source from here when the run is offline. A caller that
// knows the whole set it is about to fetch (every pin `intact fetch` selects,
// every source of the builds an install still has to run) asks checkOffline
// first, so one error names every source missing, not the first to fail.
import { byCodePoint } from '../canonical-json.js';
import { IntactError } from '../errors.js';
import { sourceKind, type Source } from '../recipe/types.js';
import type { Ingested } from './cache.js';
import { describeSource, type FetchContext } from './context.js';

/** A source a recipe needs, with the integrity it is pinned to (none before its first lock). */
export interface NeededSource {
  recipe: string;
  source: Source;
  integrity: string | undefined;
}

interface Miss {
  /** Absent when the caller did not say (fetchSource knows only the source). */
  recipe?: string;
  id: string;
  integrity: string | undefined;
  why: 'absent' | 'unpinned' | 'damaged';
}

const WHY: Record<Miss['why'], string> = {
  absent: 'is not in the download cache',
  unpinned: 'is not pinned yet, so it cannot come from the cache',
  damaged: 'is damaged in the download cache',
};

const HINT = 'run once with the network (`intact fetch`) to fill the download cache, or drop --offline';

/**
 * Offline: throws one OFFLINE_MISSING naming every needed source the download
 * cache does not hold; online there is nothing to check. It looks at presence
 * only (no hashing, no network): a damaged entry is named when fetchSource
 * re-hashes it.
 */
export async function checkOffline(needed: readonly NeededSource[], ctx: Pick<FetchContext, 'cache' | 'offline'>): Promise<void> {
  if (!ctx.offline) return;
  const misses = new Map<string, Miss>();
  for (const { recipe, source, integrity } of needed) {
    // Repository files are local: offline changes nothing for them.
    if (sourceKind(source) === 'file') continue;
    const id = describeSource(source);
    const key = JSON.stringify([recipe, id, integrity]);
    if (misses.has(key)) continue;
    if (integrity === undefined) misses.set(key, { recipe, id, integrity, why: 'unpinned' });
    else if (!(await ctx.cache.has(integrity))) misses.set(key, { recipe, id, integrity, why: 'absent' });
  }
  if (misses.size > 0) throw offlineMissing([...misses.values()]);
}

/** One source, verified, from the download cache alone. */
export async function fromCacheOnly(id: string, expected: string | undefined, ctx: FetchContext): Promise<Ingested> {
  const missing = (why: Miss['why']): IntactError => offlineMissing([{ id, integrity: expected, why }]);
  if (expected === undefined) throw missing('unpinned');
  if (!(await ctx.cache.has(expected))) throw missing('absent');
  const got = await ctx.cache.ingest({ expected, what: id, ...(ctx.signal ? { signal: ctx.signal } : {}) }, () => Promise.reject(missing('damaged')));
  ctx.onEvent?.({ type: 'done', id, bytes: got.bytes, cached: true });
  return got;
}

/** The one OFFLINE_MISSING error: a line per missing source (recipe, source, pin), the hint once. */
function offlineMissing(misses: readonly Miss[]): IntactError {
  const line = (m: Miss): string =>
    `${m.recipe !== undefined ? `${m.recipe}: ` : ''}${m.id}${m.integrity !== undefined ? ` (${m.integrity})` : ''} ${WHY[m.why]}`;
  if (misses.length === 1) return new IntactError('OFFLINE_MISSING', `offline: ${line(misses[0]!)}`, { url: misses[0]!.id, hint: HINT });
  const sorted = [...misses].sort((a, b) => byCodePoint(a.recipe ?? '', b.recipe ?? '') || byCodePoint(a.id, b.id));
  return new IntactError(
    'OFFLINE_MISSING',
    `offline: ${misses.length} sources cannot come from the download cache:\n${sorted.map((m) => `  ${line(m)}`).join('\n')}`,
    { hint: HINT },
  );
}
