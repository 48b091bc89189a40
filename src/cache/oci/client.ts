// A client for one repository on an OCI Distribution registry: the few calls a
// binary cache needs (manifests by tag, blobs by digest, uploads), each with
// authentication (auth.ts), bounded retries of 429/5xx and network errors
// (honouring Retry-After, but never waiting long: a cache that is slow to answer
// is worth less than building), and strict sizes. Blob downloads stream through
// src/fetch/http.ts (resume with Range, no pausing body, total deadline), and
// their sha256 is checked while they stream.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { IntactError, isIntactError } from '../../errors.js';
import { backoffDelay, parseRetryAfter, REDIRECT_STATUSES } from '../../fetch/http-policy.js';
import type { ByteSink, FetchLimits, FetchProgress } from '../../fetch/types.js';
import { MANIFEST_MEDIA_TYPE, MAX_MANIFEST_BYTES } from '../artifact.js';
import { renderRef, type RegistryRef } from '../ref.js';
import { Authenticator } from './auth.js';
import type { CredentialLookup } from './credentials.js';
import { header, send, type Method, type Response } from './transport.js';

export interface ClientLimits {
  /** Further attempts after a 429, a 5xx or a network error. */
  retries: number;
  backoffMs: number;
  /** A Retry-After longer than this is not waited for: the call fails (and install builds). */
  maxRetryWaitMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Blobs up to this size are uploaded in one PUT; larger ones in PATCH chunks of chunkBytes. */
  monolithicMaxBytes: number;
  chunkBytes: number;
  /** A whole blob download must finish within this. */
  blobTimeoutMs: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  retries: 2,
  backoffMs: 300,
  maxRetryWaitMs: 10_000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  monolithicMaxBytes: 32 * 1024 * 1024,
  chunkBytes: 16 * 1024 * 1024,
  blobTimeoutMs: 30 * 60_000,
};

export interface ClientOptions {
  lookup: CredentialLookup;
  limits?: Partial<ClientLimits>;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?: FetchProgress;
}

interface Call {
  method: Method;
  url: URL;
  scopes: readonly string[];
  headers?: Record<string, string>;
  body?: Buffer | (() => import('node:stream').Readable);
  maxBody?: number;
  /** Statuses that are answers, not failures. */
  ok: readonly number[];
  /** Override of limits.retries (uploads restart whole sessions instead). */
  retries?: number;
  what: string;
}

const SMALL = 64 * 1024;

export class RegistryClient {
  readonly ref: RegistryRef;
  readonly limits: ClientLimits;
  readonly #dispatcher: Promise<Dispatcher>;
  readonly #auth: Promise<Authenticator>;
  readonly #opts: ClientOptions;
  readonly #signal: AbortSignal;

