// The HTTP(S) download path: one URL's bytes into a ByteSink, with our own
// redirect policy (never https → http), retries with backoff, Range resume, a
// size cap enforced while streaming, and a total deadline of our own.
// undici is imported lazily so CLI startup does not pay for it (docs/measured.md §4);
// the body is consumed by http-exchange.ts, which never lets it pause (docs/measured.md §1).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { makeAgent } from './agent.js';
import { IntactError, isIntactError, type ErrorCode, type ProblemFields } from '../errors.js';
import { exchange, IdleTimeoutError, type ChunkConsumer, type ResponseHeaders } from './http-exchange.js';
import {
  REDIRECT_STATUSES,
  backoffDelay,
  headersForHop,
  isRetryableStatus,
  nextRedirect,
  parseContentLength,
  parseContentRange,
  parseDownloadUrl,
  parseRetryAfter,
  statusHint,
} from './http-policy.js';
import type { ByteSink, FetchLimits, FetchProgress } from './types.js';

export interface DownloadOptions {
  limits: FetchLimits;
  signal?: AbortSignal;
  /** Extra request headers (e.g. authorization); credentials never follow a cross-origin redirect. */
  headers?: Record<string, string>;
  onEvent?: FetchProgress;
  /** Id carried by progress events; defaults to the URL. */
  id?: string;
  /** Where HTTP(S)_PROXY / NO_PROXY are read from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Trusted CA certificates (PEM), replacing the default set; for tests and private CAs. */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * The caller's connection pool (then `env` and `ca` are the pool's business),
   * so that many downloads from one server share their connections; by default
   * each download has its own, closed when it ends.
   */
  dispatcher?: Dispatcher;
  /**
   * Another location (a mirror) follows this URL: a stall or a too-slow body then
   * moves on to it at once instead of trying this server again.
   */
  nextLocation?: boolean;
  /** The size intact.lock records for these bytes (also folded into limits.maxBytes by the caller), for the message. */
  lockedSize?: number;
}

/** Progress events are at most this frequent. */
const PROGRESS_EVERY_MS = 100;

const HINT = {
  slow: 'The server or the network is slow or down. Try again, use a mirror, or raise the timeouts.',
  truncated: 'The connection broke or the server sent a truncated file. Try again, or use a mirror.',
  network: 'Check the network and proxy settings (HTTPS_PROXY, NO_PROXY) and try again, or use a mirror.',
  dns: 'Check the host name in the URL, your DNS, or HTTPS_PROXY/NO_PROXY.',
  tls: "The server's certificate is not trusted. Behind a company proxy, point NODE_EXTRA_CA_CERTS at its CA certificate.",
  ranges: "The server's range support is broken; the download restarts from the beginning.",
  changed: 'The file changed on the server while it was being downloaded; the download restarts from the beginning.',
  locked:
    'The server sends more than the size intact.lock records: the file was replaced upstream, or the server is lying. Nothing past that size was kept; use a mirror, or review the change and re-pin with `intact lock`.',
  disk: 'Check free space and permissions of the store.',
  bug: 'This looks like a bug in intact; please report it.',
};

/** One failed attempt: the error to report, and whether another attempt may help. */
class Failure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: ProblemFields,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    /** A stall or a crawl: worth one more try at most (see download). */
    readonly slow = false,
  ) {
    super(message);
  }

  toError(attempts: number): IntactError {
    const suffix = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    return new IntactError(this.code, this.message + suffix, this.fields);
  }
}

const retryable = (code: ErrorCode, message: string, fields: ProblemFields, retryAfterMs?: number): Failure =>
  new Failure(code, message, fields, true, retryAfterMs);

const slowFailure = (code: ErrorCode, message: string, fields: ProblemFields): Failure => new Failure(code, message, fields, true, undefined, true);

/** What attempts learn about the resource and pass on to the next attempt. */
interface ResumeState {
  /** The server said it serves byte ranges. */
  ranges: boolean;
  /** Strong ETag or Last-Modified, sent as If-Range so a changed file comes whole. */
  validator?: string;
  /** The start event was sent. */
  announced: boolean;
}

interface Context {
  url: string;
  id: string;
  sink: ByteSink;
  opts: DownloadOptions;
  dispatcher: Dispatcher;
  signal: AbortSignal;
  state: ResumeState;
}

/**
 * Downloads `url` into `sink`. Retries network errors, 5xx and 429 (up to
 * limits.retries more attempts), resumes with Range when the server allows it,
 * and otherwise throws an IntactError that names the URL and says what to do.
 * Emits start/progress/retry; done/fail belong to the caller, which alone knows
 * whether the bytes verified.
 */
