// Registry authentication as docker and oras do it: send the request; on 401,
// read `WWW-Authenticate`. `Bearer realm=…,service=…,scope=…` means: ask the
// realm (the token endpoint) for a token for these scopes, with basic
// credentials if we have some (anonymous otherwise: public repositories), or
// with an OAuth2 refresh token (docker's identitytoken) by POST; then send the
// request again with `Authorization: Bearer <token>`. `Basic realm=…` means:
// send the credentials themselves. Tokens are cached per scope set until they
// expire.
//
// Defence in depth: credentials never go to a realm over plain http unless the
// realm is on loopback, and never to a realm on another host when the registry
// itself is https but the realm is not.
import type { Dispatcher } from 'undici';
import { IntactError } from '../../errors.js';
import type { CredentialLookup, Credentials } from './credentials.js';
import { send, type Headers } from './transport.js';
import { isLoopback } from '../ref.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** RFC 7235 challenges: `Scheme k="v", k2=v2, Scheme2 …` (quoted values may hold commas). */
export function parseChallenges(value: string): Challenge[] {
  const out: Challenge[] = [];
  const re = /\s*,?\s*(?:([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)|([A-Za-z][A-Za-z0-9_.-]*))/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < value.length && (m = re.exec(value)) !== null) {
    if (m[3] !== undefined) {
      out.push({ scheme: m[3].toLowerCase(), params: {} });
    } else if (m[1] !== undefined && out.length > 0) {
      const v = m[2] ?? '';
      out[out.length - 1]!.params[m[1].toLowerCase()] = v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
    }
    if (m[0] === '') break;
  }
  return out;
}

interface Token {
  value: string;
  expiresAt: number;
}

const MAX_TOKEN_RESPONSE = 64 * 1024;

export class Authenticator {
  readonly #host: string;
  readonly #secure: boolean;
  readonly #lookup: CredentialLookup;
  readonly #dispatcher: Dispatcher;
  readonly #tokens = new Map<string, Token>();
  #basic: string | undefined;
  #creds: Promise<Credentials | undefined> | undefined;

  constructor(opts: { host: string; secure: boolean; lookup: CredentialLookup; dispatcher: Dispatcher }) {
    this.#host = opts.host;
    this.#secure = opts.secure;
    this.#lookup = opts.lookup;
    this.#dispatcher = opts.dispatcher;
  }

