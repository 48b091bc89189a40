// One HTTP request/response over undici's low-level dispatch API, with a body
// that can never pause.
//
// Why not request() and a body stream: undici 7 on Node 20 dies with an
// uncatchable `assert(!this.paused)` when a Connection: close response ends while
// the parser is paused under backpressure (docs/measured.md §1). A dispatch
// handler receives each chunk synchronously from the parser and never calls
// pause(), so there is no buffer and no moment in which the parser is paused.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface ExchangeResult {
  status: number;
  headers: ResponseHeaders;
}

/** Consumes one body chunk, synchronously. Throwing aborts the request. */
export type ChunkConsumer = (chunk: Buffer) => void;

/** Nothing arrived for idleTimeoutMs (before or after the headers). */
export class IdleTimeoutError extends Error {
  readonly code = 'INTACT_IDLE_TIMEOUT';
  constructor(
    readonly afterHeaders: boolean,
    readonly idleTimeoutMs: number,
  ) {
    super(afterHeaders ? `the server sent nothing for ${idleTimeoutMs} ms` : `no response within ${idleTimeoutMs} ms`);
  }
}

export interface ExchangeOptions {
  dispatcher: Dispatcher;
  target: URL;
  /** GET unless said otherwise. */
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The request body (a stream is sent once: a retry needs a fresh one). */
  body?: Buffer | Readable;
  headers: Record<string, string>;
  idleTimeoutMs: number;
  signal: AbortSignal;
  /**
   * Sees the final status and headers; returns a consumer for the body, or null
   * when the body is not wanted (redirects, errors: the request is then aborted).
   */
  onStart(status: number, headers: ResponseHeaders): ChunkConsumer | null;
}

/**
 * Sends the request and resolves with the status and headers once the body (if
 * wanted) has been fully consumed. Rejects with undici's error, an
 * IdleTimeoutError, the signal's reason, or whatever onStart/the consumer threw.
 *
 * The idle timer is ours rather than undici's headersTimeout/bodyTimeout: those
 * run on undici's coarse timer wheel (about a second of slack); ours is exact.
 */
export function exchange(o: ExchangeOptions): Promise<ExchangeResult> {
  const { signal } = o;
  return new Promise<ExchangeResult>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let consume: ChunkConsumer | null = null;
    let result: ExchangeResult | undefined;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;

    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      signal.removeEventListener('abort', onAbort);
      if (err === undefined && result !== undefined) resolve(result);
      else reject(err ?? new Error('the response ended before its headers'));
    };
    // Settle first, then abort: undici reports our own abort back through
    // onResponseError, which must find the promise already settled.
    const stop = (err: Error | undefined): void => {
      settle(err);
      controller?.abort(err ?? new Error('response body not needed'));
    };
    const onAbort = (): void => stop(asError(signal.reason));

    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        // Settled while still queued or connecting: nothing must reach the server.
        if (settled) {
          c.abort(new Error('request no longer wanted'));
          return;
        }
        // Connected (connectTimeout covered that); from now on silence is the limit.
        idle = setTimeout(() => stop(new IdleTimeoutError(result !== undefined, o.idleTimeoutMs)), o.idleTimeoutMs);
      },
      onResponseStart(c, status, headers) {
        controller = c;
        if (settled || status < 200) return;
        idle?.refresh();
        result = { status, headers };
        try {
          consume = o.onStart(status, headers);
        } catch (e) {
          stop(asError(e));
          return;
        }
        if (consume === null) stop(undefined);
      },
      onResponseData(_c, chunk) {
        if (settled || consume === null) return;
        idle?.refresh();
        try {
          consume(chunk);
        } catch (e) {
          stop(asError(e));
        }
      },
      onResponseEnd() {
        settle();
      },
      onResponseError(_c, err) {
        settle(err);
      },
    };

    try {
      o.dispatcher.dispatch(
        {
          origin: o.target.origin,
          path: o.target.pathname + o.target.search,
          method: o.method ?? 'GET',
          headers: o.headers,
          body: o.body ?? null,
          // Disabled: the idle timer above replaces both.
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        handler,
      );
    } catch (e) {
      settle(e);
    }
  });
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
