// `intact install` with a registry that holds bad artifacts or misbehaves: for
// every fault of issue 8, install still succeeds by building what it could not
// substitute, prints one line per entry saying why, and leaves a valid store
// (whole entries only, nothing in tmp). Artifacts are crafted on the real
// registry; protocol faults come from a loopback proxy in front of it.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseSecretKey, type SecretKey } from '../../src/cache/keys.js';
import { pushEntries, type PushTarget } from '../../src/cache/push.js';
import { layoutOf } from '../../src/store/paths.js';
import { fixtureProject } from '../helpers/fixture-project.js';
import { cleanupProjects } from '../helpers/project.js';
import { describeWithRegistry, registrySkip, startRegistry, tamper, type TestRegistry } from '../helpers/registry.js';
import { clientFor, readArtifact, testKey, writeArtifact } from '../helpers/registry-craft.js';
import { buildLogs, HELLO, writeCacheYaml } from '../helpers/registry-project.js';
import { RegistryProxy } from '../helpers/registry-proxy.js';
import { runIntact } from '../helpers/registry-run.js';

let reg: TestRegistry;
let proxy: RegistryProxy;
let config: string;
let publicKey: string;
let secret: SecretKey;
let source: string;
let bb: PushTarget;
let hello: PushTarget;

const env = () => ({ XDG_CONFIG_HOME: config, CI: undefined });

/** Pushes the source project's entries to `repo` (blobs mounted: cheap). */
async function pushTo(repo: string, key: SecretKey = secret): Promise<void> {
  const client = clientFor(reg.ref(repo));
  await pushEntries([bb, hello], { client, store: layoutOf(join(source, 'store')), key, mountFrom: ['team/src'] });
  await client.close();
}

/** Installs a fresh copy of the project from `ref`; checks the store is whole. */
async function installFrom(ref: string) {
  const dir = await fixtureProject({ hello: HELLO });
  await writeCacheYaml(dir, ref, [publicKey]);
  const r = await runIntact(['install'], { cwd: dir, env: env() });
  expect(r.code, r.stderr).toBe(0);
  const store = join(dir, 'store');
  const entries = (await readdir(store)).filter((e) => /^[0-9a-z]{32}-/.test(e)).sort();
  expect(entries).toEqual([`${bb.key}-bb-1.36.0`, `${hello.key}-hello-1.0.0`].sort());
  expect((await readdir(join(store, 'tmp'))).filter((e) => e.startsWith('cache-') || e.startsWith('build-'))).toEqual([]);
  const origins: Record<string, string> = {};
  for (const t of [bb, hello]) origins[t.name] = JSON.parse(await readFile(join(store, 'meta', `${t.key}.json`), 'utf8')).origin;
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('cache: '));
  return { r, origins, lines, logs: await buildLogs(dir) };
}

beforeAll(async () => {
  if (registrySkip() !== undefined) return;
  reg = await startRegistry();
  proxy = await RegistryProxy.start(reg.origin);
  config = await mkdtemp(join(tmpdir(), 'intact-keys-'));
  source = await fixtureProject({ hello: HELLO });
  const gen = await runIntact(['key', 'generate', '--name', 'ci-1'], { cwd: source, env: env() });
  publicKey = gen.stdout.trim();
  secret = parseSecretKey(await readFile(join(config, 'intact/keys/ci-1.secret'), 'utf8'), 'key');
  expect((await runIntact(['install'], { cwd: source, env: env() })).code).toBe(0);
  const push = await runIntact(['cache', 'push', reg.ref('team/src')], { cwd: source, env: env() });
  expect(push.code, push.stderr).toBe(0);
  for (const f of (await readdir(join(source, 'store/meta'))).filter((f) => f.endsWith('.json'))) {
    const m = JSON.parse(await readFile(join(source, 'store/meta', f), 'utf8')) as PushTarget;
    if (m.name === 'bb') bb = { key: m.key, name: m.name, version: m.version };
    else hello = { key: m.key, name: m.name, version: m.version };
  }
}, 60_000);

afterAll(async () => {
  await cleanupProjects();
  await proxy?.close();
  await reg?.stop();
  await rm(config, { recursive: true, force: true });
});

