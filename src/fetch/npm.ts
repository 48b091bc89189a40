// The npm source kind: `package@exact-version`, resolved against the registry the
// user configured (see npmrc.ts), so the lockfile records the spec and the bytes'
// integrity, never a registry URL, and any mirror can serve it.
//
// Resolution reads the abbreviated package document ("packument") through the
// shared download path (http.ts; undici loads lazily there), bounded in size and
// time. The tarball then goes through fetchUrl into the download cache. Trust:
// the lock's pin decides; the registry's `dist.integrity` must agree with it, and
// when it does not, the registry serves different bytes for a published version,
// which we report rather than silently re-pin.
//
// The registry's credentials go only to the registry's own origin: a packument may
// point its tarballs elsewhere (mirrors rewrite them), and a token must not follow.
// The CA set npm is configured with (`ca`/`cafile`, see npm-tls.ts) is trusted for
// every request, packument and tarball alike, wherever the tarball lives, as npm does.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import semver from 'semver';
import { IntactError, type Place } from '../errors.js';
import { classifyVersion } from '../recipe/exact.js';
import { splitSpec } from '../recipe/spec.js';
import type { DownloadCache, Ingested } from './cache.js';
import { download, isTlsRefusal } from './http.js';
import { fetchUrl } from './url.js';
import { redactUrl, type NpmConfig } from './npmrc.js';
import { untrustedHint, type RegistryTls } from './npm-tls.js';
import { parseStrongIntegrity, type HashAlgorithm } from './sri.js';
import type { ByteSink, FetchLimits, FetchProgress } from './types.js';

export interface NpmSpec {
  name: string;
  version: string;
}

/** npm's rule for package names (new packages): lower case, URL-safe, optionally scoped. */
const NPM_NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/;
const ALIAS_OR_URL = /^(?:npm|file|git|git\+[a-z]+|https?|github|link|workspace):/;

/** Parse `pkg@1.2.3` or `@scope/pkg@1.2.3`; anything but an exact version is refused. */
export function parseNpmSpec(spec: string, where: Place = {}): NpmSpec {
  const example = 'write package@version with a full version, e.g. esbuild@0.19.12 or @scope/name@1.2.3';
  if (ALIAS_OR_URL.test(spec)) {
    throw new IntactError('NPM_SPEC_INVALID', `npm spec "${spec}" is an alias or a URL, not package@version`, { ...where, hint: example, found: spec });
  }
  const parts = splitSpec(spec);
  const name = parts?.name ?? spec;
  if (!NPM_NAME.test(name) || name.length > 214) {
    throw new IntactError('NPM_SPEC_INVALID', `"${name}" is not a valid npm package name`, {
      ...where,
      hint: 'npm names are lower case letters, digits and - . _ ~, optionally scoped: @scope/name',
      found: spec,
    });
  }
  if (parts === undefined || parts.version === '') {
    throw new IntactError('NPM_SPEC_FLOATING', `npm spec "${spec}" has no version, so it would follow the registry's latest`, {
      ...where,
      hint: `pin the exact version: ${name}@<version>, e.g. ${name}@1.2.3`,
      found: spec,
    });
  }
  const verdict = classifyVersion(parts.version, 'npm');
  if (!verdict.exact) {
    throw new IntactError('NPM_SPEC_FLOATING', `npm spec "${spec}": ${verdict.reason ?? 'the version floats'}`, {
      ...where,
      hint: `${verdict.hint ?? 'write the full version'}; the exact form is ${name}@<major>.<minor>.<patch>`,
      found: spec,
    });
  }
  return { name, version: parts.version };
}

export function renderNpmSpec(s: NpmSpec): string {
  return `${s.name}@${s.version}`;
}

export interface NpmResolution extends NpmSpec {
  registry: string;
  tarballUrl: string;
  /** The registry's strong integrity for the tarball (sha512 when it has one). */
  integrity?: string;
  /** The registry's legacy sha1 (hex), for packages published before integrity existed. */
  shasum?: string;
}