export async function download(url: string, sink: ByteSink, opts: DownloadOptions): Promise<void> {
  const start = parseDownloadUrl(url);
  const { limits } = opts;
  const own = opts.dispatcher === undefined;
  const dispatcher =
    opts.dispatcher ??
    (await makeAgent({ env: opts.env ?? process.env, connectTimeoutMs: limits.connectTimeoutMs, ...(opts.ca !== undefined ? { ca: opts.ca } : {}) }));

  // Our own deadline over all attempts: undici's body timer restarts on every
  // chunk, so a trickling server would never trip it (docs/measured.md §3).
  const deadline = new AbortController();
  const deadlineAt = Date.now() + limits.totalTimeoutMs;
  const timer = setTimeout(() => {
    const message = `Downloading ${url} took longer than ${limits.totalTimeoutMs} ms.`;
    deadline.abort(new IntactError('FETCH_TIMEOUT', message, { url, hint: HINT.slow }));
  }, limits.totalTimeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal;
  const id = opts.id ?? url;
  const ctx: Context = { url: start.href, id, sink, opts, dispatcher, signal, state: { ranges: false, announced: false } };

  let slowOnes = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await attemptOnce(ctx, start);
        return;
      } catch (e) {
        if (signal.aborted) throw abortError(signal, url);
        const f = toFailure(e, ctx.url);
        // A server that stalled or crawled once is given one more try only when no
        // mirror follows: retrying it five times cost 5 x 60 s before a mirror was tried.
        if (f.slow) slowOnes++;
        if (!f.retryable || attempt > limits.retries || (f.slow && (opts.nextLocation === true || slowOnes > 1))) throw f.toError(attempt);
        const delayMs = f.retryAfterMs ?? backoffDelay(attempt, limits.backoffMs);
        // Waiting past the deadline would only turn this failure into a timeout.
        if (Date.now() + delayMs >= deadlineAt) throw f.toError(attempt);
        opts.onEvent?.({ type: 'retry', id, url, attempt: attempt + 1, reason: f.message, delayMs });
        try {
          await sleep(delayMs, undefined, { signal });
        } catch {
          throw abortError(signal, url);
        }
      }
    }
  } finally {
    clearTimeout(timer);
    if (own) await dispatcher.destroy().catch(() => {});
  }
}

/** One attempt: follow redirects to a 200/206 and stream its body into the sink. */
async function attemptOnce(ctx: Context, start: URL): Promise<void> {
  const { url, sink, state, opts } = ctx;
  const { limits } = opts;
  const chain = [start.href];
  let current = start;
  let headers: Record<string, string> = { 'user-agent': 'intact' };
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;

  for (;;) {
    // identity: we pin the bytes the server stores, not a transfer encoding of them.
    const req: Record<string, string> = { ...headers, 'accept-encoding': 'identity' };
    if (sink.bytes > 0 && state.ranges) {
      req.range = `bytes=${sink.bytes}-`;
      if (state.validator !== undefined) req['if-range'] = state.validator;
    } else if (sink.bytes > 0) {
      sink.reset();
    }
    const slow = new AbortController();
    const body = new BodyTracker(ctx, slow);

    let res;
    try {
      res = await exchange({
        dispatcher: ctx.dispatcher,
        target: current,
        headers: req,
        idleTimeoutMs: limits.idleTimeoutMs,
        signal: AbortSignal.any([ctx.signal, slow.signal]),
        onStart: (status, h) => body.start(status, h),
      });
    } catch (e) {
      throw body.explain(e);
    } finally {
      body.stopWatching();
    }

    const { status } = res;
    if (REDIRECT_STATUSES.has(status)) {
      const next = nextRedirect(chain, one(res.headers.location), limits.maxRedirects);
      headers = headersForHop(headers, current, next);
      chain.push(next.href);
      current = next;
      continue;
    }
    if (status === 416) {
      state.ranges = false;
      sink.reset();
      throw retryable('HTTP_STATUS', `${url} refused the range request (HTTP 416).`, { url, hint: HINT.ranges });
    }
    if (status !== 200 && status !== 206) {
      const where = current.href === url ? url : `${url} (redirected to ${current.href})`;
      const message = `GET ${where} failed: HTTP ${status}.`;
      const fields = { url, found: String(status), hint: statusHint(status) };
      const after = parseRetryAfter(one(res.headers['retry-after']));
      throw new Failure('HTTP_STATUS', message, fields, isRetryableStatus(status), after);
    }
    body.finish();
    return;
  }
}

