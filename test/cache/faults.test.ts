// Every fault of issue 8's "Bad input and faults", against the real registry
// (and a loopback proxy in front of it where the registry must misbehave): each
// artifact is refused or the request retried as it should be, the refusal names
// the reason, and the store gets nothing partial (no entry, no leftover files).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { pushEntries } from '../../src/cache/push.js';
import { parseRef } from '../../src/cache/ref.js';
import { makeSubstituter, type PlanLike } from '../../src/cache/substitute.js';
import type { PublicKey } from '../../src/cache/keys.js';
import type { ClientLimits } from '../../src/cache/oci/client.js';
import { credentialLookup } from '../../src/cache/oci/credentials.js';
import { describeWithRegistry, registrySkip, startRegistry, tamper, type TestRegistry } from '../helpers/registry.js';
import { clientFor, readArtifact, resign, testKey, writeArtifact } from '../helpers/registry-craft.js';
import { addTestEntry, checksFor, cleanupStores, entriesOf, tempStore, tmpLeftovers } from '../helpers/registry-entries.js';
import { RegistryProxy } from '../helpers/registry-proxy.js';
import type { StoreLayout } from '../../src/store/paths.js';
import { writeFile } from 'node:fs/promises';

let reg: TestRegistry;
let store: StoreLayout;
let dep: PlanLike;
let app: PlanLike;
let appOld: PlanLike;
const ci = testKey('ci-1');
const FAST: Partial<ClientLimits> = { backoffMs: 20, retries: 2 };

/** Pushes the test entries to `repo` (blobs mounted from the first push, so it is cheap). */
async function pushTo(repo: string, plans: PlanLike[] = [dep, app, appOld]): Promise<void> {
  const client = clientFor(reg.ref(repo));
  try {
    await pushEntries(plans, { client, store, key: ci.secret, mountFrom: ['team/base'] });
  } finally {
    await client.close();
  }
}

/** Substitutes `plans` (in order) from `ref` into a fresh store; returns the outcomes and the store. */
async function substitute(
  ref: string,
  plans: PlanLike[],
  o: { trusted?: PublicKey[]; env?: NodeJS.ProcessEnv; limits?: Partial<ClientLimits>; prefetch?: boolean } = {},
) {
  const into = await tempStore();
  // The run's plans: the wanted ones and what they need (app needs dep).
  const all = new Map(plans.map((p) => [p.key, p]));
  if (plans.some((p) => p.deps.length > 0) && !all.has(dep.key)) all.set(dep.key, dep);
  const sub = makeSubstituter({
    config: { substituters: [parseRef(ref)], trustedKeys: o.trusted ?? [ci.public] },
    checks: checksFor(into),
    plans: [...all.values()],
    lookup: credentialLookup(o.env ?? {}),
    env: o.env ?? {},
    limits: { ...FAST, ...o.limits },
  });
  const outcomes = [];
  try {
    if (o.prefetch !== false) sub.prefetch();
    for (const p of plans) outcomes.push(await sub.substitute(p));
  } finally {
    await sub.close();
  }
  return { outcomes, into };
}

/** Refused with `code`, nothing added, nothing left in tmp. */
async function expectRefused(ref: string, plan: PlanLike, code: ErrorCode, reason: RegExp, o: Parameters<typeof substitute>[2] = {}) {
  const { outcomes, into } = await substitute(ref, [plan], o);
  const r = outcomes[0]!;
  expect(r.ok, JSON.stringify(r)).toBe(false);
  if (!r.ok) {
    expect(r.code).toBe(code);
    expect(r.reason).toMatch(reason);
  }
  expect(await entriesOf(into)).toEqual([]);
  expect(await tmpLeftovers(into)).toEqual([]);
}

beforeAll(async () => {
  if (registrySkip() !== undefined) return;
  reg = await startRegistry();
  store = await tempStore();
  // 1 MiB of incompressible bytes, so the archive is large enough to cut in the middle.
  dep = await addTestEntry(store, 'dep', '1.0.0', {
    'bin/tool': { content: '#!/bin/sh\necho tool\n', exec: true },
    'share/blob': randomBytes(1024 * 1024).toString('latin1'),
    'share/link': { link: 'blob' },
  });
  app = await addTestEntry(store, 'app', '2.0.0', { 'bin/app': { content: '#!/bin/sh\necho app 2\n', exec: true } }, [dep]);
  appOld = await addTestEntry(store, 'app', '1.0.0', { 'bin/app': { content: '#!/bin/sh\necho app 1\n', exec: true } }, [dep]);
  const client = clientFor(reg.ref('team/base'));
  await pushEntries([dep, app, appOld], { client, store, key: ci.secret });
  await client.close();
}, 30_000);

