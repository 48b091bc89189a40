// The user's npm configuration, read the way npm reads it, without running npm
// (spawning it costs hundreds of milliseconds; docs/measured.md §4). An npm source
// resolves against whatever registry (or mirror) the user already configured, with
// the credentials npm would use, so a lockfile never names a registry.
//
// Layers, highest precedence first (npm's order, minus the command line):
//   1. environment: `npm_config_<key>` in any case (`npm_config_registry`,
//      `npm_config_@scope:registry`, `npm_config_//host/path/:_authToken`);
//   2. project: `<dir>/.npmrc`, where <dir> is the nearest folder at or above cwd
//      holding a package.json or an .npmrc. npm stops at package.json or
//      node_modules; an intact project need not have either, so an .npmrc there
//      also marks it. A folder found with no .npmrc contributes nothing, and the
//      walk does not go further up (as npm);
//   3. user: `$npm_config_userconfig`, else `<home>/.npmrc`;
//   4. global: `$npm_config_globalconfig`, else `<prefix>/etc/npmrc`, where prefix
//      is `$npm_config_prefix`, `$PREFIX`, or the folder above node's bin folder;
//   5. npm's builtin file: `<npm>/npmrc`, where <npm> is the npm package that
//      launched us (from `$npm_execpath`), else `<prefix>/lib/node_modules/npm`.
// A file that does not exist is skipped; one that cannot be read is an error.
//
// File syntax follows npm's `ini`: `key = value` lines, `;` or `#` comments, quoted
// values, `\;` `\#` escapes, `key[]` lines making a list, keys after a `[section]`
// header ignored (npm ignores them too); `${VAR}` in keys and values is replaced
// from the environment, left as is when VAR is unset, and `${VAR?}` becomes empty
// when unset.
//
// TLS trust (`ca`, `cafile`, `strict-ssl`) is read here and interpreted in
// npm-tls.ts.
//
// The default registry is not written here: intact uses only configuration. When
// nothing configures one, the environment this process was launched with is the
// last resort (npm/npx export `npm_config_registry` to what they run, though only
// when it differs from npm's default); after that the answer is NPM_REGISTRY_UNSET.
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { IntactError } from '../errors.js';
import { loadRegistryTls, type RegistryTls, type Setting } from './npm-tls.js';

export interface NpmConfig {
  /** The registry for a package (its scope's registry, else `registry`), ending in "/". */
  registryFor(packageName: string): string;
  /**
   * Request headers carrying the credentials for a URL: those of the longest
   * configured `//host[:port]/path/` prefix of it (npm's "nerf dart"), or none.
   */
  authFor(url: string): Record<string, string>;
  /** Where a key's value came from (a file path, or "environment"), for messages. */
  sourceOf(key: string): string | undefined;
  /**
   * The CA certificates every request to a registry or its tarball hosts must
   * trust (npm's `ca` / `cafile`), read on first use and then kept; rejects with
   * NPM_CONFIG_INVALID when the configured ones are unusable.
   */
  tls(): Promise<RegistryTls>;
}

export interface LoadNpmConfigOptions {
  cwd: string;
  /** The environment to read `npm_config_*` and `${VAR}` from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Home folder for `~/.npmrc` and a `~/` cafile; default os.homedir(). */
  home?: string;
  /**
   * The environment npm/npx launched this process with, consulted only for a
   * registry when nothing else configures one; default process.env. Tests pass {}.
   */
  launcherEnv?: NodeJS.ProcessEnv;
  /** For the global prefix; default process.execPath. */
  execPath?: string;
}

interface Layer {
  source: string;
  values: Map<string, string>;
}

