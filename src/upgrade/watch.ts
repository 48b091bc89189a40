// A recipe's `watch:` section: for sources that cannot list their own versions
// (a plain URL), an index page and a pattern with one capture group, the version.
// `outdated` reads the page and collects every match; nothing else uses it.
import { IntactError } from '../errors.js';
import { download } from '../fetch/http.js';
import type { ByteSink, FetchLimits } from '../fetch/types.js';
import { classifyVersion } from '../recipe/exact.js';
import type { LoadedRecipe, Watch } from '../recipe/types.js';

/** An index page is a listing, not a download: a few megabytes at most. */
const MAX_PAGE_BYTES = 8 * 1024 * 1024;

/** The pattern, compiled; WATCH_INVALID (pointing at the recipe line) when unusable. */
export function compileWatch(loaded: LoadedRecipe, watch: Watch): RegExp {
  const place = { file: loaded.file, ...loaded.locate(['watch', 'pattern']), field: 'watch.pattern' };
  let re: RegExp;
  try {
    re = new RegExp(watch.pattern, 'g');
  } catch (e) {
    throw new IntactError('WATCH_INVALID', `watch.pattern is not a regular expression: ${(e as Error).message}`, {
      ...place,
      found: watch.pattern,
      hint: 'write a JavaScript regular expression, e.g. foo-([0-9][0-9.]*)\\.tar\\.gz',
    });
  }
  // The number of capture groups: an empty alternative always matches the empty string.
  const groups = (new RegExp(`${watch.pattern}|`).exec('')?.length ?? 1) - 1;
  if (groups !== 1) {
    throw new IntactError('WATCH_INVALID', `watch.pattern has ${groups} capture groups; it needs exactly one, the version`, {
      ...place,
      found: watch.pattern,
      hint: 'wrap the version in ( ) and make other groups non-capturing: (?: ... )',
    });
  }
  return re;
}

/** Every exact version the pattern finds in the page, in order of first appearance. */
export function versionsInPage(page: string, re: RegExp): string[] {
  const seen = new Set<string>();
  for (const m of page.matchAll(re)) {
    const v = m[1];
    if (v !== undefined && classifyVersion(v, 'recipe').exact) seen.add(v);
  }
  return [...seen];
}

export async function watchVersions(
  loaded: LoadedRecipe,
  watch: Watch,
  opts: { limits: FetchLimits; env?: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<string[]> {
  const re = compileWatch(loaded, watch);
  const chunks: Buffer[] = [];
  let bytes = 0;
  const sink: ByteSink = {
    get bytes() {
      return bytes;
    },
    write(c) {
      chunks.push(Buffer.from(c));
      bytes += c.length;
    },
    reset() {
      chunks.length = 0;
      bytes = 0;
    },
  };
  await download(watch.url, sink, {
    limits: { ...opts.limits, maxBytes: Math.min(opts.limits.maxBytes, MAX_PAGE_BYTES) },
    headers: { accept: 'text/html, application/json, text/plain, */*' },
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return versionsInPage(Buffer.concat(chunks).toString('utf8'), re);
}
