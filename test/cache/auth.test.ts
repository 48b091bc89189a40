// Registry authentication as docker and oras do it, against the real registry
// behind a loopback proxy that demands it: a bearer challenge answered at the
// token endpoint with credentials from the environment, docker's config.json or
// a credential helper; basic auth; and the refusals (no or wrong credentials),
// after which install builds from source.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Authenticator, parseChallenges } from '../../src/cache/oci/auth.js';
import { credentialLookup } from '../../src/cache/oci/credentials.js';
import { pushEntries } from '../../src/cache/push.js';
import { parseRef } from '../../src/cache/ref.js';
import { makeSubstituter, type PlanLike } from '../../src/cache/substitute.js';
import { RegistryClient } from '../../src/cache/oci/client.js';
import { isIntactError } from '../../src/errors.js';
import { describeWithRegistry, registrySkip, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { testKey } from '../helpers/registry-craft.js';
import { addTestEntry, checksFor, cleanupStores, entriesOf, tempStore, tmpLeftovers } from '../helpers/registry-entries.js';
import { RegistryProxy } from '../helpers/registry-proxy.js';
import type { StoreLayout } from '../../src/store/paths.js';

let reg: TestRegistry;
let proxy: RegistryProxy;
let store: StoreLayout;
let dep: PlanLike;
let work: string;
const ci = testKey('ci-1');
const USER = 'robot$ci';
const PASSWORD = 'pa55-w0rd-not-in-logs';

async function pull(env: NodeJS.ProcessEnv, repo = 'team/auth') {
  const into = await tempStore();
  const sub = makeSubstituter({
    config: { substituters: [parseRef(proxy.ref(repo))], trustedKeys: [ci.public] },
    checks: checksFor(into),
    plans: [dep],
    lookup: credentialLookup(env),
    env,
    limits: { backoffMs: 20 },
  });
  const r = await sub.substitute(dep);
  await sub.close();
  return { r, into };
}

beforeAll(async () => {
  if (registrySkip() !== undefined) return;
  reg = await startRegistry();
  proxy = await RegistryProxy.start(reg.origin);
  work = await mkdtemp(join(tmpdir(), 'intact-auth-'));
  store = await tempStore();
  dep = await addTestEntry(store, 'dep', '1.0.0', { 'bin/tool': { content: '#!/bin/sh\necho tool\n', exec: true } });
});

afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
  await cleanupStores();
  await rm(work, { recursive: true, force: true });
});