export async function loadNpmConfig(opts: LoadNpmConfigOptions): Promise<NpmConfig> {
  const env = opts.env ?? process.env;
  const envLayer = fromEnv(env);
  const envGet = (k: string): string | undefined => envLayer.values.get(k);

  const layers: Layer[] = [envLayer];
  const seen = new Set<string>();
  const addFile = async (file: string | undefined): Promise<void> => {
    if (file === undefined) return;
    const path = resolve(file);
    if (seen.has(path)) return; // the project folder may be the home folder
    seen.add(path);
    const text = await readOptional(path);
    if (text !== undefined) layers.push({ source: path, values: parseNpmrc(text, env) });
  };

  const projectDir = await findProjectDir(resolve(opts.cwd));
  await addFile(projectDir === undefined ? undefined : join(projectDir, '.npmrc'));
  const home = opts.home ?? homedir();
  await addFile(envGet('userconfig') ?? join(home, '.npmrc'));
  const prefix = envGet('prefix') ?? nonEmpty(env.PREFIX) ?? dirname(dirname(opts.execPath ?? process.execPath));
  await addFile(envGet('globalconfig') ?? join(prefix, 'etc', 'npmrc'));
  const npmExec = nonEmpty(env.npm_execpath);
  await addFile(join(npmExec !== undefined ? dirname(dirname(npmExec)) : join(prefix, 'lib', 'node_modules', 'npm'), 'npmrc'));

  const launcher = opts.launcherEnv ?? process.env;
  const launcherRegistry = nonEmpty(launcher.npm_config_registry) ?? nonEmpty(launcher.NPM_CONFIG_REGISTRY);
  if (launcherRegistry !== undefined) layers.push({ source: 'environment (set by npm)', values: new Map([['registry', launcherRegistry]]) });

  return makeConfig(layers, home);
}

function makeConfig(layers: Layer[], home: string): NpmConfig {
  const find = (key: string): Setting | undefined => {
    for (const l of layers) {
      const value = l.values.get(key);
      if (value !== undefined) return { key, value, source: l.source };
    }
    return undefined;
  };
  /**
   * npm's rule for keys that set one option (`ca` and `cafile` both set its `ca`):
   * the highest layer holding any of them decides, and within that layer the key
   * whose first line comes last, since npm applies a layer's keys in that order.
   */
  const lastOf = (keys: readonly string[]): Setting | undefined => {
    for (const l of layers) {
      let hit: Setting | undefined;
      for (const [key, value] of l.values) if (keys.includes(key)) hit = { key, value, source: l.source };
      if (hit !== undefined) return hit;
    }
    return undefined;
  };
  let tls: Promise<RegistryTls> | undefined;

  return {
    registryFor(packageName) {
      const scope = packageName.startsWith('@') ? packageName.slice(0, packageName.indexOf('/')) : undefined;
      const key = scope !== undefined && find(`${scope}:registry`) !== undefined ? `${scope}:registry` : 'registry';
      const hit = find(key);
      if (hit === undefined) {
        throw new IntactError('NPM_REGISTRY_UNSET', `no npm registry is configured, so ${packageName} cannot be resolved`, {
          hint:
            'set `registry=<url>` in the project .npmrc or ~/.npmrc, or export npm_config_registry=<url>' +
            (scope === undefined ? '' : `; for this scope alone, \`${scope}:registry=<url>\``),
          field: key,
        });
      }
      return normaliseRegistry(hit.value, key, hit.source);
    },
    authFor(url): Record<string, string> {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        return {};
      }
      // npm's walk: //host/a/b/ → //host/a/b → //host/a/ → ... → //host/ → //host
      for (let key = `//${u.host}${u.pathname}`; key.length > 2; key = key.replace(/(?:[^/]+|\/)$/, '')) {
        const token = find(`${key}:_authToken`)?.value;
        if (token !== undefined) return { authorization: `Bearer ${token}` };
        const basic = find(`${key}:_auth`)?.value;
        if (basic !== undefined) return { authorization: `Basic ${basic}` };
        const user = find(`${key}:username`)?.value;
        const password = find(`${key}:_password`)?.value;
        if (user !== undefined && password !== undefined) {
          // npm stores _password base64-encoded.
          const plain = Buffer.from(password, 'base64').toString('utf8');
          return { authorization: `Basic ${Buffer.from(`${user}:${plain}`).toString('base64')}` };
        }
      }
      return {};
    },
    sourceOf(key) {
      return find(key)?.source;
    },
    tls() {
      tls ??= loadRegistryTls(lastOf(['ca', 'cafile']), find('strict-ssl'), home);
      return tls;
    },
  };
}

function normaliseRegistry(value: string, key: string, source: string): string {
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== 'https:' && u.protocol !== 'http:')) {
    throw new IntactError('NPM_REGISTRY_INVALID', `npm setting ${key} in ${source} is not an http(s) URL: ${JSON.stringify(redactUrl(value))}`, {
      hint: `write ${key}=https://<host>/<path>/`,
      field: key,
      ...(source.startsWith('/') ? { file: source } : {}),
    });
  }
  // As npm: the registry is a folder; package documents live right below it.
  return value.replace(/\/+$/, '') + '/';
}