describeWithRegistry('install builds what it cannot substitute, and says why', () => {
  it('the good case, for reference: both substituted, nothing built', async () => {
    const { origins, lines, logs } = await installFrom(reg.ref('team/src'));
    expect(origins).toEqual({ bb: 'substituted', hello: 'substituted' });
    expect(lines).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('blob bytes that do not match their digest', async () => {
    await pushTo('team/tampered');
    const { manifest } = await readArtifact(clientFor(reg.ref('team/tampered')), bb.key);
    const file = reg.blobFile(manifest.layers[0]!.digest);
    const original = await tamper(file);
    try {
      const { origins, lines } = await installFrom(reg.ref('team/tampered'));
      // bb is built from source; hello, input-addressed on bb's key, still comes from the cache.
      expect(origins).toEqual({ bb: 'built', hello: 'substituted' });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^cache: bb@1\.36\.0 not substituted, building it from source: mismatching: .*the blob's bytes do not match its digest/);
    } finally {
      await writeFile(file, original);
    }
  });

  it('a signature moved from another artifact, and metadata changed after signing', async () => {
    await pushTo('team/forged');
    const c = clientFor(reg.ref('team/forged'));
    const h = await readArtifact(c, hello.key);
    const b = await readArtifact(c, bb.key);
    await writeArtifact(c, hello.key, { ...h.metadata, signatures: b.metadata.signatures });
    await writeArtifact(c, bb.key, { ...b.metadata, entry: { ...b.metadata.entry, bin: ['bin/busybox', 'bin/sh', 'bin/evil'] } });
    await c.close();
    const { origins, lines } = await installFrom(reg.ref('team/forged'));
    expect(origins).toEqual({ bb: 'built', hello: 'built' });
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/untrusted: .*the signature by ci-1 does not verify with the trusted key of that name/);
  });

  it('a tag pointing at another, validly signed artifact', async () => {
    await pushTo('team/retagged');
    const c = clientFor(reg.ref('team/retagged'));
    await c.putManifest(hello.key, (await readArtifact(c, bb.key)).manifestBytes);
    await c.close();
    const { origins, lines } = await installFrom(reg.ref('team/retagged'));
    expect(origins).toEqual({ bb: 'substituted', hello: 'built' });
    expect(lines[0]).toMatch(/^cache: hello@1\.0\.0 not substituted, building it from source: mismatching: .*another key \(bb@1\.36\.0\)/);
  });

  it('a key with the trusted name but other bytes', async () => {
    await pushTo('team/impostor', testKey('ci-1').secret);
    const { origins, lines } = await installFrom(reg.ref('team/impostor'));
    expect(origins).toEqual({ bb: 'built', hello: 'built' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/untrusted: .*the signature by ci-1 does not verify/);
  });

  it('a manifest over the size limit', async () => {
    proxy.fault = (req, res) => {
      if (!/\/manifests\//.test(req.url ?? '')) return false;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(Buffer.alloc(5 * 1024 * 1024, 0x20));
      return true;
    };
    try {
      const { origins, lines } = await installFrom(proxy.ref('team/src'));
      expect(origins).toEqual({ bb: 'built', hello: 'built' });
      expect(lines[0]).toMatch(/invalid: .*larger than the 4194304-byte limit/);
    } finally {
      proxy.fault = undefined;
    }
  });

  it('the registry going down in the middle of a download', async () => {
    proxy.fault = (req, res, p) => {
      if (req.method !== 'GET' || !/\/blobs\/sha256:/.test(req.url ?? '')) return false;
      void p.forward(req, res, { cutAfter: 50 });
      return true;
    };
    try {
      const { origins, lines } = await installFrom(proxy.ref('team/src'));
      expect(origins).toEqual({ bb: 'built', hello: 'built' });
      expect(lines[0]).toMatch(/unreachable: /);
    } finally {
      proxy.fault = undefined;
    }
  }, 30_000);

  it('a registry that answers 401 (no credentials) or 429 (always)', async () => {
    proxy.requireBearer('ci', 'secret');
    try {
      const { origins, lines } = await installFrom(proxy.ref('team/src'));
      expect(origins).toEqual({ bb: 'built', hello: 'built' });
      expect(lines[0]).toMatch(/refused: the token endpoint of 127\.0\.0\.1:\d+ refused anonymous access \(HTTP 401\)/);
      expect(lines).toHaveLength(2);
    } finally {
      proxy.bearer = undefined;
    }
    proxy.fault = (req, res) => {
      req.resume();
      res.writeHead(429, { 'retry-after': '0' }).end();
      return true;
    };
    try {
      const { origins, lines } = await installFrom(proxy.ref('team/src'));
      expect(origins).toEqual({ bb: 'built', hello: 'built' });
      expect(lines[0]).toMatch(/registry error: .*HTTP 429/);
    } finally {
      proxy.fault = undefined;
    }
  }, 30_000);
});
