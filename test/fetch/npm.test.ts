import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadCache } from '../../src/fetch/cache.js';
import { fetchNpm, nearestVersions, parseNpmSpec, renderNpmSpec, resolveNpm } from '../../src/fetch/npm.js';
import { loadNpmConfig, type NpmConfig } from '../../src/fetch/npmrc.js';
import { DEFAULT_LIMITS, type FetchLimits } from '../../src/fetch/types.js';
import { makeTarball, sri, startNpmRegistry, type FakePackage, type FakeRegistry } from '../helpers/npm-registry.js';

const LIMITS: FetchLimits = { ...DEFAULT_LIMITS, retries: 0, backoffMs: 1, connectTimeoutMs: 5_000, idleTimeoutMs: 5_000, totalTimeoutMs: 15_000 };

describe('parseNpmSpec', () => {
  const good: [string, string, string][] = [
    ['left-pad@1.3.0', 'left-pad', '1.3.0'],
    ['@scope/pkg@1.2.3', '@scope/pkg', '1.2.3'],
    ['a@0.0.0-rc.1', 'a', '0.0.0-rc.1'],
    ['x.y_z~w@10.20.30', 'x.y_z~w', '10.20.30'],
  ];
  it.each(good)('%s', (spec, name, version) => {
    const parsed = parseNpmSpec(spec);
    expect(parsed).toEqual({ name, version });
    expect(renderNpmSpec(parsed)).toBe(spec);
  });

  const floating = [
    'left-pad',
    'left-pad@',
    'left-pad@latest',
    'left-pad@^1.3.0',
    'left-pad@~1.3.0',
    'left-pad@1',
    'left-pad@1.3',
    'left-pad@1.x',
    'left-pad@*',
    'left-pad@>=1.0.0',
    '@scope/pkg@next',
    'left-pad@v1.3.0',
    'left-pad@1.3.0 - 2.0.0',
  ];
  it.each(floating)('%s floats → NPM_SPEC_FLOATING with the exact form in the hint', (spec) => {
    let err: unknown;
    try {
      parseNpmSpec(spec, { file: 'recipes/x.yaml', field: 'sources[0].npm' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'NPM_SPEC_FLOATING', file: 'recipes/x.yaml', field: 'sources[0].npm' });
    expect((err as { hint: string }).hint).toMatch(/@/);
  });

  const invalid = [
    'Left-Pad@1.0.0',
    '.hidden@1.0.0',
    '_under@1.0.0',
    '@scope@1.0.0',
    'a b@1.0.0',
    'npm:left-pad@1.0.0',
    'git+https://x.test/r.git',
    'https://x.test/a.tgz',
    `${'a'.repeat(215)}@1.0.0`,
    '@/x@1.0.0',
  ];
  it.each(invalid)('%s is not a package spec → NPM_SPEC_INVALID', (spec) => {
    expect(() => parseNpmSpec(spec)).toThrow(expect.objectContaining({ code: 'NPM_SPEC_INVALID' }));
  });
});

describe('nearestVersions', () => {
  const published = ['1.0.0', '1.1.0', '1.2.0', '1.2.1', '1.3.0', '2.0.0', '3.0.0-beta.1', 'junk'];
  it('lists up to three on each side, ascending', () => {
    expect(nearestVersions(published, '1.2.2')).toEqual(['1.1.0', '1.2.0', '1.2.1', '1.3.0', '2.0.0', '3.0.0-beta.1']);
  });
  it('works past either end', () => {
    expect(nearestVersions(published, '0.1.0')).toEqual(['1.0.0', '1.1.0', '1.2.0']);
    expect(nearestVersions(published, '9.0.0')).toEqual(['1.3.0', '2.0.0', '3.0.0-beta.1']);
  });
  it('is empty with nothing published', () => {
    expect(nearestVersions([], '1.0.0')).toEqual([]);
  });
});

describe('npm sources against a fake registry', () => {
  let dir: string;
  let cache: DownloadCache;
  const servers: FakeRegistry[] = [];
  let tgz100: Buffer;
  let tgz110: Buffer;
  let scoped: Buffer;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'intact-npm-'));
    cache = new DownloadCache(join(dir, 'store'));
    tgz100 = await makeTarball({ 'package.json': '{"name":"demo","version":"1.0.0"}', 'index.js': 'module.exports = 1;\n' });
    tgz110 = await makeTarball({ 'package.json': '{"name":"demo","version":"1.1.0"}', 'index.js': 'module.exports = 2;\n' });
    scoped = await makeTarball({ 'package.json': '{"name":"@corp/tool","version":"2.0.0"}' });
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  const demo = (over: Partial<FakePackage['versions'][string]> = {}): FakePackage => ({
    name: 'demo',
    versions: { '0.9.0': { tarball: tgz100 }, '1.0.0': { tarball: tgz100, ...over }, '1.1.0': { tarball: tgz110 }, '2.0.0': { tarball: tgz110 } },
  });

  async function registry(opts: Parameters<typeof startNpmRegistry>[0]): Promise<FakeRegistry> {
    const r = await startNpmRegistry(opts);
    servers.push(r);
    return r;
  }

  /** The config a test sees: only what it passes, through npm_config_* like npm would. */
  async function config(env: NodeJS.ProcessEnv): Promise<NpmConfig> {
    return loadNpmConfig({ cwd: dir, home: join(dir, 'home'), env: { PREFIX: join(dir, 'prefix'), ...env }, launcherEnv: {} });
  }

  it('resolves and fetches a package; the pin is the sha512 the registry lists', async () => {
    const r = await registry({ packages: [demo()] });
    const cfg = await config({ npm_config_registry: r.url });
    const res = await resolveNpm('demo@1.0.0', cfg, { limits: LIMITS });
    expect(res).toMatchObject({
      name: 'demo',
      version: '1.0.0',
      registry: r.url,
      tarballUrl: `${r.url}demo/-/demo-1.0.0.tgz`,
      integrity: sri('sha512', tgz100),
    });
    const got = await fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS });
    expect(got).toMatchObject({ name: 'demo', version: '1.0.0', integrity: sri('sha512', tgz100), bytes: tgz100.length, cached: false });
    expect(await readFile(got.path)).toEqual(tgz100);
    const packumentRequest = r.requests.find((q) => q.path === '/demo')!;
    expect(packumentRequest.headers.accept).toMatch(/^application\/vnd\.npm\.install-v1\+json/);
  });

  it('asks for a scoped package with its slash encoded, from the scope registry', async () => {
    const main = await registry({ packages: [demo()] });
    const corp = await registry({ packages: [{ name: '@corp/tool', versions: { '2.0.0': { tarball: scoped } } }], prefix: '/npm/corp/' });
    const cfg = await config({ npm_config_registry: main.url, 'npm_config_@corp:registry': corp.url });
    const got = await fetchNpm('@corp/tool@2.0.0', cache, { cfg, limits: LIMITS });
    expect(got.integrity).toBe(sri('sha512', scoped));
    expect(corp.requests.map((q) => q.path)).toEqual(['/npm/corp/@corp%2ftool', '/npm/corp/@corp/tool/-/tool-2.0.0.tgz']);
    expect(main.requests).toEqual([]);
  });

  it('sends the token to the registry host, and not to a mirror host serving the tarball', async () => {
    const mirror = await registry({ packages: [demo()] });
    const r = await registry({ packages: [demo()], token: 's3cret', tarballBase: mirror.url, prefix: '/npm/' });
    const cfg = await config({ npm_config_registry: r.url, [`npm_config_//${r.host}/npm/:_authToken`]: 's3cret' });
    const got = await fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS });
    expect(got.tarballUrl).toBe(`${mirror.url}demo/-/demo-1.0.0.tgz`);
    expect(r.requests.map((q) => q.headers.authorization)).toEqual(['Bearer s3cret']);
    expect(mirror.requests).toHaveLength(1);
    expect(mirror.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('a mirror host gets only the credentials configured for it', async () => {
    const mirror = await registry({ packages: [demo()], token: 'mirror-token' });
    const r = await registry({ packages: [demo()], token: 's3cret', tarballBase: mirror.url });
    const cfg = await config({
      npm_config_registry: r.url,
      [`npm_config_//${r.host}/:_authToken`]: 's3cret',
      [`npm_config_//${mirror.host}/:_authToken`]: 'mirror-token',
    });
    await fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS });
    expect(r.requests.map((q) => q.headers.authorization)).toEqual(['Bearer s3cret']);
    expect(mirror.requests.map((q) => q.headers.authorization)).toEqual(['Bearer mirror-token']);
  });

  it('sends the token for a tarball on the registry host itself', async () => {
    const r = await registry({ packages: [demo()], token: 's3cret' });
    const cfg = await config({ npm_config_registry: r.url, [`npm_config_//${r.host}/:_authToken`]: 's3cret' });
    await fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS });
    expect(r.requests.map((q) => [q.path, q.headers.authorization])).toEqual([
      ['/demo', 'Bearer s3cret'],
      ['/demo/-/demo-1.0.0.tgz', 'Bearer s3cret'],
    ]);
  });

  it('a registry wanting a token we lack → NPM_AUTH_FAILED with the .npmrc line to add', async () => {
    const r = await registry({ packages: [demo()], token: 's3cret' });
    const cfg = await config({ npm_config_registry: r.url });
    const err = await resolveNpm('demo@1.0.0', cfg, { limits: LIMITS }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NPM_AUTH_FAILED' });
    expect((err as { hint: string }).hint).toContain(`//${r.host}/:_authToken`);
  });

  it('an unknown version → NPM_VERSION_NOT_FOUND naming the nearest published ones', async () => {
    const r = await registry({ packages: [demo()] });
    const cfg = await config({ npm_config_registry: r.url });
    const err = await fetchNpm('demo@1.0.5', cache, { cfg, limits: LIMITS }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NPM_VERSION_NOT_FOUND', found: '1.0.5' });
    expect((err as Error).message).toContain('nearest versions: 0.9.0, 1.0.0, 1.1.0, 2.0.0');
    expect((err as { hint: string }).hint).toContain('demo@1.0.0');
    expect(r.requests).toHaveLength(1);
  });

  it('an unknown package → NPM_PACKAGE_NOT_FOUND', async () => {
    const r = await registry({ packages: [demo()] });
    const cfg = await config({ npm_config_registry: r.url });
    await expect(resolveNpm('nope@1.0.0', cfg, { limits: LIMITS })).rejects.toMatchObject({ code: 'NPM_PACKAGE_NOT_FOUND' });
  });

  it('a lock pin the registry disagrees with → NPM_INTEGRITY_CHANGED before any download', async () => {
    const r = await registry({ packages: [demo({ served: tgz110, integrity: sri('sha512', tgz110) })] });
    const cfg = await config({ npm_config_registry: r.url });
    const pin = sri('sha512', tgz100);
    const err = await fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS, expected: pin }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NPM_INTEGRITY_CHANGED', expected: pin, found: sri('sha512', tgz110) });
    expect((err as Error).message).toMatch(/registry now serves different bytes for demo@1\.0\.0/);
    expect(r.requests.map((q) => q.path)).toEqual(['/demo']);
    expect(await cache.has(sri('sha512', tgz110))).toBe(false);
  });

  it('bytes that differ from the pin while the registry still lists it → INTEGRITY_MISMATCH, nothing stored', async () => {
    const r = await registry({ packages: [demo({ served: tgz110 })] });
    const cfg = await config({ npm_config_registry: r.url });
    await expect(fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS, expected: sri('sha512', tgz100) })).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH' });
    expect(await cache.has(sri('sha512', tgz110))).toBe(false);
  });

  it('on a first lock, bytes that differ from the registry’s own dist.integrity → NPM_INTEGRITY_CHANGED', async () => {
    const r = await registry({ packages: [demo({ served: tgz110 })] });
    const cfg = await config({ npm_config_registry: r.url });
    await expect(fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS })).rejects.toMatchObject({ code: 'NPM_INTEGRITY_CHANGED' });
  });

  it('a pinned package already in the cache needs no registry at all', async () => {
    const r = await registry({ packages: [demo()] });
    const cfg = await config({ npm_config_registry: r.url });
    const first = await fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS });
    await r.close();
    const events: string[] = [];
    const again = await fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS, expected: first.integrity, onEvent: (e) => events.push(e.type) });
    expect(again).toMatchObject({ integrity: first.integrity, cached: true, path: first.path });
    expect(again.tarballUrl).toBeUndefined();
    expect(events).toEqual(['done']);
  });

  it('a package with only a sha1 shasum is pinned with sha512 and checked against the sha1', async () => {
    const r = await registry({ packages: [demo({ integrity: null })] });
    const cfg = await config({ npm_config_registry: r.url });
    const got = await fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS });
    expect(got.integrity).toBe(sri('sha512', tgz100));

    const bad = await registry({ packages: [{ name: 'demo', versions: { '1.0.0': { tarball: tgz100, integrity: null, served: tgz110 } } }] });
    const cfg2 = await config({ npm_config_registry: bad.url });
    const other = new DownloadCache(join(dir, 'store2'));
    await expect(fetchNpm('demo@1.0.0', other, { cfg: cfg2, limits: LIMITS })).rejects.toMatchObject({ code: 'NPM_INTEGRITY_CHANGED' });
  });

  it('no registry configured anywhere → NPM_REGISTRY_UNSET before any request', async () => {
    const cfg = await config({});
    await expect(fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS })).rejects.toMatchObject({ code: 'NPM_REGISTRY_UNSET' });
  });

  it('a registry that is not listening → a network error naming the URL', async () => {
    const r = await registry({ packages: [] });
    const url = r.url;
    await r.close();
    const cfg = await config({ npm_config_registry: url });
    const err = await resolveNpm('demo@1.0.0', cfg, { limits: LIMITS }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NPM_REGISTRY_ERROR' });
    expect((err as Error).message).toContain(url);
  });

  it('a registry failing with a server error → NPM_REGISTRY_ERROR with the status', async () => {
    const server = createServer((_req, res) => res.writeHead(500).end('boom'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const cfg = await config({ npm_config_registry: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
      await expect(resolveNpm('demo@1.0.0', cfg, { limits: LIMITS })).rejects.toMatchObject({ code: 'NPM_REGISTRY_ERROR', found: '500' });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