afterAll(async () => {
  await reg?.stop();
  await cleanupStores();
});

describeWithRegistry('substitution accepts a good artifact', () => {
  it('round trip: the same entries, verified and added', async () => {
    const { outcomes, into } = await substitute(reg.ref('team/base'), [dep, app]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(await entriesOf(into)).toEqual([dep.entry, app.entry].sort());
    expect(await tmpLeftovers(into)).toEqual([]);
  });
});

describeWithRegistry('an artifact pushed before chunks were signed', () => {
  it('is verified part by part and substituted; a push replaces it with a chunked one', async () => {
    await pushTo('team/unchunked', [dep]);
    const c = clientFor(reg.ref('team/unchunked'));
    const a = await readArtifact(c, dep.key);
    const parts = a.metadata.entry.archive.parts.map(({ digest, size }) => ({ digest, size }));
    await writeArtifact(
      c,
      dep.key,
      resign({ ...a.metadata, entry: { ...a.metadata.entry, archive: { mediaType: a.metadata.entry.archive.mediaType, parts } } }, ci.secret),
    );
    expect((await readArtifact(c, dep.key)).metadata.entry.archive.chunk).toBeUndefined();
    const { outcomes, into } = await substitute(reg.ref('team/unchunked'), [dep]);
    expect(outcomes[0]!.ok, JSON.stringify(outcomes[0])).toBe(true);
    expect(await entriesOf(into)).toEqual([dep.entry]);
    await pushTo('team/unchunked', [dep]);
    expect((await readArtifact(c, dep.key)).metadata.entry.archive.chunk).toBeGreaterThan(0);
    await c.close();
  });
});

describeWithRegistry('artifacts that must be refused', () => {
  it('blob bytes that do not match their digest (the registry storage tampered with)', async () => {
    await pushTo('team/tampered', [dep]);
    const { manifest } = await readArtifact(clientFor(reg.ref('team/tampered')), dep.key);
    const file = reg.blobFile(manifest.layers[0]!.digest);
    const original = await tamper(file);
    try {
      await expectRefused(reg.ref('team/tampered'), dep, 'CACHE_DIGEST_MISMATCH', /^mismatching: .*team\/tampered.*: the blob's bytes do not match its digest/);
    } finally {
      await writeFile(file, original);
    }
  });

  it('a bad byte in the last signed chunk of a part that was already being unpacked', async () => {
    await pushTo('team/tampered-tail', [dep]);
    const { manifest, metadata } = await readArtifact(clientFor(reg.ref('team/tampered-tail')), dep.key);
    // More than one chunk: the first is verified and unpacked while the rest downloads.
    expect(metadata.entry.archive.parts[0]!.chunks!.length).toBeGreaterThan(1);
    const file = reg.blobFile(manifest.layers[0]!.digest);
    const original = await tamper(file, -10);
    try {
      await expectRefused(
        reg.ref('team/tampered-tail'),
        dep,
        'CACHE_DIGEST_MISMATCH',
        /^mismatching: .*team\/tampered-tail.*: the blob's bytes do not match its digest \(signed for bytes 1048576-/,
      );
    } finally {
      await writeFile(file, original);
    }
  });

  it('a signature moved from one artifact to another', async () => {
    await pushTo('team/moved');
    const c = clientFor(reg.ref('team/moved'));
    const a = await readArtifact(c, app.key);
    const d = await readArtifact(c, dep.key);
    await writeArtifact(c, app.key, { ...a.metadata, signatures: d.metadata.signatures });
    await c.close();
    await expectRefused(
      reg.ref('team/moved'),
      app,
      'CACHE_BAD_SIGNATURE',
      /^untrusted: http:\/\/127\.0\.0\.1:\d+\/team\/moved:\w+: the signature by ci-1 does not verify/,
    );
  });

  it.each([
    ['the size', (m: { entry: { size: number } }) => void (m.entry.size += 1)],
    ['the output hash', (m: { entry: { output: string } }) => void (m.entry.output = `sha256-${Buffer.alloc(32, 1).toString('base64')}`)],
    ['the bin list', (m: { entry: { bin: string[] } }) => void m.entry.bin.push('bin/evil')],
    ['the sandbox level', (m: { entry: { sandbox: string } }) => void (m.entry.sandbox = 'none')],
  ])('metadata changed after signing: %s', async (_what, change) => {
    const repo = `team/changed-${_what.replace(/\W+/g, '-')}`;
    await pushTo(repo, [dep, app]);
    const c = clientFor(reg.ref(repo));
    const a = await readArtifact(c, app.key);
    const md = structuredClone(a.metadata);
    change(md as never);
    await writeArtifact(c, app.key, md);
    await c.close();
    await expectRefused(reg.ref(repo), app, 'CACHE_BAD_SIGNATURE', /does not verify/);
  });

  it('a tag pointing at an older, validly signed artifact', async () => {
    await pushTo('team/rollback');
    const c = clientFor(reg.ref('team/rollback'));
    const old = await readArtifact(c, appOld.key);
    await c.putManifest(app.key, old.manifestBytes);
    await c.close();
    await expectRefused(
      reg.ref('team/rollback'),
      app,
      'CACHE_MISMATCH',
      /^mismatching: .*: the tag points at a signed artifact for another key \(app@1\.0\.0\)/,
    );
  });

  it('a key with a trusted name but other bytes', async () => {
    const impostor = testKey('ci-1');
    const c = clientFor(reg.ref('team/impostor'));
    await pushEntries([dep], { client: c, store, key: impostor.secret, mountFrom: ['team/base'] });
    await c.close();
    await expectRefused(reg.ref('team/impostor'), dep, 'CACHE_BAD_SIGNATURE', /the signature by ci-1 does not verify with the trusted key of that name/);
  });

  it('an unsigned artifact, and one signed by a key nobody trusts', async () => {
    await pushTo('team/unsigned', [dep]);
    const c = clientFor(reg.ref('team/unsigned'));
    const d = await readArtifact(c, dep.key);
    await writeArtifact(c, dep.key, { ...d.metadata, signatures: [] });
    await c.close();
    await expectRefused(reg.ref('team/unsigned'), dep, 'CACHE_UNSIGNED', /unsigned/);
    await expectRefused(reg.ref('team/base'), dep, 'CACHE_UNTRUSTED', /untrusted: .*signed by ci-1, which cache\.trusted-keys does not list/, {
      trusted: [testKey('someone-1').public],
    });
  });

  it('a validly signed artifact whose archive is not the signed tree (a compromised signer)', async () => {
    await pushTo('team/lying', [dep, app]);
    const c = clientFor(reg.ref('team/lying'));
    const a = await readArtifact(c, app.key);
    const d = await readArtifact(c, dep.key);
    // app's signed metadata, but dep's archive as its layer: signed, bound, and wrong inside.
    const md = resign({ ...a.metadata, entry: { ...a.metadata.entry, archive: d.metadata.entry.archive } }, ci.secret);
    await writeArtifact(c, app.key, md);
    await c.close();
    const { outcomes, into } = await substitute(reg.ref('team/lying'), [dep, app]);
    expect(outcomes[0]!.ok).toBe(true);
    expect(outcomes[1]).toMatchObject({ ok: false, code: 'CACHE_MISMATCH' });
    expect(!outcomes[1]!.ok && outcomes[1]!.reason).toMatch(/unpacks to another tree than the signed one/);
    expect(await entriesOf(into)).toEqual([dep.entry]);
    expect(await tmpLeftovers(into)).toEqual([]);
  });

  it('an output hash other than the one intact.lock records', async () => {
    const pinned = { ...dep, expectedOutput: `sha256-${Buffer.alloc(32, 9).toString('base64')}` };
    await expectRefused(reg.ref('team/base'), pinned, 'CACHE_MISMATCH', /differs from the one intact\.lock records/);
  });

  it('a signed archive that would escape its folder is refused by extraction', async () => {
    const s = await tempStore();
    const evil = await addTestEntry(s, 'evil', '1.0.0', { 'etc-passwd': { link: '/etc/passwd' } });
    const c = clientFor(reg.ref('team/evil'));
    await pushEntries([evil], { client: c, store: s, key: ci.secret });
    await c.close();
    const into = await tempStore();
    const sub = makeSubstituter({
      config: { substituters: [parseRef(reg.ref('team/evil'))], trustedKeys: [ci.public] },
      checks: checksFor(into),
      plans: [evil],
      lookup: async () => undefined,
      limits: FAST,
    });
    const r = await sub.substitute(evil);
    await sub.close();
    expect(r).toMatchObject({ ok: false, code: 'EXTRACT_LINK_ESCAPE' });
    expect(await entriesOf(into)).toEqual([]);
    expect(await tmpLeftovers(into)).toEqual([]);
  });
});

describeWithRegistry('a registry that misbehaves', () => {
  let proxy: RegistryProxy;
  beforeAll(async () => {
    proxy = await RegistryProxy.start(reg.origin);
  });
  afterAll(async () => {
    await proxy.close();
  });
  const isManifest = (url = '') => /\/manifests\//.test(url);
  const isBlobGet = (m = '', url = '') => m === 'GET' && /\/blobs\/sha256:/.test(url);

  it('a manifest over the size limit, announced or streamed', async () => {
    for (const announce of [true, false]) {
      proxy.fault = (req, res) => {
        if (!isManifest(req.url)) return false;
        req.resume();
        const body = Buffer.alloc(5 * 1024 * 1024, 0x20);
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', ...(announce ? { 'content-length': String(body.length) } : {}) });
        res.end(body);
        return true;
      };
      await expectRefused(proxy.ref('team/base'), dep, 'CACHE_TOO_LARGE', /invalid: .*larger than the 4194304-byte limit/);
    }
    proxy.fault = undefined;
  });

  it('the registry going down mid-download: resumed when it comes back, refused when it does not', async () => {
    const layer = (await readArtifact(clientFor(reg.ref('team/base')), dep.key)).manifest.layers[0]!.digest;
    let cuts = 0;
    proxy.fault = (req, res, p) => {
      if (!isBlobGet(req.method, req.url) || !req.url!.endsWith(layer) || req.headers.range !== undefined || cuts >= 1) return false;
      cuts++;
      void p.forward(req, res, { cutAfter: 200_000 });
      return true;
    };
    const ok = await substitute(proxy.ref('team/base'), [dep]);
    expect(ok.outcomes[0]!.ok).toBe(true);
    expect(cuts).toBe(1);
    expect(proxy.seen.some((s) => s.method === 'GET' && /blobs/.test(s.path) && s.status === 206)).toBe(true);

    proxy.fault = (req, res, p) => {
      if (!isBlobGet(req.method, req.url) || !req.url!.endsWith(layer)) return false;
      void p.forward(req, res, { cutAfter: 100_000 });
      return true;
    };
    await expectRefused(proxy.ref('team/base'), dep, 'CACHE_UNREACHABLE', /unreachable: .*could not be downloaded/);
    proxy.fault = undefined;
  });

  it('a registry that is down: refused at once for every entry, asked once', async () => {
    const gone = await RegistryProxy.start(reg.origin);
    const ref = gone.ref('team/base');
    await gone.down();
    const { outcomes, into } = await substitute(ref, [dep, app], { prefetch: false });
    expect(outcomes.map((o) => !o.ok && o.code)).toEqual(['CACHE_UNREACHABLE', 'CACHE_UNREACHABLE']);
    expect(!outcomes[1]!.ok && outcomes[1]!.reason).toMatch(/not asked again in this run/);
    expect(await entriesOf(into)).toEqual([]);
  });

  it('429: waits as told and retries; gives up when it keeps refusing or asks for too long', async () => {
    let refused = 0;
    proxy.fault = (req, res) => {
      if (refused >= 2) return false;
      refused++;
      req.resume();
      res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      return true;
    };
    const ok = await substitute(proxy.ref('team/base'), [dep]);
    expect(ok.outcomes[0]!.ok).toBe(true);
    expect(refused).toBe(2);

    proxy.fault = (req, res) => {
      req.resume();
      res.writeHead(429, { 'retry-after': '0' }).end();
      return true;
    };
    await expectRefused(proxy.ref('team/base'), dep, 'CACHE_REGISTRY', /^registry error: .*HTTP 429.*after 3 attempts/);

    proxy.fault = (req, res) => {
      req.resume();
      res.writeHead(429, { 'retry-after': '3600' }).end();
      return true;
    };
    // Refused without waiting the hour: the test's own timeout would catch a wait.
    await expectRefused(proxy.ref('team/base'), dep, 'CACHE_REGISTRY', /asks to wait \d+ s/);
    proxy.fault = undefined;
  });
});