/** The sizes one response announced, checked while and after its body streams. */
class BodyTracker {
  /** Where the sink must end once this body is complete. */
  #end: number | undefined;
  #total: number | undefined;
  #lastProgress = 0;
  #watch: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly slow: AbortController,
  ) {}

  /**
   * The minimum-throughput rule, checked on a timer (a trickle's chunks are too
   * rare to check on): fewer than the minimum over the last window ends the attempt.
   */
  #startWatching(): void {
    const { minBytesPerSecond = 0, slowWindowMs = 0 } = this.ctx.opts.limits;
    if (minBytesPerSecond <= 0 || slowWindowMs <= 0) return;
    const step = Math.max(10, Math.floor(slowWindowMs / 4));
    const marks: { at: number; bytes: number }[] = [{ at: Date.now(), bytes: this.ctx.sink.bytes }];
    this.#watch = setInterval(() => {
      const now = Date.now();
      const bytes = this.ctx.sink.bytes;
      marks.push({ at: now, bytes });
      while (marks.length > 1 && now - marks[1]!.at >= slowWindowMs) marks.shift();
      const from = marks[0]!;
      if (now - from.at < slowWindowMs) return;
      const rate = ((bytes - from.bytes) * 1000) / (now - from.at);
      if (rate >= minBytesPerSecond) return;
      const { url } = this.ctx;
      const message = `${url} sent ${bytes - from.bytes} bytes in ${Math.round((now - from.at) / 1000)} s, below the minimum of ${minBytesPerSecond} bytes/s.`;
      this.slow.abort(
        slowFailure('FETCH_TOO_SLOW', message, { url, found: `${Math.floor(rate)} bytes/s`, expected: `>= ${minBytesPerSecond} bytes/s`, hint: HINT.slow }),
      );
    }, step);
    this.#watch.unref();
  }

  stopWatching(): void {
    clearInterval(this.#watch);
  }

  /** Decides on a response from its headers; returns the body's consumer for 200/206. */
  start(status: number, h: ResponseHeaders): ChunkConsumer | null {
    if (status !== 200 && status !== 206) return null;
    const { url, sink, state, opts, id } = this.ctx;
    const { maxBytes } = opts.limits;
    const length = parseContentLength(one(h['content-length']));
    if (status === 206) {
      const range = one(h['content-range']);
      const cr = parseContentRange(range);
      if (cr === undefined || cr.start !== sink.bytes || (length !== undefined && length !== cr.end - cr.start + 1)) {
        state.ranges = false;
        sink.reset();
        const message = `${url} answered a range request with the wrong Content-Range (${range ?? 'none'}).`;
        throw retryable('FETCH_FAILED', message, { url, hint: HINT.ranges });
      }
      // If-Range asked for the rest of *this* version: a 206 of another one would
      // splice two files together (only the final hash caught it), so start over.
      const got = validatorOf(h);
      if (state.validator !== undefined && got !== state.validator) {
        state.ranges = false;
        state.validator = got;
        sink.reset();
        const message = `${url} answered a resumed download with another version of the file (${got ?? 'no validator'}, was ${state.validator ?? 'none'}).`;
        throw retryable('FETCH_FAILED', message, { url, hint: HINT.changed });
      }
      this.#total = cr.total;
      this.#end = cr.end + 1;
    } else {
      // A 200 to a Range request is the whole file again.
      if (sink.bytes > 0) sink.reset();
      this.#total = length;
      this.#end = length;
    }
    const announced = this.#total ?? this.#end;
    if (announced !== undefined && announced > maxBytes) throw tooLarge(url, maxBytes, `${announced} bytes`, opts.lockedSize);
    state.ranges = status === 206 || /\bbytes\b/i.test(one(h['accept-ranges']) ?? '');
    state.validator = validatorOf(h);
    this.#startWatching();
    if (!state.announced) {
      state.announced = true;
      opts.onEvent?.({ type: 'start', id, url, ...this.#totalField() });
    }
    return (chunk) => this.#write(chunk);
  }

  /** After a complete body: the sink holds exactly what the headers announced. */
  finish(): void {
    const { url, sink } = this.ctx;
    if (this.#end !== undefined && sink.bytes !== this.#end) {
      const message = `${url} sent ${sink.bytes} bytes but announced ${this.#end}.`;
      const fields = { url, expected: String(this.#end), found: String(sink.bytes), hint: HINT.truncated };
      throw retryable('LENGTH_MISMATCH', message, fields);
    }
    this.ctx.opts.onEvent?.({ type: 'progress', id: this.ctx.id, bytes: sink.bytes, ...this.#totalField() });
  }

  /** A body cut short by the network is worth another attempt; say how short. */
  explain(e: unknown): unknown {
    const { url, sink } = this.ctx;
    if (this.#end === undefined || sink.bytes >= this.#end) return e;
    if (e instanceof Failure || isIntactError(e) || e instanceof IdleTimeoutError || isUndiciTimeout(e)) return e;
    const message = `${url} ended after ${sink.bytes} of ${this.#end} bytes (${describe(e)}).`;
    const fields = { url, expected: String(this.#end), found: String(sink.bytes), hint: HINT.truncated, cause: e };
    return retryable('LENGTH_MISMATCH', message, fields);
  }

  #write(chunk: Buffer): void {
    const { url, sink, opts, id } = this.ctx;
    const { maxBytes } = opts.limits;
    if (sink.bytes + chunk.length > maxBytes) throw tooLarge(url, maxBytes, 'more than that', opts.lockedSize);
    try {
      sink.write(chunk);
    } catch (e) {
      if (isIntactError(e)) throw e;
      const message = `Could not write the download of ${url}: ${describe(e)}.`;
      throw new IntactError('IO', message, { url, hint: HINT.disk, cause: e });
    }
    const now = Date.now();
    if (opts.onEvent && now - this.#lastProgress >= PROGRESS_EVERY_MS) {
      this.#lastProgress = now;
      opts.onEvent({ type: 'progress', id, bytes: sink.bytes, ...this.#totalField() });
    }
  }

  #totalField(): { total?: number } {
    return this.#total === undefined ? {} : { total: this.#total };
  }
}

/** undici's own timeout errors (we disable them, but a proxy tunnel may still use them). */
const UNDICI_TIMEOUTS: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'could not connect in time',
  UND_ERR_HEADERS_TIMEOUT: 'no response in time',
  UND_ERR_BODY_TIMEOUT: 'the server stopped sending data',
};

function isUndiciTimeout(e: unknown): boolean {
  const code = errorCode(e);
  return code !== undefined && code in UNDICI_TIMEOUTS;
}

/** Error codes of a TLS handshake that refused the server's certificate. */
const TLS_REFUSED = /CERT|SSL|TLS|SIGNATURE|UNABLE_TO_/;

/** A download that failed because the server's certificate was refused, for callers with a better hint. */
export function isTlsRefusal(e: unknown): e is IntactError {
  return isIntactError(e) && e.code === 'FETCH_FAILED' && TLS_REFUSED.test(errorCode(e.cause) ?? '');
}

/** Turns whatever an attempt threw into a Failure that says whether to retry. */
function toFailure(e: unknown, url: string): Failure {
  if (e instanceof Failure) return e;
  if (isIntactError(e)) {
    const { code, message, hint, expected, found } = e;
    return new Failure(code, message, { url: e.url ?? url, hint, expected, found, cause: e.cause }, false);
  }
  if (e instanceof IdleTimeoutError) {
    return slowFailure('FETCH_TIMEOUT', `GET ${url} timed out: ${e.message}.`, { url, hint: HINT.slow });
  }
  const code = errorCode(e);
  const fail = (message: string, hint: string, again: boolean): Failure =>
    new Failure('FETCH_FAILED', `GET ${url} failed: ${message}.`, { url, hint, cause: e }, again);
  if (code !== undefined && code in UNDICI_TIMEOUTS) {
    return retryable('FETCH_TIMEOUT', `GET ${url} timed out: ${UNDICI_TIMEOUTS[code]}.`, { url, hint: HINT.slow, cause: e });
  }
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    const message = `${url} sent a body that disagrees with its Content-Length.`;
    return retryable('LENGTH_MISMATCH', message, { url, hint: HINT.truncated, cause: e });
  }
  if (code === 'ENOTFOUND') return fail('the host name does not resolve', HINT.dns, false);
  if (code !== undefined && TLS_REFUSED.test(code)) {
    return fail(`the TLS connection was refused (${describe(e)})`, HINT.tls, false);
  }
  // Anything the socket, the parser or the OS reports is worth another try;
  // anything else is our own bug and would fail the same way again.
  const network = code !== undefined && (code.startsWith('UND_ERR_') || code.startsWith('HPE_') || /^E[A-Z]+$/.test(code));
  return fail(describe(e), network ? HINT.network : HINT.bug, network);
}

function abortError(signal: AbortSignal, url: string): IntactError {
  const r: unknown = signal.reason;
  if (isIntactError(r)) return r;
  return new IntactError('FETCH_ABORTED', `Downloading ${url} was cancelled.`, { url, cause: r });
}

function tooLarge(url: string, cap: number, size: string, locked: number | undefined): IntactError {
  const byLock = locked !== undefined && cap === locked;
  return new IntactError('TOO_LARGE', `${url} is larger than the ${cap}-byte ${byLock ? 'size intact.lock records' : 'limit'} (${size}).`, {
    url,
    expected: `<= ${cap} bytes`,
    found: size,
    hint: byLock ? HINT.locked : 'Check that the URL points at the intended file; if it does, raise the download size limit.',
  });
}

/** A response's strong ETag, else its Last-Modified: what If-Range sends back. */
function validatorOf(h: ResponseHeaders): string | undefined {
  const etag = one(h.etag);
  return etag !== undefined && !etag.startsWith('W/') ? etag : one(h['last-modified']);
}

function errorCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = errorCode(e);
  return code !== undefined && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