  #credentials(): Promise<Credentials | undefined> {
    this.#creds ??= this.#lookup(this.#host);
    return this.#creds;
  }

  /** The Authorization header to send for these scopes now, if any is known. */
  async header(scopes: readonly string[]): Promise<string | undefined> {
    const creds = await this.#credentials();
    if (creds?.bearer) return `Bearer ${creds.bearer}`;
    const t = this.#tokens.get(scopes.join(' '));
    if (t !== undefined && t.expiresAt > Date.now()) return `Bearer ${t.value}`;
    return this.#basic;
  }

  /** Handles a 401: gets what the challenge asks for. Throws CACHE_AUTH when it cannot. */
  async answer(headers: Headers, scopes: readonly string[], signal: AbortSignal, idleTimeoutMs: number): Promise<void> {
    const raw = headers['www-authenticate'];
    const text = Array.isArray(raw) ? raw.join(', ') : (raw ?? '');
    const challenges = parseChallenges(text);
    const creds = await this.#credentials();
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (creds?.bearer) {
      throw authError(`${this.#host} refused the token from ${creds.source}`, 'check that the token is valid, not expired, and allowed this repository');
    }
    if (bearer !== undefined) {
      await this.#fetchToken(bearer, scopes, creds, signal, idleTimeoutMs);
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (creds?.username === undefined || creds.password === undefined) {
        throw authError(`${this.#host} wants a user name and password`, 'run `docker login` for it, or set INTACT_REGISTRY_USER and INTACT_REGISTRY_PASSWORD');
      }
      if (this.#basic !== undefined)
        throw authError(`${this.#host} refused the credentials from ${creds.source}`, 'check the user name and password (docker login again)');
      this.#basic = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      return;
    }
    throw authError(
      `${this.#host} answered 401 without a challenge intact understands (${text.slice(0, 80) || 'none'})`,
      'intact speaks Bearer (token) and Basic authentication',
    );
  }

  async #fetchToken(c: Challenge, scopes: readonly string[], creds: Credentials | undefined, signal: AbortSignal, idleTimeoutMs: number): Promise<void> {
    const realm = c.params['realm'];
    let url: URL;
    try {
      url = new URL(realm ?? '');
    } catch {
      throw authError(`${this.#host} names an invalid token endpoint (${String(realm).slice(0, 100)})`, 'the registry is misconfigured');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw authError(`${this.#host}'s token endpoint is not http(s)`, 'the registry is misconfigured');
    const plain = url.protocol === 'http:' && !isLoopback(url.hostname);
    const hasSecret = creds?.password !== undefined || creds?.identityToken !== undefined;
    if (hasSecret && (plain || (this.#secure && url.protocol === 'http:'))) {
      throw authError(`refusing to send credentials to ${url.origin} over plain http`, "the registry's token endpoint must be https");
    }
    const wanted = [...new Set([...scopes, ...(c.params['scope'] ?? '').split(' ').filter((s) => s !== '')])];
    const service = c.params['service'];
    const headers: Record<string, string> = { 'user-agent': 'intact', accept: 'application/json' };
    let method: 'GET' | 'POST' = 'GET';
    let body: Buffer | undefined;
    if (creds?.identityToken !== undefined) {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'intact' });
      if (service !== undefined) form.set('service', service);
      if (wanted.length > 0) form.set('scope', wanted.join(' '));
      body = Buffer.from(form.toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service !== undefined) url.searchParams.set('service', service);
      for (const s of wanted) url.searchParams.append('scope', s);
      if (creds?.username !== undefined && creds.password !== undefined) {
        headers['authorization'] = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      }
    }
    let res;
    try {
      res = await send(this.#dispatcher, {
        method,
        url,
        headers,
        ...(body ? { body } : {}),
        maxBody: MAX_TOKEN_RESPONSE,
        idleTimeoutMs,
        signal,
        what: 'the token response',
      });
    } catch (e) {
      if (e instanceof IntactError) throw e;
      throw new IntactError('CACHE_UNREACHABLE', `cannot reach the token endpoint ${url.origin}${url.pathname}: ${(e as Error).message}`, {
        url: `${url.origin}${url.pathname}`,
        cause: e,
        hint: 'check the network; the registry sends clients there to log in',
      });
    }
    if (res.status === 401 || res.status === 403) {
      throw authError(
        `the token endpoint of ${this.#host} refused ${creds ? `the credentials from ${creds.source}` : 'anonymous access'} (HTTP ${res.status})`,
        creds
          ? 'check the credentials (docker login again, or INTACT_REGISTRY_USER/PASSWORD)'
          : 'this repository is private: run `docker login`, or set INTACT_REGISTRY_USER and INTACT_REGISTRY_PASSWORD',
      );
    }
    if (res.status !== 200)
      throw authError(`the token endpoint of ${this.#host} answered HTTP ${res.status}`, "try again later; the registry's login service failed");
    let v: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      v = JSON.parse(res.body.toString('utf8')) as typeof v;
    } catch {
      throw authError(`the token endpoint of ${this.#host} did not answer with JSON`, 'the registry is misconfigured');
    }
    const token = typeof v.token === 'string' && v.token !== '' ? v.token : typeof v.access_token === 'string' ? v.access_token : '';
    if (token === '') throw authError(`the token endpoint of ${this.#host} sent no token`, 'the registry is misconfigured');
    const seconds = typeof v.expires_in === 'number' && v.expires_in > 0 ? v.expires_in : 60;
    // Renew a little early: a token that expires in flight costs a 401 round trip.
    const value = { value: token, expiresAt: Date.now() + Math.max(10, seconds - 10) * 1000 };
    this.#tokens.set(scopes.join(' '), value);
  }
}

function authError(message: string, hint: string): IntactError {
  return new IntactError('CACHE_AUTH', message, { hint });
}
