// A registry reference as users write it: `host[:port]/path/to/repo`, optionally
// with `http://` or `https://` in front. The tag is never part of it: intact tags
// every artifact with the entry's store key. Plain http is allowed only where
// docker allows it by default (loopback) or where the project lists the host in
// `cache.insecure-registries` (docker's allow-list): a signature protects the
// bytes either way, but not the credentials sent along.
import { isIP } from 'node:net';
import { IntactError } from '../errors.js';

export interface RegistryRef {
  /** As the user wrote it, for messages. */
  text: string;
  /** `host[:port]`, the key for credentials (docker's config.json uses the same). */
  host: string;
  /** `https://host[:port]` or `http://host[:port]`. */
  origin: string;
  /** The repository, e.g. `team/intact`. */
  repository: string;
  insecure: boolean;
}

/** Docker's repository name grammar (distribution reference): lowercase components joined by `/`. */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Parses a reference. `insecureHosts` (host or host:port) may use plain http
 * besides loopback. Throws CACHE_REF_INVALID naming what is wrong.
 */
export function parseRef(text: string, insecureHosts: readonly string[] = []): RegistryRef {
  const bad = (
    why: string,
    hint = 'write it as host[:port]/repository, e.g. registry.example.com/team/intact (http:// only for loopback or an insecure-registries host)',
  ): IntactError => new IntactError('CACHE_REF_INVALID', `${JSON.stringify(text)} is not a usable registry reference: ${why}`, { found: text, hint });
  const m = /^(?:(https?):\/\/)?([^/]+)\/(.+)$/.exec(text.trim());
  if (!m) throw bad('it needs a host and a repository path');
  const scheme = m[1] ?? 'https';
  const host = m[2]!;
  const repository = m[3]!.replace(/\/+$/, '');
  if (/[@]/.test(host))
    throw bad(
      'credentials do not belong in a reference (it is written to intact.yaml and shown in logs)',
      'give credentials through docker login, a credential helper, or INTACT_REGISTRY_USER/INTACT_REGISTRY_PASSWORD',
    );
  const hm = HOST.exec(host);
  if (!hm) throw bad(`${JSON.stringify(host)} is not a host name`);
  if (hm[1] !== undefined && (Number(hm[1]) < 1 || Number(hm[1]) > 65535)) throw bad(`port ${hm[1]} is out of range`);
  if (repository.includes(':') || repository.includes('@')) {
    throw bad('a tag or digest does not belong in it; intact tags each artifact with its store key');
  }
  const parts = repository.split('/');
  if (parts.some((p) => !COMPONENT.test(p)))
    throw bad(`the repository ${JSON.stringify(repository)} must be lowercase letters, digits and . _ - separators, joined by /`);
  if (repository.length > 255) throw bad('the repository path is longer than 255 characters');
  const hostname = host.replace(/:\d+$/, '');
  const insecure = scheme === 'http';
  if (insecure && !isLoopback(hostname) && !insecureHosts.includes(host) && !insecureHosts.includes(hostname)) {
    throw bad(
      `plain http to ${host} is refused: credentials would travel in clear text`,
      `use https, or list "${host}" under cache.insecure-registries in intact.yaml if this registry really has no TLS`,
    );
  }
  return { text: text.trim(), host, origin: `${scheme}://${host.toLowerCase()}`, repository, insecure };
}

/** `host/repository` with the scheme only when it is plain http: how references are shown. */
export function renderRef(r: RegistryRef): string {
  return `${r.insecure ? 'http://' : ''}${r.host}/${r.repository}`;
}
