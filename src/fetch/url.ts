// A `url` source: the primary URL, then its mirrors, in order, each checked
// against the same integrity. A dead mirror or one serving other bytes is
// skipped; only when every location failed is there an error, and it says what
// went wrong at each of them.
import { IntactError, isIntactError, type ErrorCode } from '../errors.js';
import type { DownloadCache, Ingested } from './cache.js';
import { download, type DownloadOptions } from './http.js';
import type { HashAlgorithm } from './sri.js';

export interface FetchUrlOptions extends Omit<DownloadOptions, 'id'> {
  /** The pinned SRI. Absent on a first lock: the first location that answers pins it. */
  expected?: string;
  /** Algorithm of the returned integrity (see DownloadCache.ingest). */
  algorithm?: HashAlgorithm;
  /** Id carried by progress events; defaults to the first URL. */
  id?: string;
}

export interface FetchedUrl extends Ingested {
  /** The location the bytes came from (the first URL on a cache hit). */
  url: string;
}

/** Errors that no other location can fix: stop at once instead of trying mirrors. */
const FINAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['FETCH_ABORTED', 'IO', 'INTERNAL', 'INTEGRITY_WEAK', 'INTEGRITY_MALFORMED']);

/**
 * Fetches the first of `urls` that yields the expected bytes into the cache.
 * Emits done/fail (download emits start/progress/retry); moving on to a mirror
 * is reported as a retry event with no delay.
 */
export async function fetchUrl(urls: readonly string[], cache: DownloadCache, opts: FetchUrlOptions): Promise<FetchedUrl> {
  const first = urls[0];
  if (first === undefined) throw new IntactError('URL_INVALID', 'A url source has no URL.', { hint: 'Give `url:` a value.' });
  const id = opts.id ?? first;
  const failures: { url: string; error: IntactError }[] = [];

  for (const [i, url] of urls.entries()) {
    const previous = failures[failures.length - 1];
    if (i > 0 && previous) {
      opts.onEvent?.({ type: 'retry', id, url, attempt: i + 1, reason: previous.error.message, delayMs: 0 });
    }
    try {
      const got = await cache.ingest({ what: url, ...pick(opts, 'expected', 'algorithm', 'signal') }, (sink) =>
        download(url, sink, { ...opts, id, nextLocation: i < urls.length - 1 }),
      );
      opts.onEvent?.({ type: 'done', id, bytes: got.bytes, cached: got.cached });
      return { ...got, url };
    } catch (e) {
      if (opts.signal?.aborted && !isIntactError(e)) {
        const err = new IntactError('FETCH_ABORTED', `Fetching ${url} was cancelled.`, { url, cause: e });
        opts.onEvent?.({ type: 'fail', id, message: err.message });
        throw err;
      }
      if (opts.signal?.aborted || !isIntactError(e) || FINAL.has(e.code)) {
        opts.onEvent?.({ type: 'fail', id, message: e instanceof Error ? e.message : String(e) });
        throw e;
      }
      failures.push({ url, error: e });
    }
  }

  const err = allFailed(failures, opts.expected);
  opts.onEvent?.({ type: 'fail', id, message: err.message });
  throw err;
}

function allFailed(failures: { url: string; error: IntactError }[], expected: string | undefined): IntactError {
  // One location: its own error is the most precise thing to say.
  if (failures.length === 1) return failures[0]!.error;
  const codes = new Set(failures.map((f) => f.error.code));
  const code: ErrorCode = codes.size === 1 ? failures[0]!.error.code : 'FETCH_FAILED';
  const lines = failures.map((f) => `  - ${f.url}: ${f.error.message}`);
  const mismatched = codes.has('INTEGRITY_MISMATCH');
  return new IntactError(code, `Every location of ${failures[0]!.url} failed:\n${lines.join('\n')}`, {
    url: failures[0]!.url,
    ...(expected === undefined ? {} : { expected }),
    hint: mismatched
      ? 'Some locations serve bytes that differ from the pin: the file may have been replaced upstream. ' +
        'Nothing was stored. Review the change before re-pinning with `intact lock`.'
      : 'Check the network or proxy settings and the URLs, then try again; or add a mirror that works.',
    cause: failures.map((f) => f.error),
  });
}

function pick<T extends object, K extends keyof T>(o: T, ...keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
