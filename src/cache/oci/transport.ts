// One HTTP request to a registry, any method, through src/fetch/http-exchange.ts
// (undici's dispatch API: a response body that never pauses, docs/measured.md §1;
// our own idle timer). Responses here are small (a manifest, a token, an error
// document) and are kept in memory up to a cap that is enforced while they
// stream (defence in depth: a registry may send a manifest of any size). Large
// blob downloads go through src/fetch/http.ts.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { IntactError } from '../../errors.js';
import { exchange } from '../../fetch/http-exchange.js';

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

export function header(h: Headers, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Any status is an answer (error documents are read too); network failures and timeouts reject. */
export async function send(dispatcher: Dispatcher, r: Request): Promise<Response> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : r.body();
  const res = await exchange({
    dispatcher,
    target: r.url,
    method: r.method,
    ...(body !== undefined ? { body } : {}),
    headers: r.headers,
    idleTimeoutMs: r.idleTimeoutMs,
    signal: r.signal,
    onStart: (_status, headers) => {
      const length = Number(header(headers, 'content-length'));
      if (Number.isFinite(length) && length > r.maxBody && r.method !== 'HEAD') throw tooLarge(r, `${length} bytes announced`);
      return (chunk) => {
        bytes += chunk.length;
        if (bytes > r.maxBody) throw tooLarge(r, 'more than that');
        chunks.push(chunk);
      };
    },
  });
  return { status: res.status, headers: res.headers, body: Buffer.concat(chunks) };
}

function tooLarge(r: Request, found: string): IntactError {
  return new IntactError(
    'CACHE_TOO_LARGE',
    `${r.what ?? `the response to ${r.method} ${r.url.pathname}`} from ${r.url.host} is larger than the ${r.maxBody}-byte limit (${found})`,
    {
      url: r.url.href,
      expected: `<= ${r.maxBody} bytes`,
      found,
      hint: 'an intact manifest or metadata document is a few KiB; the registry (or something in front of it) sent something else',
    },
  );
}