describeWithRegistry('bearer tokens (WWW-Authenticate: Bearer realm, service, scope)', () => {
  it('push and pull with INTACT_REGISTRY_USER/PASSWORD: tokens for the right scopes, cached', async () => {
    const bearer = proxy.requireBearer(USER, PASSWORD);
    const env = { INTACT_REGISTRY_USER: USER, INTACT_REGISTRY_PASSWORD: PASSWORD };
    const client = new RegistryClient(parseRef(proxy.ref('team/auth')), { lookup: credentialLookup(env), env });
    const reports = await pushEntries([dep], { client, store, key: ci.secret });
    await client.close();
    expect(reports[0]!.status).toBe('pushed');
    expect(bearer.tokenRequests.every((t) => t.ok)).toBe(true);
    expect(bearer.tokenRequests.some((t) => decodeURIComponent(t.query).includes('scope=repository:team/auth:pull,push'))).toBe(true);
    expect(bearer.tokenRequests.length).toBeLessThanOrEqual(3);

    const before = bearer.tokenRequests.length;
    const { r, into } = await pull(env);
    expect(r).toMatchObject({ ok: true });
    expect(await entriesOf(into)).toEqual([dep.entry]);
    const pulls = bearer.tokenRequests.slice(before);
    expect(pulls.length).toBe(1);
    expect(decodeURIComponent(pulls[0]!.query)).toContain('service=intact-test');
    expect(decodeURIComponent(pulls[0]!.query)).toContain('scope=repository:team/auth:pull');
  });

  it("docker's config.json: auths, a credential helper, credsStore", async () => {
    proxy.requireBearer(USER, PASSWORD);
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    const dockerDir = join(work, 'docker-auths');
    await mkdir(dockerDir, { recursive: true });
    await writeFile(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [`http://${proxy.host}`]: { auth } } }));
    expect((await pull({ DOCKER_CONFIG: dockerDir })).r).toMatchObject({ ok: true });

    // docker-credential-<name> get: the server on stdin, JSON out.
    const bin = join(work, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-intact-test');
    await writeFile(
      helper,
      `#!${process.execPath}\nlet s = '';\nprocess.stdin.on('data', (d) => (s += d)).on('end', () => {\n` +
        `  if (process.argv[2] !== 'get' || s.trim() !== ${JSON.stringify(proxy.host)}) { console.log('credentials not found in native keychain'); process.exit(1); }\n` +
        `  console.log(JSON.stringify({ ServerURL: s.trim(), Username: ${JSON.stringify(USER)}, Secret: ${JSON.stringify(PASSWORD)} }));\n});\n`,
    );
    await chmod(helper, 0o755);
    const PATH = `${bin}:${process.env['PATH']}`;
    for (const cfg of [{ credHelpers: { [proxy.host]: 'intact-test' } }, { credsStore: 'intact-test' }]) {
      const dir = join(work, `docker-${Object.keys(cfg)[0]}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
      const { r } = await pull({ DOCKER_CONFIG: dir, PATH });
      expect(r, JSON.stringify(cfg)).toMatchObject({ ok: true });
    }
  });

  it('INTACT_REGISTRY_TOKEN is sent as it is; INTACT_REGISTRY_HOST keeps credentials to one host', async () => {
    const bearer = proxy.requireBearer(USER, PASSWORD);
    bearer.tokens.add('static-token');
    expect((await pull({ INTACT_REGISTRY_TOKEN: 'static-token' })).r).toMatchObject({ ok: true });
    expect(bearer.tokenRequests).toEqual([]);
    const elsewhere = await pull({ INTACT_REGISTRY_TOKEN: 'static-token', INTACT_REGISTRY_HOST: 'registry.example.invalid' });
    expect(elsewhere.r).toMatchObject({ ok: false, code: 'CACHE_AUTH' });
  });

  it('no credentials, or wrong ones: refused with a hint, nothing added, secrets not in the message', async () => {
    proxy.requireBearer(USER, PASSWORD);
    for (const env of [{}, { INTACT_REGISTRY_USER: USER, INTACT_REGISTRY_PASSWORD: 'wrong-secret-x' }]) {
      const { r, into } = await pull(env);
      expect(r).toMatchObject({ ok: false, code: 'CACHE_AUTH' });
      expect(!r.ok && r.reason).toMatch(/^refused: the token endpoint of 127\.0\.0\.1:\d+ refused/);
      expect(!r.ok && r.reason).not.toContain('wrong-secret-x');
      expect(await entriesOf(into)).toEqual([]);
      expect(await tmpLeftovers(into)).toEqual([]);
    }
  });
});

describeWithRegistry('basic authentication', () => {
  it('sends the credentials when the registry asks for Basic, and refuses without them', async () => {
    proxy.bearer = undefined;
    proxy.basic = `${USER}:${PASSWORD}`;
    try {
      expect((await pull({ INTACT_REGISTRY_USER: USER, INTACT_REGISTRY_PASSWORD: PASSWORD })).r).toMatchObject({ ok: true });
      const { r } = await pull({});
      expect(r).toMatchObject({ ok: false, code: 'CACHE_AUTH' });
      expect(!r.ok && r.reason).toMatch(/wants a user name and password/);
    } finally {
      proxy.basic = undefined;
    }
  });
});

describeWithRegistry('the rules of authentication', () => {
  it.each([
    [
      'Bearer realm="https://auth.example.invalid/token",service="registry.example.invalid",scope="repository:a/b:pull,push"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.example.invalid/token', service: 'registry.example.invalid', scope: 'repository:a/b:pull,push' } }],
    ],
    ['Basic realm="x"', [{ scheme: 'basic', params: { realm: 'x' } }]],
    [
      'Bearer realm=https://a.invalid/t, Basic realm="b, c"',
      [
        { scheme: 'bearer', params: { realm: 'https://a.invalid/t' } },
        { scheme: 'basic', params: { realm: 'b, c' } },
      ],
    ],
    ['', []],
  ])('parses %j', (header, want) => {
    expect(parseChallenges(header)).toEqual(want);
  });

  it('a reference without a scheme to a plain-http registry says to write http://', async () => {
    // reg speaks plain http; `host/repo` means https, as in docker.
    const client = new RegistryClient(parseRef(`${reg.host}/team/scheme`), { lookup: credentialLookup({}), env: {}, limits: { retries: 0 } });
    const err = await client.getManifest('0'.repeat(32)).catch((e: unknown) => e);
    await client.close();
    expect(isIntactError(err) && err.code).toBe('CACHE_UNREACHABLE');
    expect((err as Error).message).toContain('the TLS handshake failed (ERR_SSL_WRONG_VERSION_NUMBER)');
    expect((err as { hint?: string }).hint).toContain(`write the reference as http://${reg.host}/team/scheme`);
  });

  it('never sends credentials to a token endpoint over plain http off loopback', async () => {
    const { Agent } = await import('undici');
    const dispatcher = new Agent();
    const a = new Authenticator({
      host: 'registry.example.invalid',
      secure: true,
      dispatcher,
      lookup: async () => ({ username: 'u', password: 'p', source: 'test' }),
    });
    const err = await a
      .answer({ 'www-authenticate': 'Bearer realm="http://10.9.8.7/token",service="x"' }, ['repository:a:pull'], new AbortController().signal, 1000)
      .catch((e: unknown) => e);
    await dispatcher.close();
    expect(isIntactError(err) && err.code).toBe('CACHE_AUTH');
    expect((err as Error).message).toMatch(/refusing to send credentials to http:\/\/10\.9\.8\.7 over plain http/);
  });
});
