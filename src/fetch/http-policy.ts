// The rules of the HTTP download path, as pure functions: which URLs and
// redirects we accept, how long to wait before a retry, how to read the headers
// that resume and size checks depend on. Kept apart from http.ts so each rule is
// tested without a socket.
import { IntactError } from '../errors.js';

/** Backoff never waits longer than this, whatever the attempt number. */
export const MAX_BACKOFF_MS = 30_000;
/** A server's Retry-After is honoured up to this. */
export const MAX_RETRY_AFTER_MS = 60_000;

export const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Parses a download URL; only http and https, and no credentials (they would end up in the lockfile). */
export function parseDownloadUrl(s: string): URL {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new IntactError('URL_INVALID', `${JSON.stringify(s)} is not a valid URL.`, {
      url: s,
      hint: 'Give an absolute http:// or https:// URL.',
    });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new IntactError('URL_INVALID', `${s} uses ${u.protocol.slice(0, -1)}, which intact does not download from.`, {
      url: s,
      hint: 'Use an http:// or https:// URL (git sources have their own `git:` field).',
    });
  }
  if (u.username !== '' || u.password !== '') {
    throw new IntactError('URL_INVALID', `${redact(u)} carries credentials in the URL.`, {
      url: redact(u),
      hint: 'Remove them: URLs are written to the lockfile. Pass credentials through headers or a proxy instead.',
    });
  }
  return u;
}

/**
 * The next hop of a redirect chain, or an error: https → http is refused (a
 * downgrade would let anyone on the path swap the bytes before we even hash
 * them, and leak headers), as are loops and chains longer than `max`.
 * `chain` holds every URL requested so far, the current one last.
 */
export function nextRedirect(chain: readonly string[], location: string | undefined, max: number): URL {
  const from = new URL(chain[chain.length - 1]!);
  const shown = (): string => chain.join(' → ');
  if (location === undefined || location === '') {
    throw new IntactError('HTTP_STATUS', `${from.href} answered with a redirect but no Location header.`, {
      url: chain[0]!,
      hint: 'The server is misconfigured; use the final URL of the file, or a mirror.',
    });
  }
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new IntactError('HTTP_STATUS', `${from.href} redirected to an invalid location ${JSON.stringify(location)}.`, {
      url: chain[0]!,
      hint: 'The server is misconfigured; use the final URL of the file, or a mirror.',
    });
  }
  to.hash = '';
  if (from.protocol === 'https:' && to.protocol === 'http:') {
    throw new IntactError('REDIRECT_INSECURE', `${from.href} redirected from https to plain http: ${to.href}.`, {
      url: chain[0]!,
      found: to.href,
      hint: 'intact never downgrades to http. Use a URL that stays on https, or a mirror.',
    });
  }
  if (to.protocol !== 'https:' && to.protocol !== 'http:') {
    throw new IntactError('REDIRECT_INSECURE', `${from.href} redirected to an unsupported scheme: ${to.href}.`, {
      url: chain[0]!,
      found: to.href,
      hint: 'Only http(s) redirects are followed. Use the final URL of the file, or a mirror.',
    });
  }
  if (chain.includes(to.href)) {
    throw new IntactError('REDIRECT_LOOP', `Redirect loop: ${shown()} → ${to.href}.`, {
      url: chain[0]!,
      hint: 'The server redirects in a circle; use the final URL of the file, or a mirror.',
    });
  }
  if (chain.length > max) {
    throw new IntactError('TOO_MANY_REDIRECTS', `More than ${max} redirects: ${shown()} → ${to.href}.`, {
      url: chain[0]!,
      hint: 'Use the final URL of the file, or raise the redirect limit.',
    });
  }
  return to;
}

/** Headers that carry credentials; they never follow a redirect to another origin. */
export function headersForHop(headers: Record<string, string>, from: URL, to: URL): Record<string, string> {
  if (from.origin === to.origin) return headers;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!['authorization', 'cookie', 'proxy-authorization'].includes(k.toLowerCase())) out[k] = v;
  }
  return out;
}

/** Delay before retry `attempt` (1 = the first retry): doubling, capped, with jitter in [½, 1]. */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const full = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (full / 2) * random());
}

/** Retry-After as delay-seconds or an HTTP-date, in ms, capped; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    // An HTTP-date always has a weekday or month name; bare numbers like "-1" are not dates.
    if (!/[A-Za-z]/.test(v)) return undefined;
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** What the user should do about a status that is not retried. */
export function statusHint(status: number): string {
  if (status === 404 || status === 410) return 'The URL is wrong or the file was removed upstream; fix the URL or add a mirror.';
  if (status === 401 || status === 403) {
    return 'The server wants credentials or refuses them; check the token or proxy credentials for this host.';
  }
  if (status === 429) return 'The server is rate-limiting; wait and try again, or use a mirror.';
  if (status >= 500) return 'The server failed; try again later or use a mirror.';
  return 'The server refused the request; check the URL.';
}

/** A `Content-Length` value, or undefined when absent or not a plain number. */
export function parseContentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

export interface ContentRange {
  start: number;
  end: number;
  /** Undefined when the server sent `*`. */
  total?: number;
}

/** `Content-Range: bytes start-end/total` of a 206 response. */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value ?? '');
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return total === undefined ? { start, end } : { start, end, total };
}

/** The URL without user:password, for messages. */
export function redact(u: URL): string {
  if (u.username === '' && u.password === '') return u.href;
  const c = new URL(u.href);
  c.username = '';
  c.password = '';
  return c.href;
}
