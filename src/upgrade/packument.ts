// The full npm package document ("packument"), for questions about a package's
// history rather than one version's tarball: which versions exist, when each was
// published (`time`), its license, description and per-platform optional
// dependencies. The abbreviated document that installs use (src/fetch/npm.ts)
// lacks `time`, license and description, so this asks for the full one.
//
// Same path as every download (src/fetch/http.ts: redirect policy, proxies,
// retries, deadline, size cap), against the registry the user configured, with
// that registry's credentials only.
import { IntactError } from '../errors.js';
import { fetchPackumentDoc } from '../fetch/npm.js';
import { redactUrl, type NpmConfig } from '../fetch/npmrc.js';
import type { FetchLimits } from '../fetch/types.js';

export interface PackumentVersion {
  version: string;
  license?: unknown;
  description?: string;
  homepage?: string;
  deprecated?: string;
  bin?: Record<string, string> | string;
  optionalDependencies?: Record<string, string>;
}

export interface Packument {
  name: string;
  versions: Record<string, PackumentVersion>;
  /** version → ISO publish time (plus `created` and `modified`). */
  time: Record<string, string>;
  distTags: Record<string, string>;
  /** The registry's document URL, credentials removed, for messages. */
  url: string;
}

export interface PackumentOptions {
  limits: FetchLimits;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export async function fetchPackument(name: string, cfg: NpmConfig, opts: PackumentOptions): Promise<Packument> {
  const shown = redactUrl(cfg.registryFor(name) + name.replace('/', '%2f'));
  const doc = await fetchPackumentDoc(name, cfg, opts, 'full');
  if (!isObject(doc.versions)) {
    throw new IntactError('NPM_PACKUMENT_INVALID', `the registry's document for ${name} has no \`versions\``, {
      url: shown,
      hint: 'the configured registry does not answer like an npm registry; check `registry` in .npmrc',
    });
  }
  const versions: Record<string, PackumentVersion> = {};
  for (const [v, entry] of Object.entries(doc.versions)) if (isObject(entry)) versions[v] = { ...entry, version: v } as PackumentVersion;
  return {
    name,
    versions,
    time: stringMap(doc['time']),
    distTags: stringMap(doc['dist-tags']),
    url: shown,
  };
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** The license a package version declares, as an SPDX expression when it gives one. */
export function declaredLicense(v: PackumentVersion | undefined): string | undefined {
  const l = v?.license;
  if (typeof l === 'string') return l;
  if (isObject(l) && typeof l.type === 'string') return l.type; // the old { type, url } form
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