  constructor(ref: RegistryRef, opts: ClientOptions) {
    this.ref = ref;
    this.#opts = opts;
    this.limits = { ...DEFAULT_CLIENT_LIMITS, ...opts.limits };
    this.#signal = opts.signal ?? new AbortController().signal;
    // One pool for every request to this registry, blob downloads included, so
    // that the parts of an archive do not each pay for a new connection.
    this.#dispatcher = import('../../fetch/agent.js').then(({ makeAgent }) =>
      makeAgent({ env: opts.env ?? process.env, connectTimeoutMs: this.limits.connectTimeoutMs }),
    );
    this.#auth = this.#dispatcher.then((dispatcher) => new Authenticator({ host: ref.host, secure: !ref.insecure, lookup: opts.lookup, dispatcher }));
  }

  get name(): string {
    return renderRef(this.ref);
  }

  async close(): Promise<void> {
    await (await this.#dispatcher).destroy().catch(() => undefined);
  }

  url(path: string): URL {
    return new URL(`${this.ref.origin}/v2/${this.ref.repository}/${path}`);
  }

  scope(actions: 'pull' | 'pull,push', repository = this.ref.repository): string {
    return `repository:${repository}:${actions}`;
  }

  /** The manifest tagged `tag`, or undefined when there is none (404). Verified against the digest the registry reports. */
  async getManifest(tag: string): Promise<{ bytes: Buffer; digest: string } | undefined> {
    const res = await this.call({
      method: 'GET',
      url: this.url(`manifests/${tag}`),
      scopes: [this.scope('pull')],
      headers: { accept: MANIFEST_MEDIA_TYPE },
      maxBody: MAX_MANIFEST_BYTES,
      ok: [200, 404],
      what: `the manifest ${this.name}:${tag}`,
    });
    if (res.status === 404) return undefined;
    const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    const claimed = header(res.headers, 'docker-content-digest');
    // Defence in depth: trust comes from the signature, but a registry that lies about digests is worth naming.
    if (claimed?.startsWith('sha256:') && claimed !== digest) {
      throw new IntactError('CACHE_DIGEST_MISMATCH', `the manifest ${this.name}:${tag} does not match the digest the registry gives for it`, {
        expected: claimed,
        found: digest,
        url: this.url(`manifests/${tag}`).href,
        hint: 'the registry or something in front of it changed the bytes; do not trust it',
      });
    }
    return { bytes: res.body, digest };
  }

  async putManifest(tag: string, bytes: Buffer): Promise<void> {
    await this.call({
      method: 'PUT',
      url: this.url(`manifests/${tag}`),
      scopes: [this.scope('pull,push')],
      headers: { 'content-type': MANIFEST_MEDIA_TYPE },
      body: bytes,
      ok: [201, 200],
      what: `the manifest ${this.name}:${tag}`,
    });
  }

  /** Whether `repository` (default: ours) has the blob. */
  async hasBlob(
    digest: string,
    repository = this.ref.repository,
    actions: 'pull' | 'pull,push' = repository === this.ref.repository ? 'pull,push' : 'pull',
  ): Promise<boolean> {
    const url = new URL(`${this.ref.origin}/v2/${repository}/blobs/${digest}`);
    const res = await this.call({ method: 'HEAD', url, scopes: [this.scope(actions, repository)], ok: [200, 404, 307], what: `the blob ${digest}` });
    return res.status !== 404;
  }

  /** A small blob (metadata) in memory, its bytes verified against `digest` and `size`. */
  async getSmallBlob(digest: string, size: number, max: number): Promise<Buffer> {
    if (size > max)
      throw new IntactError('CACHE_TOO_LARGE', `the blob ${digest} is ${size} bytes, over the ${max}-byte limit`, {
        hint: 'an intact metadata document is a few KiB',
      });
    const res = await this.call({
      method: 'GET',
      url: this.url(`blobs/${digest}`),
      scopes: [this.scope('pull')],
      maxBody: max,
      ok: [200],
      what: `the blob ${digest}`,
    });
    const got = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    if (got !== digest || res.body.length !== size) throw digestMismatch(this.name, this.url(`blobs/${digest}`).href, digest, got, size, res.body.length);
    return res.body;
  }

  /**
   * Streams a blob into `sink`, checking its size and sha256 as it streams
   * (via src/fetch/http.ts: Range resume after a cut connection, total deadline).
   * `signal` stops this download alone.
   */
  async downloadBlob(digest: string, size: number, sink: ByteSink, id: string, onEvent = this.#opts.onEvent, signal?: AbortSignal): Promise<void> {
    const { download } = await import('../../fetch/http.js');
    const url = this.url(`blobs/${digest}`).href;
    const scopes = [this.scope('pull')];
    const limits: FetchLimits = {
      maxBytes: size,
      connectTimeoutMs: this.limits.connectTimeoutMs,
      idleTimeoutMs: this.limits.idleTimeoutMs,
      totalTimeoutMs: this.limits.blobTimeoutMs,
      retries: this.limits.retries,
      backoffMs: this.limits.backoffMs,
      maxRedirects: 5,
    };
    const hashing = new HashingSink(sink);
    for (let attempt = 0; ; attempt++) {
      const auth = await (await this.#auth).header(scopes);
      try {
        await download(url, hashing, {
          limits,
          signal: signal ? AbortSignal.any([this.#signal, signal]) : this.#signal,
          headers: { 'user-agent': 'intact', ...(auth ? { authorization: auth } : {}) },
          id,
          dispatcher: await this.#dispatcher,
          ...(onEvent ? { onEvent } : {}),
        });
        break;
      } catch (e) {
        // A token that expired in flight (or none yet): authenticate through a HEAD, once.
        if (attempt === 0 && isIntactError(e) && e.code === 'HTTP_STATUS' && e.found === '401') {
          hashing.reset();
          await this.hasBlob(digest, this.ref.repository, 'pull');
          continue;
        }
        throw this.#fromFetch(e, `the blob ${digest}`);
      }
    }
    const got = hashing.digest();
    if (hashing.bytes !== size || got !== digest) throw digestMismatch(this.name, url, digest, got, size, hashing.bytes);
  }

  /** Starts an upload session, mounting from `from` when given. 'mounted' when the registry mounted the blob. */
  async startUpload(digest: string, from?: string): Promise<'mounted' | URL> {
    const url = this.url('blobs/uploads/');
    const scopes = [this.scope('pull,push')];
    if (from !== undefined && from !== this.ref.repository) {
      url.searchParams.set('mount', digest);
      url.searchParams.set('from', from);
      scopes.push(this.scope('pull', from));
    }
    const res = await this.call({
      method: 'POST',
      url,
      scopes,
      headers: { 'content-length': '0' },
      body: Buffer.alloc(0),
      ok: [201, 202],
      retries: 0,
      what: `an upload of ${digest}`,
    });
    if (res.status === 201) return 'mounted';
    return this.location(res, 'the upload session');
  }

  /** One PUT with the whole blob; `body` opens a fresh stream of it. */
  async putBlob(session: URL, digest: string, size: number, body: () => import('node:stream').Readable): Promise<void> {
    const url = new URL(session);
    url.searchParams.set('digest', digest);
    await this.call({
      method: 'PUT',
      url,
      scopes: [this.scope('pull,push')],
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
      ok: [201, 204],
      retries: 0,
      what: `the upload of ${digest}`,
    });
  }

  /** PATCH one chunk at `start`; returns the session's next URL. */
  async patchChunk(session: URL, start: number, length: number, body: () => import('node:stream').Readable): Promise<URL> {
    const res = await this.call({
      method: 'PATCH',
      url: session,
      scopes: [this.scope('pull,push')],
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(length), 'content-range': `${start}-${start + length - 1}` },
      body,
      ok: [202],
      retries: 0,
      what: `a chunk of an upload (bytes ${start}-${start + length - 1})`,
    });
    return this.location(res, 'the upload session');
  }

  /** Closes a chunked session with the digest of everything sent. */
  async finishUpload(session: URL, digest: string): Promise<void> {
    const url = new URL(session);
    url.searchParams.set('digest', digest);
    await this.call({
      method: 'PUT',
      url,
      scopes: [this.scope('pull,push')],
      headers: { 'content-length': '0' },
      body: Buffer.alloc(0),
      ok: [201, 204],
      retries: 0,
      what: `the end of the upload of ${digest}`,
    });
  }

  location(res: Response, what: string): URL {
    const loc = header(res.headers, 'location');
    if (loc === undefined || loc === '')
      throw new IntactError('CACHE_REGISTRY', `${this.name} opened ${what} without a Location`, { hint: 'the registry does not follow the distribution spec' });
    const u = new URL(loc, this.ref.origin);
    // Defence in depth: an upload goes to the registry we were given, not wherever it points.
    if (u.origin !== this.ref.origin)
      throw new IntactError('CACHE_REGISTRY', `${this.name} sent ${what} to another origin (${u.origin})`, {
        hint: 'intact uploads only to the registry named in the reference',
      });
    return u;
  }

  /** One call: authentication on 401, retries on 429/5xx/network errors, GET redirects. */
  async call(c: Call): Promise<Response> {
    const auth = await this.#auth;
    const dispatcher = await this.#dispatcher;
    const retries = c.retries ?? this.limits.retries;
    let answered = false;
    let url = c.url;
    let hops = 0;
    for (let attempt = 0; ; ) {
      this.#signal.throwIfAborted();
      const headers: Record<string, string> = { 'user-agent': 'intact', ...c.headers };
      const a = await auth.header(c.scopes);
      if (a !== undefined && url.origin === c.url.origin) headers['authorization'] = a;
      let res: Response;
      try {
        res = await send(dispatcher, {
          method: c.method,
          url,
          headers,
          ...(c.body !== undefined ? { body: c.body } : {}),
          maxBody: c.maxBody ?? SMALL,
          idleTimeoutMs: this.limits.idleTimeoutMs,
          signal: this.#signal,
          what: c.what,
        });
      } catch (e) {
        if (this.#signal.aborted) throw this.#signal.reason;
        if (isIntactError(e)) throw e;
        if (++attempt <= retries) {
          await this.#wait(backoffDelay(attempt, this.limits.backoffMs), c, describe(e), attempt);
          continue;
        }
        throw new IntactError('CACHE_UNREACHABLE', `${this.name} is unreachable (${c.method} ${c.what}): ${describe(e)}`, {
          url: url.href,
          cause: e,
          hint: this.#unreachableHint(e),
        });
      }
      if (c.ok.includes(res.status)) return res;
      if (res.status === 401 && !answered) {
        answered = true;
        await auth.answer(res.headers, c.scopes, this.#signal, this.limits.idleTimeoutMs);
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        throw new IntactError('CACHE_AUTH', `${this.name} refused ${c.method} ${c.what} (HTTP ${res.status}${registryError(res)})`, {
          url: url.href,
          hint:
            res.status === 403
              ? 'the credentials are valid but may not do this (push needs write access to the repository)'
              : 'log in with `docker login`, or set INTACT_REGISTRY_USER/INTACT_REGISTRY_PASSWORD (or INTACT_REGISTRY_TOKEN)',
        });
      }
      if ((c.method === 'GET' || c.method === 'HEAD') && REDIRECT_STATUSES.has(res.status) && hops < 5) {
        const loc = header(res.headers, 'location');
        if (loc) {
          const next = new URL(loc, url);
          if (url.protocol === 'https:' && next.protocol !== 'https:')
            throw new IntactError('CACHE_REGISTRY', `${this.name} redirected ${c.what} from https to ${next.protocol}`, {
              url: url.href,
              hint: 'intact never downgrades to plain http',
            });
          hops++;
          // Credentials stay with the registry's origin (see the header above).
          url = next;
          continue;
        }
      }
      if (res.status === 429 || res.status >= 500) attempt++;
      if ((res.status === 429 || res.status >= 500) && attempt <= retries) {
        const after = parseRetryAfter(header(res.headers, 'retry-after'));
        if (after !== undefined && after > this.limits.maxRetryWaitMs) {
          throw new IntactError('CACHE_REGISTRY', `${this.name} asks to wait ${Math.round(after / 1000)} s before ${c.what} (HTTP ${res.status})`, {
            url: url.href,
            hint: 'the registry is rate-limiting or overloaded; try later',
          });
        }
        await this.#wait(after ?? backoffDelay(attempt, this.limits.backoffMs), c, `HTTP ${res.status}`, attempt);
        continue;
      }
      throw new IntactError(
        'CACHE_REGISTRY',
        `${this.name} answered HTTP ${res.status} to ${c.method} ${c.what}${registryError(res)}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`,
        {
          url: url.href,
          found: String(res.status),
          hint:
            res.status === 429
              ? 'the registry is rate-limiting; try later'
              : res.status >= 500
                ? 'the registry failed; try later'
                : 'the registry refused the request; check the reference',
        },
      );
    }
  }

  async #wait(ms: number, c: Call, reason: string, attempt: number): Promise<void> {
    this.#opts.onEvent?.({ type: 'retry', id: `${this.name} ${c.what}`, url: c.url.href, attempt: attempt + 1, reason, delayMs: ms });
    try {
      await sleep(ms, undefined, { signal: this.#signal });
    } catch {
      throw this.#signal.reason;
    }
  }

  #unreachableHint(e: unknown): string {
    // A reference without a scheme means https; a local registry often speaks plain http.
    if (!this.ref.insecure && errorCode(e) === 'ERR_SSL_WRONG_VERSION_NUMBER') {
      return `${this.ref.host} answers plain http, not https: write the reference as http://${this.ref.host}/${this.ref.repository} (plain http is allowed for loopback and for hosts under cache.insecure-registries)`;
    }
    return 'check the network and the registry address; install builds from source meanwhile';
  }

  #fromFetch(e: unknown, what: string): unknown {
    if (!isIntactError(e)) return e;
    if (e.code === 'HTTP_STATUS' && (e.found === '401' || e.found === '403')) {
      return new IntactError('CACHE_AUTH', `${this.name} refused ${what} (HTTP ${e.found})`, { url: e.url, hint: 'check the credentials for this registry' });
    }
    if (e.code === 'FETCH_FAILED' || e.code === 'FETCH_TIMEOUT' || e.code === 'LENGTH_MISMATCH') {
      return new IntactError('CACHE_UNREACHABLE', `${this.name}: ${what} could not be downloaded: ${e.message}`, {
        url: e.url,
        cause: e,
        hint: 'the registry went away or the connection broke; install builds from source meanwhile',
      });
    }
    if (e.code === 'HTTP_STATUS') return new IntactError('CACHE_REGISTRY', e.message, { url: e.url, found: e.found, hint: e.hint });
    return e;
  }
}

/** The first error of a distribution error document, briefly. */
function registryError(res: Response): string {
  try {
    const v = JSON.parse(res.body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const e = v.errors?.[0];
    if (e?.code) return `: ${e.code}${e.message ? ` ${String(e.message).slice(0, 120)}` : ''}`;
  } catch {
    // not a distribution error document
  }
  return '';
}

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describe(e: unknown): string {
  const code = errorCode(e);
  // OpenSSL's messages are multi-line internals; its code says it all.
  if (code?.startsWith('ERR_SSL_')) return `the TLS handshake failed (${code})`;
  const msg = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  return code !== undefined && !msg.includes(code) ? `${msg} (${code})` : msg;
}

function digestMismatch(registry: string, url: string, expected: string, found: string, size: number, got: number): IntactError {
  return new IntactError('CACHE_DIGEST_MISMATCH', `${registry}: the blob's bytes do not match its digest (${got} of ${size} bytes)`, {
    url,
    expected,
    found,
    hint: "the registry's storage or something in front of it changed the bytes; nothing was added to the store",
  });
}

/** Passes bytes on while hashing them; resets with the sink (a retry that cannot resume). */
class HashingSink implements ByteSink {
  #hash = createHash('sha256');
  constructor(private readonly inner: ByteSink) {}
  get bytes(): number {
    return this.inner.bytes;
  }
  write(chunk: Uint8Array): void {
    this.inner.write(chunk);
    this.#hash.update(chunk);
  }
  reset(): void {
    this.inner.reset();
    this.#hash = createHash('sha256');
  }
  digest(): string {
    return `sha256:${this.#hash.digest('hex')}`;
  }
}
