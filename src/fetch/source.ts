// One door for every source kind: a recipe source (and its pin, if any) in, a
// verified file in the download cache out. The fetchers only produce bytes; the
// cache verifies them (src/fetch/cache.ts). Offline runs are decided here, once,
// for every kind (src/fetch/offline.ts).
import { sourceKind, type Source } from '../recipe/types.js';
import type { Ingested } from './cache.js';

import { describeSource, type FetchContext } from './context.js';

/**
 * Fetch one source into the cache. `pin` is the lock's integrity (absent on a
 * first lock; then the recipe's own `integrity`, if any, is what must match).
 */
export function fetchSource(s: Source, pin: string | undefined, ctx: FetchContext): Promise<Ingested> {
  // Two recipes often share a source (sqlite and libsqlite3 both unpack one npm
  // package): one download serves both, within a run.
  let inflight = running.get(ctx);
  if (!inflight) running.set(ctx, (inflight = new Map()));
  const key = JSON.stringify([describeSource(s), 'mirrors' in s ? s.mirrors : undefined, pin ?? s.integrity]);
  let p = inflight.get(key);
  if (!p) {
    p = fetchOnce(s, pin, ctx);
    inflight.set(key, p);
    p.catch(() => inflight.delete(key));
  }
  return p;
}

const running = new WeakMap<FetchContext, Map<string, Promise<Ingested>>>();

async function fetchOnce(s: Source, pin: string | undefined, ctx: FetchContext): Promise<Ingested> {
  const expected = pin ?? s.integrity;
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
      return fetchUrl([u.url, ...(u.mirrors ?? [])], ctx.cache, { ...common, limits: ctx.limits, env: ctx.env, id, ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}) });
    }
    case 'npm': {
      const { fetchNpm } = await import('./npm.js');
      return fetchNpm((s as { npm: string }).npm, ctx.cache, { ...common, cfg: await ctx.npmConfig(), limits: ctx.limits, env: ctx.env, id, ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}) });
    }
    case 'git': {
      const { fetchGit } = await import('./git.js');
      const g = s as { git: string; rev: string };
      const got = await fetchGit(g.git, g.rev, ctx.cache, { ...common, env: ctx.env });
      ctx.onEvent?.({ type: 'done', id, bytes: got.bytes, cached: got.cached });
      return got;
    }
    case 'file': {
      const { fetchFile } = await import('./file.js');
      const got = await fetchFile(ctx.projectDir, (s as { file: string }).file, ctx.cache, common);
      ctx.onEvent?.({ type: 'done', id, bytes: got.bytes, cached: got.cached });
      return got;
    }
  }
}
