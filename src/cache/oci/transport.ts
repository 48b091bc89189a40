// One HTTP request to a registry, any method, over undici's dispatch API with a
// response body that never pauses (shared TRAPS.md #1; the same pattern as
// src/fetch/http-exchange.ts, which is GET-only). Responses here are small (a
// manifest, a token, an error document) and are kept in memory up to a cap that
// is enforced while they stream (defence in depth: a registry may send a
// manifest of any size). Large blob downloads go through src/fetch/http.ts.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { IntactError } from '../../errors.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Headers = Record<string, string | string[] | undefined>;

export interface Request {
  method: Method;
  url: URL;
  headers: Record<string, string>;
  /** A buffer, or a factory of a fresh stream (so that a retry can send it again). */
  body?: Buffer | (() => Readable);
  /** Response bodies larger than this fail with CACHE_TOO_LARGE. */
  maxBody: number;
  idleTimeoutMs: number;
  signal: AbortSignal;
  /** What the body is, for the too-large message. */
  what?: string;
}

export interface Response {
  status: number;
  headers: Headers;
  body: Buffer;
}

export class IdleError extends Error {
  readonly code = 'INTACT_IDLE_TIMEOUT';
}

export function header(h: Headers, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function send(dispatcher: Dispatcher, r: Request): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let headers: Headers = {};
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;

    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      r.signal.removeEventListener('abort', onAbort);
      if (err === undefined && status !== 0) resolve({ status, headers, body: Buffer.concat(chunks) });
      else reject(err ?? new Error('the response ended before its headers'));
    };
    const stop = (err: Error): void => {
      settle(err);
      controller?.abort(err);
    };
    const onAbort = (): void => stop(r.signal.reason instanceof Error ? r.signal.reason : new Error(String(r.signal.reason)));
    if (r.signal.aborted) {
      reject(r.signal.reason);
      return;
    }
    r.signal.addEventListener('abort', onAbort, { once: true });
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => stop(new IdleError(`no data from ${r.url.host} for ${r.idleTimeoutMs} ms`)), r.idleTimeoutMs);
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (settled) c.abort(new Error('request no longer wanted'));
        else arm();
      },
      onResponseStart(c, code, h) {
        controller = c;
        if (settled || code < 200) return;
        arm();
        status = code;
        headers = h as Headers;
        const length = Number(header(headers, 'content-length'));
        if (Number.isFinite(length) && length > r.maxBody && r.method !== 'HEAD') stop(tooLarge(r, `${length} bytes announced`));
      },
      onResponseData(_c, chunk) {
        if (settled) return;
        arm();
        bytes += chunk.length;
        if (bytes > r.maxBody) return stop(tooLarge(r, 'more than that'));
        chunks.push(chunk);
      },
      onResponseEnd() {
        settle();
      },
      onResponseError(_c, err) {
        settle(err);
      },
    };
    try {
      const body = r.body === undefined ? null : Buffer.isBuffer(r.body) ? r.body : r.body();
      dispatcher.dispatch(
        { origin: r.url.origin, path: r.url.pathname + r.url.search, method: r.method, headers: r.headers, body, headersTimeout: 0, bodyTimeout: 0 },
        handler,
      );
    } catch (e) {
      settle(e);
    }
  });
}

function tooLarge(r: Request, found: string): IntactError {
  return new IntactError('CACHE_TOO_LARGE', `${r.what ?? `the response to ${r.method} ${r.url.pathname}`} from ${r.url.host} is larger than the ${r.maxBody}-byte limit (${found})`, {
    url: r.url.href,
    expected: `<= ${r.maxBody} bytes`,
    found,
    hint: 'an intact manifest or metadata document is a few KiB; the registry (or something in front of it) sent something else',
  });
}