export interface ResolveNpmOptions {
  limits: FetchLimits;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** A packument is JSON text; beyond this it is not one we want to hold in memory. */
const MAX_PACKUMENT_BYTES = 64 * 1024 * 1024;
const ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

/** Look up where the registry serves `spec`'s tarball and what it says its hash is. */
export async function resolveNpm(spec: string | NpmSpec, cfg: NpmConfig, opts: ResolveNpmOptions): Promise<NpmResolution> {
  const { name, version } = typeof spec === 'string' ? parseNpmSpec(spec) : spec;
  const registry = cfg.registryFor(name);
  const url = registry + name.replace('/', '%2f');
  const doc = await getPackument(url, name, cfg, opts);

  const versions = doc.versions;
  const entry = isObject(versions) ? versions[version] : undefined;
  if (!isObject(entry)) {
    const published = isObject(versions) ? Object.keys(versions) : [];
    const nearest = nearestVersions(published, version);
    throw new IntactError(
      'NPM_VERSION_NOT_FOUND',
      `${name}@${version} is not published on ${redactUrl(registry)}` +
        (nearest.length > 0 ? `; nearest versions: ${nearest.join(', ')}` : '; it has no published versions'),
      {
        url: redactUrl(url),
        hint:
          nearest.length > 0
            ? `pick a published version, e.g. ${name}@${closest(nearest, version) ?? nearest[0]}`
            : 'check the package name and the configured registry',
        found: version,
      },
    );
  }
  const dist = entry.dist;
  const tarball = isObject(dist) ? dist.tarball : undefined;
  if (typeof tarball !== 'string' || !/^https?:\/\//i.test(tarball)) {
    throw packumentInvalid(url, `${name}@${version} has no http(s) dist.tarball`);
  }
  const res: NpmResolution = { name, version, registry, tarballUrl: tarball };
  const integrity = strongestIntegrity(isObject(dist) ? dist.integrity : undefined);
  if (integrity !== undefined) res.integrity = integrity;
  const shasum = isObject(dist) ? dist.shasum : undefined;
  if (typeof shasum === 'string' && /^[0-9a-f]{40}$/i.test(shasum)) res.shasum = shasum.toLowerCase();
  return res;
}

export interface FetchNpmOptions extends ResolveNpmOptions {
  /** The lock's pin; when the cache holds these bytes, the registry is not asked. */
  expected?: string;
  cfg: NpmConfig;
  onEvent?: FetchProgress;
  id?: string;
}

export interface NpmFetched extends Ingested {
  name: string;
  version: string;
  /** Where the bytes came from; absent when they came from the cache without asking. */
  tarballUrl?: string;
}

/**
 * Fetch an npm package's tarball into the cache, verified; `integrity` is sha512.
 * With a pin whose bytes are in the cache, the registry is not asked at all, so a
 * warm cache installs offline.
 */
export async function fetchNpm(spec: string, cache: DownloadCache, opts: FetchNpmOptions): Promise<NpmFetched> {
  const parsed = parseNpmSpec(spec);
  const what = `npm package ${renderNpmSpec(parsed)}`;
  const id = opts.id ?? renderNpmSpec(parsed);
  const signal = opts.signal ? { signal: opts.signal } : {};

  if (opts.expected !== undefined && (await cache.has(opts.expected))) {
    // ingest re-hashes the entry; a damaged one reaches the producer, and we go to the registry.
    const hit = await cache
      .ingest({ expected: opts.expected, algorithm: 'sha512', what, ...signal }, () => Promise.reject(new CacheMiss()))
      .catch((e: unknown) => {
        if (e instanceof CacheMiss) return undefined;
        throw e;
      });
    if (hit !== undefined) {
      opts.onEvent?.({ type: 'done', id, bytes: hit.bytes, cached: true });
      return { ...hit, name: parsed.name, version: parsed.version };
    }
  }

  const resolved = await resolveNpm(parsed, opts.cfg, opts);
  if (opts.expected !== undefined) assertAgrees(resolved, opts.expected, opts.expected);
  const expected = opts.expected ?? resolved.integrity;
  const tls = await opts.cfg.tls();
  let got: Ingested;
  try {
    got = await fetchUrl([resolved.tarballUrl], cache, {
      ...(expected !== undefined ? { expected } : {}),
      algorithm: 'sha512',
      limits: opts.limits,
      headers: tarballAuth(resolved, opts.cfg),
      id,
      ...signal,
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      ...(tls.ca ? { ca: tls.ca } : {}),
    });
  } catch (e) {
    if (isTlsRefusal(e)) throw new IntactError(e.code, e.message, { ...(e.url !== undefined ? { url: e.url } : {}), cause: e, hint: untrustedHint(tls) });
    // No pin yet: the only claim the bytes failed is the registry's own.
    if (opts.expected === undefined && e instanceof IntactError && e.code === 'INTEGRITY_MISMATCH') {
      throw new IntactError('NPM_INTEGRITY_CHANGED', `${what} from ${redactUrl(resolved.tarballUrl)} does not match the registry's dist.integrity`, {
        url: redactUrl(resolved.tarballUrl),
        ...(e.expected !== undefined ? { expected: e.expected } : {}),
        ...(e.found !== undefined ? { found: e.found } : {}),
        cause: e,
        hint: 'a mirror or proxy may serve different bytes than the registry lists; check the configured registry',
      });
    }
    throw e;
  }
  // The pin and the registry's claim may use different algorithms; the cache computed sha512 too.
  assertAgrees(resolved, got.integrity, opts.expected ?? got.integrity);
  if (resolved.integrity === undefined && resolved.shasum !== undefined) await checkShasum(resolved, got.path);
  return { ...got, name: parsed.name, version: parsed.version, tarballUrl: resolved.tarballUrl };
}

class CacheMiss extends Error {}

/** When the registry's integrity and ours use the same algorithm, they must be equal. */
function assertAgrees(r: NpmResolution, ours: string, pin: string): void {
  if (r.integrity === undefined) return;
  const theirs = parseStrongIntegrity(r.integrity);
  const mine = parseStrongIntegrity(ours);
  if (theirs.algorithm !== mine.algorithm || theirs.digest === mine.digest) return;
  throw new IntactError(
    'NPM_INTEGRITY_CHANGED',
    `the registry now serves different bytes for ${r.name}@${r.version} than the lock pins: it says ${r.integrity}, the lock has ${pin}`,
    {
      url: redactUrl(r.tarballUrl),
      expected: pin,
      found: r.integrity,
      hint:
        'a published npm version must never change. Suspect the registry or mirror (check with its operators) before ' +
        'anything else; re-pin with `intact lock` only once you know why the bytes changed',
    },
  );
}

/** Old packages carry only sha1; too weak to pin, still worth checking the transfer against. */
async function checkShasum(r: NpmResolution, path: string): Promise<void> {
  const h = createHash('sha1');
  const hashing = new Writable({
    write(chunk: Buffer, _encoding, done) {
      h.update(chunk);
      done();
    },
  });
  await pipeline(createReadStream(path), hashing);
  const found = h.digest('hex');
  if (found !== r.shasum) {
    throw new IntactError('NPM_INTEGRITY_CHANGED', `${r.name}@${r.version} from ${redactUrl(r.tarballUrl)} does not match the registry's shasum`, {
      url: redactUrl(r.tarballUrl),
      expected: `sha1:${r.shasum}`,
      found: `sha1:${found}`,
      hint: 'a mirror may serve different bytes than the registry lists; check the configured registry',
    });
  }
}

/**
 * The registry's credentials go only to the registry's own origin (scheme, host,
 * port). A tarball elsewhere gets only what .npmrc configures for its own host
 * (as npm does), so a packument can never steer a token to a host of its choosing.
 */
function tarballAuth(r: NpmResolution, cfg: NpmConfig): Record<string, string> {
  // Never a credential in clear text for a registry reached over https.
  if (new URL(r.tarballUrl).protocol === 'http:' && new URL(r.registry).protocol === 'https:') return {};
  const own = cfg.authFor(r.tarballUrl);
  if (Object.keys(own).length > 0) return own;
  return new URL(r.tarballUrl).origin === new URL(r.registry).origin ? cfg.authFor(r.registry) : {};
}

/** The strongest single hash of an SRI list (sha512 first); weak or malformed ones are ignored. */
function strongestIntegrity(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const rank: Record<HashAlgorithm, number> = { sha512: 3, sha384: 2, sha256: 1 };
  let best: { sri: string; rank: number } | undefined;
  for (const token of v.trim().split(/\s+/)) {
    try {
      const p = parseStrongIntegrity(token);
      if (best === undefined || rank[p.algorithm] > best.rank) best = { sri: `${p.algorithm}-${p.digest}`, rank: rank[p.algorithm] };
    } catch {
      // sha1 and friends: not a pin.
    }
  }
  return best?.sri;
}

/** Up to three published versions on each side of the wanted one, ascending (semver order). */
export function nearestVersions(published: string[], wanted: string): string[] {
  const valid = published.filter((v) => semver.valid(v) === v).sort(semver.compare);
  if (semver.valid(wanted) !== wanted) return valid.slice(-3);
  let i = valid.findIndex((v) => semver.gt(v, wanted));
  if (i < 0) i = valid.length;
  return valid.slice(Math.max(0, i - 3), i + 3);
}

/** The published version a user most likely meant: the closest below, else the closest above. */
function closest(nearest: string[], wanted: string): string | undefined {
  return [...nearest].reverse().find((v) => semver.valid(wanted) === wanted && semver.lt(v, wanted)) ?? nearest[0];
}

// ---- the packument request ----

type Json = Record<string, unknown>;

/**
 * GET the abbreviated packument through the one HTTP path (http.ts), so it gets
 * the same redirect policy (credentials dropped across origins, no https → http),
 * proxy settings, retries, deadline and never-paused body as every download.
 */
/** Full packuments of popular packages reach tens of megabytes; beyond this we refuse. */
const MAX_FULL_PACKUMENT_BYTES = 96 * 1024 * 1024;

/**
 * A package's document from the user's registry, with that registry's
 * credentials only: the abbreviated one installs need, or (`full`) the whole
 * history with publish times and licenses that `intact outdated` and `add` read.
 */
export async function fetchPackumentDoc(name: string, cfg: NpmConfig, opts: ResolveNpmOptions, kind: 'abbreviated' | 'full' = 'abbreviated'): Promise<Json> {
  const url = cfg.registryFor(name) + name.replace('/', '%2f');
  return getPackument(url, name, cfg, opts, kind);
}

async function getPackument(url: string, name: string, cfg: NpmConfig, opts: ResolveNpmOptions, kind: 'abbreviated' | 'full' = 'abbreviated'): Promise<Json> {
  const sink = new MemorySink();
  const auth = cfg.authFor(url);
  const tls = await cfg.tls();
  const max = kind === 'full' ? MAX_FULL_PACKUMENT_BYTES : MAX_PACKUMENT_BYTES;
  try {
    await download(url, sink, {
      limits: { ...opts.limits, maxBytes: Math.min(opts.limits.maxBytes, max) },
      headers: { accept: kind === 'full' ? 'application/json' : ACCEPT, ...auth },
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      ...(tls.ca ? { ca: tls.ca } : {}),
    });
  } catch (e) {
    throw registryError(e, url, name, Object.keys(auth).length > 0, tls);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(sink.text());
  } catch (e) {
    throw packumentInvalid(url, 'it is not JSON', e);
  }
  if (!isObject(doc)) throw packumentInvalid(url, 'it is not a JSON object');
  if (typeof doc.name === 'string' && doc.name !== name) throw packumentInvalid(url, `it describes "${doc.name}", not "${name}"`);
  return doc;
}

/** Holds a small body in memory; packuments are bounded by MAX_PACKUMENT_BYTES. */
class MemorySink implements ByteSink {
  #chunks: Buffer[] = [];
  #bytes = 0;
  get bytes(): number {
    return this.#bytes;
  }
  write(chunk: Uint8Array): void {
    this.#chunks.push(Buffer.from(chunk)); // a copy: the caller may reuse its buffer
    this.#bytes += chunk.length;
  }
  reset(): void {
    this.#chunks = [];
    this.#bytes = 0;
  }
  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}

/** The registry's answers, in npm's terms. */
function registryError(e: unknown, url: string, name: string, sentAuth: boolean, tls: RegistryTls): unknown {
  if (!(e instanceof IntactError)) return e;
  const shown = redactUrl(url);
  if (e.code === 'TOO_LARGE') return packumentInvalid(url, `it is larger than ${MAX_PACKUMENT_BYTES} bytes`, e);
  if (e.code === 'FETCH_FAILED') {
    return new IntactError('NPM_REGISTRY_ERROR', `cannot reach the npm registry for ${name}: ${e.message}`, {
      url: shown,
      cause: e,
      hint: isTlsRefusal(e)
        ? untrustedHint(tls)
        : 'check the network and proxy settings (https_proxy), and the configured registry (npm_config_registry, or registry= in .npmrc)',
    });
  }
  if (e.code !== 'HTTP_STATUS') return e;
  if (e.found === '404') {
    return new IntactError('NPM_PACKAGE_NOT_FOUND', `npm package ${name} is not on the registry (${shown} answered 404)`, {
      url: shown,
      cause: e,
      hint: name.startsWith('@')
        ? `check the name; for a private scope set ${name.slice(0, name.indexOf('/'))}:registry and its _authToken in .npmrc`
        : 'check the name and the configured registry (npm_config_registry, or registry= in .npmrc)',
    });
  }
  if (e.found === '401' || e.found === '403') {
    const u = new URL(url);
    const key = `//${u.host}${u.pathname.replace(/[^/]*$/, '')}:_authToken`;
    return new IntactError('NPM_AUTH_FAILED', `the registry refused ${name}: ${shown} answered ${e.found}`, {
      url: shown,
      cause: e,
      hint: sentAuth
        ? `the configured credentials were refused; renew the token (${key} in .npmrc)`
        : `this registry needs credentials: add ${key}=\${NPM_TOKEN} to .npmrc and export NPM_TOKEN`,
    });
  }
  return new IntactError('NPM_REGISTRY_ERROR', `the npm registry failed to serve ${name}: ${e.message}`, {
    url: shown,
    cause: e,
    ...(e.found !== undefined ? { found: e.found } : {}),
    hint: e.hint ?? 'try again later; if it persists, check the configured registry',
  });
}

function packumentInvalid(url: string, why: string, cause?: unknown): IntactError {
  const shown = redactUrl(url);
  return new IntactError('NPM_PACKUMENT_INVALID', `the registry's document at ${shown} is unusable: ${why}`, {
    url: shown,
    ...(cause !== undefined ? { cause } : {}),
    hint: 'the configured registry may not be an npm registry; check npm_config_registry or registry= in .npmrc',
  });
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