/** A URL without credentials, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** npm_config_* variables as npm reads them: case-insensitive prefix; `_` means `-` except in `//` keys. */
function fromEnv(env: NodeJS.ProcessEnv): Layer {
  const values = new Map<string, string>();
  // Upper-case spellings first, so the lower-case one npm itself exports wins.
  const names = Object.keys(env)
    .filter((k) => /^npm_config_/i.test(k))
    .sort((a, b) => Number(a.startsWith('npm_config_')) - Number(b.startsWith('npm_config_')));
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let key = name.slice('npm_config_'.length);
    if (!key.startsWith('//')) key = key.replace(/(?!^)_/g, '-').toLowerCase();
    values.set(expandEnv(key, env), expandEnv(raw, env));
  }
  return { source: 'environment', values };
}

/**
 * Parse .npmrc text into its top-level string settings. A list (`ca[]=a`,
 * `ca[]=b`) is one value with its items joined by a blank line, the way npm
 * passes lists through the environment.
 */
export function parseNpmrc(text: string, env: NodeJS.ProcessEnv): Map<string, string> {
  const values = new Map<string, string>();
  const lists = new Set<string>();
  let inSection = false;
  for (const line of text.split(/[\r\n]+/)) {
    if (/^\s*(?:[;#]|$)/.test(line)) continue;
    const section = /^\s*\[[^\]]*\]\s*$/.exec(line);
    if (section) {
      inSection = true;
      continue;
    }
    if (inSection) continue;
    const eq = line.indexOf('=');
    const key = unquote(eq < 0 ? line : line.slice(0, eq));
    if (key === '' || eq < 0) continue; // a bare key is a boolean: never a registry or credential
    const isList = key.length > 2 && key.endsWith('[]');
    const name = expandEnv(isList ? key.slice(0, -2) : key, env);
    const value = expandEnv(unquote(line.slice(eq + 1)), env);
    const before = values.get(name);
    // As ini: `k[]` after `k` extends it, and `k` after `k[]` appends rather than resets.
    values.set(name, (isList || lists.has(name)) && before !== undefined ? `${before}\n\n${value}` : value);
    if (isList) lists.add(name);
  }
  return values;
}

/** ini's value rules: quoted values verbatim, else cut at an unescaped ; or #. */
function unquote(raw: string): string {
  const v = raw.trim();
  if ((v.startsWith('"') && v.endsWith('"') && v.length > 1) || (v.startsWith("'") && v.endsWith("'") && v.length > 1)) {
    if (v.startsWith("'")) return v.slice(1, -1);
    try {
      const parsed: unknown = JSON.parse(v);
      return typeof parsed === 'string' ? parsed : v;
    } catch {
      return v;
    }
  }
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\' && i + 1 < v.length && ';#\\'.includes(v[i + 1]!)) {
      out += v[++i];
    } else if (c === ';' || c === '#') {
      break;
    } else {
      out += c;
    }
  }
  return out.trim();
}

/** npm's env replacement: `${VAR}` (kept literally when unset), `${VAR?}` (empty when unset), `\${` escapes. */
export function expandEnv(s: string, env: NodeJS.ProcessEnv): string {
  return s.replace(/(\\*)\$\{([^${}?]+)(\?)?\}/g, (whole, esc: string, name: string, optional: string | undefined) => {
    // An odd number of backslashes escapes the `$`; pairs stand for literal backslashes.
    if (esc.length % 2 === 1) return esc.slice(0, (esc.length - 1) / 2) + whole.slice(esc.length);
    const value = env[name];
    const replacement = value !== undefined ? value : optional ? '' : `\${${name}}`;
    return esc.slice(0, esc.length / 2) + replacement;
  });
}

async function findProjectDir(start: string): Promise<string | undefined> {
  for (let dir = start; ; dir = dirname(dir)) {
    if ((await isFile(join(dir, 'package.json'))) || (await isFile(join(dir, '.npmrc')))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new IntactError('IO', `cannot read npm configuration ${path}: ${(e as Error).message}`, { file: path, cause: e });
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
