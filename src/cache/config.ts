// The project's cache configuration: the `cache:` section of `intact.yaml` at the
// project root, committed with the recipes, so every clone and CI runner agrees
// on where entries come from and whose signatures count. YAML like the recipes
// (comments matter here: why a key is trusted, whose it is), validated as
// strictly: an unknown field is an error naming file:line:col, so a typo such
// as `trusted_keys` never silently turns trust off.
//
//   cache:
//     substituters:                  # tried in order by install and `cache pull`
//       - ghcr.io/acme/intact-cache
//     trusted-keys:                  # name:base64, as `intact key generate` prints
//       - ci.acme.dev-1:3ZpN…=
//     insecure-registries:           # hosts that may use plain http (loopback always may)
//       - registry.lan:5000
//
// No secret ever belongs here; a secret-key-shaped value is refused.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { parseYaml, type FieldPath, type Locator } from '../recipe/yaml.js';
import { parsePublicKey, strictBase64, type PublicKey } from './keys.js';
import { parseRef, type RegistryRef } from './ref.js';

export const CONFIG_FILE = 'intact.yaml';

export interface CacheConfig {
  /** The file it came from; undefined when the project has none. */
  file: string | undefined;
  substituters: RegistryRef[];
  trustedKeys: PublicKey[];
  insecureRegistries: string[];
}

const TOP = ['cache'];
const CACHE = ['substituters', 'trusted-keys', 'insecure-registries'];
const MAX_BYTES = 256 * 1024;

export function emptyConfig(): CacheConfig {
  return { file: undefined, substituters: [], trustedKeys: [], insecureRegistries: [] };
}

/** Reads `<project>/intact.yaml`; a project without one has an empty configuration. */
export async function loadCacheConfig(projectDir: string): Promise<CacheConfig> {
  const file = join(projectDir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig();
    throw new IntactError('CACHE_CONFIG', `cannot read ${CONFIG_FILE}: ${(e as Error).message}`, { file: CONFIG_FILE, cause: e });
  }
  return parseCacheConfig(text, CONFIG_FILE);
}

/** Parses and validates the text of intact.yaml; `file` is how messages name it. */
export function parseCacheConfig(text: string, file: string): CacheConfig {
  if (Buffer.byteLength(text) > MAX_BYTES)
    throw new IntactError('CACHE_CONFIG', `${file} is larger than ${MAX_BYTES} bytes`, {
      file,
      hint: 'it holds a few lines of configuration; check that it is the right file',
    });
  const parsed = parseYaml(text, file);
  if (parsed.findings.length > 0) {
    const f = parsed.findings[0]!;
    throw new IntactError('CACHE_CONFIG', f.message, { ...f, file });
  }
  const at = (path: FieldPath, key = false) => where(parsed.locate, path, key, file);
  const fail = (path: FieldPath, message: string, hint: string, key = false): IntactError =>
    new IntactError('CACHE_CONFIG', message, { ...at(path, key), field: path.join('.'), hint });

  const config = emptyConfig();
  config.file = file;
  const doc = parsed.value;
  if (doc === null || doc === undefined) return config;
  if (!isMap(doc)) throw fail([], `${file} must be a mapping with a \`cache:\` section`, 'see docs/cache.md for an example');
  for (const k of Object.keys(doc)) {
    if (!TOP.includes(k)) throw fail([k], `unknown field \`${k}\``, `${file} knows only: ${TOP.join(', ')}`, true);
  }
  const cache = doc['cache'];
  if (cache === null || cache === undefined) return config;
  if (!isMap(cache)) throw fail(['cache'], '`cache` must be a mapping', `its fields are ${CACHE.join(', ')}`);
  for (const k of Object.keys(cache)) {
    if (!CACHE.includes(k)) throw fail(['cache', k], `unknown field \`cache.${k}\``, `the cache section knows only: ${CACHE.join(', ')}`, true);
  }
  const list = (name: string): string[] => {
    const v = cache[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw fail(['cache', name], `\`cache.${name}\` must be a list`, 'write one item per line, each starting with "- "');
    v.forEach((item, i) => {
      if (typeof item !== 'string' || item.trim() === '')
        throw fail(['cache', name, i], `\`cache.${name}[${i}]\` must be a non-empty string`, 'quote it if it contains ": " or starts with a special character');
    });
    return v as string[];
  };

  config.insecureRegistries = list('insecure-registries').map((h, i) => {
    if (!/^[A-Za-z0-9.-]+(?::\d{1,5})?$/.test(h))
      throw fail(
        ['cache', 'insecure-registries', i],
        `${JSON.stringify(h)} is not a host or host:port`,
        'write the registry host as in the reference, e.g. registry.lan:5000',
      );
    return h;
  });
  config.substituters = list('substituters').map((r, i) => {
    try {
      return parseRef(r, config.insecureRegistries);
    } catch (e) {
      throw new IntactError('CACHE_CONFIG', (e as IntactError).message, {
        ...at(['cache', 'substituters', i]),
        field: `cache.substituters[${i}]`,
        hint: (e as IntactError).hint,
      });
    }
  });
  const byName = new Map<string, PublicKey>();
  config.trustedKeys = list('trusted-keys').map((k, i) => {
    const path = ['cache', 'trusted-keys', i];
    // Defence in depth: a secret key pasted here would be published with the repository.
    const b64 = k.split(':')[1];
    const raw = b64 === undefined ? undefined : strictBase64(b64);
    if (raw !== undefined && raw.length === 64) {
      throw fail(
        path,
        `\`cache.trusted-keys[${i}]\` looks like a SECRET key (64 bytes), not a public one`,
        'remove it from the file and from git history, generate a new pair, and list only the public key `intact key generate` prints',
      );
    }
    let key: PublicKey;
    try {
      key = parsePublicKey(k, `cache.trusted-keys[${i}]`);
    } catch (e) {
      throw new IntactError('CACHE_CONFIG', (e as IntactError).message, { ...at(path), field: `cache.trusted-keys[${i}]`, hint: (e as IntactError).hint });
    }
    const seen = byName.get(key.name);
    if (seen !== undefined) {
      throw fail(
        path,
        `the key name ${key.name} is listed twice${seen.bytes.equals(key.bytes) ? '' : ' with different bytes'}`,
        'a name stands for one key; rotate by giving the new key a new name (e.g. -2)',
      );
    }
    byName.set(key.name, key);
    return key;
  });
  if (config.substituters.length > 0 && config.trustedKeys.length === 0) {
    throw fail(
      ['cache', 'substituters'],
      'substituters are listed but no trusted-keys: no artifact could ever be accepted',
      'add the public key of whoever pushes (CI), as `intact key generate` printed it, under cache.trusted-keys',
    );
  }
  return config;
}

function where(locate: Locator, path: FieldPath, key: boolean, file: string): { file: string; line?: number; col?: number } {
  const pos = locate(path, key);
  return pos === undefined ? { file } : { file, line: pos.line, col: pos.col };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
