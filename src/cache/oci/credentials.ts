// Where registry credentials come from, in order, per registry host:
//
// 1. the environment, for CI: INTACT_REGISTRY_TOKEN (a ready bearer token, sent
//    as is) or INTACT_REGISTRY_USER + INTACT_REGISTRY_PASSWORD (used at the
//    registry's token endpoint or for basic auth). When INTACT_REGISTRY_HOST is
//    set they go to that host only; otherwise to every registry the project
//    configures or the command names.
// 2. docker's config.json ($DOCKER_CONFIG/config.json, else ~/.docker/config.json),
//    as `docker login` leaves it: `credHelpers[host]`, then `credsStore`, each
//    run as `docker-credential-<name> get`; then `auths[host]` (`auth` is
//    base64 user:password; `identitytoken` is an OAuth2 refresh token).
//
// Nothing here is ever logged; errors name the source, never its content.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { IntactError } from '../../errors.js';

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (docker's `identitytoken`, or a helper's `<token>` user). */
  identityToken?: string;
  /** Sent as `Authorization: Bearer` without asking a token endpoint. */
  bearer?: string;
  /** Where they came from, for messages. */
  source: string;
}

export type CredentialLookup = (host: string) => Promise<Credentials | undefined>;

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

const HELPER_TIMEOUT_MS = 20_000;

export function credentialLookup(env: NodeJS.ProcessEnv = process.env): CredentialLookup {
  let docker: Promise<DockerConfig | undefined> | undefined;
  const cache = new Map<string, Promise<Credentials | undefined>>();
  return (host) => {
    let p = cache.get(host);
    if (p === undefined) {
      p = (async () => {
        const fromEnv = envCredentials(env, host);
        if (fromEnv) return fromEnv;
        docker ??= readDockerConfig(env);
        const cfg = await docker;
        return cfg === undefined ? undefined : dockerCredentials(cfg, host, env);
      })();
      cache.set(host, p);
    }
    return p;
  };
}

function envCredentials(env: NodeJS.ProcessEnv, host: string): Credentials | undefined {
  const only = env['INTACT_REGISTRY_HOST'];
  if (only && only.toLowerCase() !== host.toLowerCase()) return undefined;
  const token = env['INTACT_REGISTRY_TOKEN'];
  if (token) return { bearer: token, source: 'INTACT_REGISTRY_TOKEN' };
  const user = env['INTACT_REGISTRY_USER'];
  const password = env['INTACT_REGISTRY_PASSWORD'];
  if (user && password) return { username: user, password, source: 'INTACT_REGISTRY_USER/PASSWORD' };
  return undefined;
}

async function readDockerConfig(env: NodeJS.ProcessEnv): Promise<DockerConfig | undefined> {
  const dir = env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as DockerConfig) : undefined;
  } catch {
    throw new IntactError('CACHE_AUTH', `${file} is not valid JSON`, { file, hint: 'fix or remove it (docker login writes it)' });
  }
}

/** docker's keys may be `host`, `https://host`, or `https://host/v1/`. */
function hostOf(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

async function dockerCredentials(cfg: DockerConfig, host: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const h = host.toLowerCase();
  const helper = Object.entries(cfg.credHelpers ?? {}).find(([k]) => hostOf(k) === h)?.[1];
  if (typeof helper === 'string' && helper !== '') {
    const got = await runHelper(helper, host, env);
    if (got) return got;
  }
  if (typeof cfg.credsStore === 'string' && cfg.credsStore !== '') {
    const got = await runHelper(cfg.credsStore, host, env);
    if (got) return got;
  }
  const entry = Object.entries(cfg.auths ?? {}).find(([k]) => hostOf(k) === h)?.[1];
  if (entry === undefined || typeof entry !== 'object') return undefined;
  const source = 'docker config.json';
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') return { identityToken: entry.identitytoken, source };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1), source };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password, source };
  return undefined;
}

/** docker's credential helper protocol: `docker-credential-<name> get`, server on stdin, JSON out. */
function runHelper(name: string, host: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    return Promise.reject(
      new IntactError('CACHE_AUTH', `docker's config.json names the credential helper ${JSON.stringify(name)}, which is not a plain name`, {
        hint: 'fix credHelpers/credsStore in ~/.docker/config.json',
      }),
    );
  }
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: HELPER_TIMEOUT_MS });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') resolve(undefined);
      else
        reject(
          new IntactError('CACHE_AUTH', `the credential helper ${program} could not run: ${e.message}`, {
            hint: 'check the helper named in ~/.docker/config.json',
          }),
        );
    });
    child.on('close', (code) => {
      if (code !== 0) {
        // "credentials not found" is how helpers say "none for this host".
        if (/not found|no credentials/i.test(out + err)) return resolve(undefined);
        return reject(
          new IntactError('CACHE_AUTH', `the credential helper ${program} failed for ${host} (exit ${code})`, {
            hint: `run \`echo ${host} | ${program} get\` to see why`,
          }),
        );
      }
      try {
        const v = JSON.parse(out) as { Username?: unknown; Secret?: unknown };
        if (typeof v.Secret !== 'string' || v.Secret === '') return resolve(undefined);
        const source = program;
        if (v.Username === '<token>') return resolve({ identityToken: v.Secret, source });
        return resolve({ username: typeof v.Username === 'string' ? v.Username : '', password: v.Secret, source });
      } catch {
        return reject(
          new IntactError('CACHE_AUTH', `the credential helper ${program} did not answer with JSON`, {
            hint: `run \`echo ${host} | ${program} get\` to see what it prints`,
          }),
        );
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${host}\n`);
  });
}
