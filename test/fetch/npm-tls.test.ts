// npm sources from a registry behind a certificate no default CA signed, as behind
// a company TLS proxy: trusted only through npm's `cafile` / `ca` in .npmrc, for
// the packument, the tarball and the full packument `outdated` and `add` read.
// The certificates are made fresh per run, so nothing in this process's trust
// store (NODE_EXTRA_CA_CERTS included, which Node reads only at start) can hold
// them; and every environment is passed explicitly, so neither npm_config_* nor a
// proxy from the test's own environment takes part.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadCache } from '../../src/fetch/cache.js';
import { fetchNpm } from '../../src/fetch/npm.js';
import { loadNpmConfig, type NpmConfig } from '../../src/fetch/npmrc.js';
import { DEFAULT_LIMITS, type FetchLimits } from '../../src/fetch/types.js';
import { fetchPackument } from '../../src/upgrade/packument.js';
import { selfSignedCert } from '../helpers/http-server.js';
import { makeTarball, sri, startNpmRegistry, type FakeRegistry } from '../helpers/npm-registry.js';

const LIMITS: FetchLimits = { ...DEFAULT_LIMITS, retries: 0, backoffMs: 1, connectTimeoutMs: 5_000, idleTimeoutMs: 5_000, totalTimeoutMs: 15_000 };
const registryCert = selfSignedCert();
const mirrorCert = selfSignedCert();

describe.skipIf(!registryCert || !mirrorCert)("npm sources over https with npm's ca / cafile", () => {
  let dir: string;
  let project: string;
  let cache: DownloadCache;
  let tgz: Buffer;
  const servers: FakeRegistry[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'intact-npm-tls-'));
    project = join(dir, 'project');
    await mkdir(join(dir, 'home'), { recursive: true });
    await mkdir(project, { recursive: true });
    await writeFile(join(project, 'package.json'), '{}');
    await writeFile(join(dir, 'registry.pem'), registryCert!.cert);
    cache = new DownloadCache(join(dir, 'store'));
    tgz = await makeTarball({ 'package.json': '{"name":"demo","version":"1.0.0"}' });
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  async function registry(tls: { key: string; cert: string }, tarballBase?: string): Promise<FakeRegistry> {
    const r = await startNpmRegistry({ packages: [{ name: 'demo', versions: { '1.0.0': { tarball: tgz } } }], tls, ...(tarballBase ? { tarballBase } : {}) });
    servers.push(r);
    return r;
  }

  /** The project .npmrc is the whole configuration: no process.env, no host npmrc files. */
  async function config(npmrc: string): Promise<NpmConfig> {
    await writeFile(join(project, '.npmrc'), npmrc);
    return loadNpmConfig({ cwd: project, home: join(dir, 'home'), env: { PREFIX: join(dir, 'prefix') }, launcherEnv: {} });
  }

  const fetchDemo = (cfg: NpmConfig) => fetchNpm('demo@1.0.0', cache, { cfg, limits: LIMITS, env: {} });
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string; hint?: string; file?: string; field?: string },
    );

  it('cafile in the project .npmrc: the packument and the tarball come over https', async () => {
    const r = await registry(registryCert!);
    const cfg = await config(`registry=${r.url}\ncafile=${join(dir, 'registry.pem')}\n`);
    const got = await fetchDemo(cfg);
    expect(got.integrity).toBe(sri('sha512', tgz));
    expect(await readFile(got.path)).toEqual(tgz);
    expect(r.url).toMatch(/^https:/);
    expect(r.requests.map((q) => q.path)).toEqual(['/demo', '/demo/-/demo-1.0.0.tgz']);
  });

  it('without cafile the same registry is refused, with a hint that points at cafile', async () => {
    const r = await registry(registryCert!);
    const e = await failure(fetchDemo(await config(`registry=${r.url}\n`)));
    expect(e).toMatchObject({ code: 'NPM_REGISTRY_ERROR' });
    expect(e?.hint).toContain('cafile=');
    expect(r.requests).toEqual([]); // refused in the handshake, before any request
  });

  it('strict-ssl=false is not honoured: still refused, and the hint says to use cafile instead', async () => {
    const r = await registry(registryCert!);
    const e = await failure(fetchDemo(await config(`registry=${r.url}\nstrict-ssl=false\n`)));
    expect(e).toMatchObject({ code: 'NPM_REGISTRY_ERROR' });
    expect(e?.hint).toContain(`does not honour strict-ssl=false (set in ${join(project, '.npmrc')})`);
    expect(e?.hint).toContain('cafile');
  });

  it('a cafile that does not exist → NPM_CONFIG_INVALID naming the .npmrc, the key and the path; nothing is asked', async () => {
    const r = await registry(registryCert!);
    const missing = join(dir, 'nope.pem');
    const e = await failure(fetchDemo(await config(`registry=${r.url}\ncafile=${missing}\n`)));
    expect(e).toMatchObject({ code: 'NPM_CONFIG_INVALID', file: join(project, '.npmrc'), field: 'cafile' });
    expect(e?.message).toContain(join(project, '.npmrc'));
    expect(e?.message).toContain(missing);
    expect(r.requests).toEqual([]);
  });

  it('tarballs on another host need their CA in the set too: ca[] lists both', async () => {
    const mirror = await registry(mirrorCert!);
    const r = await registry(registryCert!, mirror.url);
    const ca = (pem: string) => `ca[]=${JSON.stringify(pem)}\n`;

    const onlyRegistry = await failure(fetchDemo(await config(`registry=${r.url}\n${ca(registryCert!.cert)}`)));
    expect(onlyRegistry).toMatchObject({ code: 'FETCH_FAILED' });
    expect(onlyRegistry?.hint).toContain(`ca in ${join(project, '.npmrc')}`);

    const got = await fetchDemo(await config(`registry=${r.url}\n${ca(registryCert!.cert)}${ca(mirrorCert!.cert)}`));
    expect(got.tarballUrl).toBe(`${mirror.url}demo/-/demo-1.0.0.tgz`);
  });

  it('the full packument that `outdated` and `add` read goes through the same CA set', async () => {
    const r = await registry(registryCert!);
    const doc = await fetchPackument('demo', await config(`registry=${r.url}\ncafile=${join(dir, 'registry.pem')}\n`), { limits: LIMITS, env: {} });
    expect(Object.keys(doc.versions)).toEqual(['1.0.0']);
  });
});
