// One door for every source kind: a recipe source (and its pin, if any) in, a
// verified file in the download cache out. The fetchers only produce bytes; the
// cache verifies them (src/fetch/cache.ts). Offline runs are decided here, once,
// for every kind (src/fetch/offline.ts).
import { sourceKind, type DebSource, type DebSourceFile, type Source } from '../recipe/types.js';
import type { Ingested } from './cache.js';
import { describeSource, type FetchContext } from './context.js';

/** What the lock pins of a source: its hash, and for the Debian kinds where the file is. */
export interface SourcePin {
  integrity: string;
  debPath?: string;
  /** deb, debSource and url: the file's size in bytes; a download stops past it. */
  size?: number;
}

/** A fetched source; the Debian kinds also say where the file was (for the lock). */
export interface Fetched extends Ingested {
  debPath?: string;
  size?: number;
}

/**
 * Fetch one source into the cache. `pin` is what the lock holds (absent on a
 * first lock; then the recipe's own `integrity`, if any, is what must match).
 */
export function fetchSource(s: Source, pin: SourcePin | undefined, ctx: FetchContext): Promise<Fetched> {
  // Two recipes often share a source (sqlite and libsqlite3 both unpack one npm
  // package): one download serves both, within a run.
  let inflight = running.get(ctx);
  if (!inflight) running.set(ctx, (inflight = new Map()));
  const key = JSON.stringify([describeSource(s), 'mirrors' in s ? s.mirrors : undefined, pin?.integrity ?? s.integrity, pin?.debPath, s.platforms]);
  let p = inflight.get(key);
  if (!p) {
    p = fetchOnce(s, pin, ctx);
    inflight.set(key, p);
    p.catch(() => inflight.delete(key));
  }
  return p;
}

const running = new WeakMap<FetchContext, Map<string, Promise<Fetched>>>();

async function fetchOnce(s: Source, pin: SourcePin | undefined, ctx: FetchContext): Promise<Fetched> {
  const expected = pin?.integrity ?? s.integrity;
  const id = describeSource(s);
  // Repository files are local: offline changes nothing for them.
  if (ctx.offline && sourceKind(s) !== 'file') {
    const { fromCacheOnly } = await import('./offline.js');
    return fromCacheOnly(id, expected, ctx);
  }
  const common = {
    ...(expected !== undefined ? { expected } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  switch (sourceKind(s)) {
    case 'url': {
      const { fetchUrl } = await import('./url.js');
      const u = s as { url: string; mirrors?: string[] };
      // The lock records the size: nothing past it is read (an endless body stops there).
      const size = pin?.size;
      const limits = size === undefined ? ctx.limits : { ...ctx.limits, maxBytes: Math.min(ctx.limits.maxBytes, size) };
      const got = await fetchUrl([u.url, ...(u.mirrors ?? [])], ctx.cache, {
        ...common,
        limits,
        env: ctx.env,
        id,
        ...(size !== undefined ? { lockedSize: size } : {}),
        ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}),
      });
      return { ...got, size: got.bytes };
    }
    case 'npm': {
      const { fetchNpm } = await import('./npm.js');
      return fetchNpm((s as { npm: string }).npm, ctx.cache, {
        ...common,
        cfg: await ctx.npmConfig(),
        limits: ctx.limits,
        env: ctx.env,
        id,
        ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}),
      });
    }
    case 'git': {
      const { fetchGit } = await import('./git.js');
      const g = s as { git: string; rev: string };
      const got = await fetchGit(g.git, g.rev, ctx.cache, { ...common, env: ctx.env });
      ctx.onEvent?.({ type: 'done', id, bytes: got.bytes, cached: got.cached });
      return got;
    }
    case 'deb':
    case 'debSource': {
      const { fetchDeb } = await import('./deb/fetch.js');
      return fetchDeb(s as DebSource | DebSourceFile, pin, ctx.cache, {
        limits: ctx.limits,
        env: ctx.env,
        id,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}),
      });
    }
    case 'file': {
      const { fetchFile } = await import('./file.js');
      const got = await fetchFile(ctx.projectDir, (s as { file: string }).file, ctx.cache, common);
      ctx.onEvent?.({ type: 'done', id, bytes: got.bytes, cached: got.cached });
      return got;
    }
  }
}
