// Pushing against the real registry: blobs the registry has are not sent again
// (HEAD), blobs another repository has are mounted, large blobs go in PATCH
// chunks, two pushers at once both succeed, and a store entry changed since its
// build is never signed.
import { chmod, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pushEntries } from '../../src/cache/push.js';
import { parseRef } from '../../src/cache/ref.js';
import { RegistryClient } from '../../src/cache/oci/client.js';
import { credentialLookup } from '../../src/cache/oci/credentials.js';
import { makeSubstituter, type PlanLike } from '../../src/cache/substitute.js';
import { entryPath, readMeta } from '../../src/store/entry.js';
import type { StoreLayout } from '../../src/store/paths.js';
import { describeWithRegistry, registrySkip, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { clientFor, readArtifact, testKey } from '../helpers/registry-craft.js';
import { addTestEntry, checksFor, cleanupStores, entriesOf, tempStore } from '../helpers/registry-entries.js';
import { RegistryProxy } from '../helpers/registry-proxy.js';

let reg: TestRegistry;
let proxy: RegistryProxy;
let store: StoreLayout;
let big: PlanLike;
let small: PlanLike;
const ci = testKey('ci-1');

beforeAll(async () => {
  if (registrySkip() !== undefined) return;
  reg = await startRegistry();
  proxy = await RegistryProxy.start(reg.origin);
  store = await tempStore();
  big = await addTestEntry(store, 'big', '1.0.0', Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`data/${i}`, randomBytes(90_000).toString('hex')])));
  small = await addTestEntry(store, 'small', '1.0.0', { 'x.txt': 'small\n' }, [big]);
});

afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
  await cleanupStores();
});

async function pullAll(ref: string): Promise<string[]> {
  const into = await tempStore();
  const sub = makeSubstituter({
    config: { substituters: [parseRef(ref)], trustedKeys: [ci.public] },
    checks: checksFor(into),
    plans: [big, small],
    lookup: credentialLookup({}),
  });
  sub.prefetch();
  const r = [await sub.substitute(big), await sub.substitute(small)];
  await sub.close();
  expect(r.map((o) => o.ok)).toEqual([true, true]);
  return entriesOf(into);
}

describeWithRegistry('intact cache push, on the wire', () => {
  it('uploads large blobs in PATCH chunks, small ones in one PUT, and the result pulls', async () => {
    const client = new RegistryClient(parseRef(proxy.ref('team/chunks')), {
      lookup: credentialLookup({}),
      limits: { monolithicMaxBytes: 64 * 1024, chunkBytes: 256 * 1024 },
    });
    const start = proxy.seen.length;
    const reports = await pushEntries([big, small], { client, store, key: ci.secret });
    await client.close();
    expect(reports.map((r) => [r.name, r.status, r.archive])).toEqual([
      ['big', 'pushed', 'uploaded'],
      ['small', 'pushed', 'uploaded'],
    ]);
    const seen = proxy.seen.slice(start);
    expect(seen.filter((s) => s.method === 'PATCH').length).toBeGreaterThanOrEqual(3);
    expect(seen.filter((s) => s.method === 'PATCH').every((s) => s.status === 202)).toBe(true);
    expect(seen.filter((s) => s.method === 'PUT' && /manifests/.test(s.path)).length).toBe(2);
    expect(await pullAll(proxy.ref('team/chunks'))).toEqual([big.entry, small.entry].sort());
  });

  it('a large entry in several archive parts: each verified and unpacked while the next downloads', async () => {
    const client = clientFor(proxy.ref('team/parts'));
    const reports = await pushEntries([big, small], { client, store, key: ci.secret, partTarBytes: 200_000 });
    await client.close();
    expect(reports[0]!.parts).toBeGreaterThanOrEqual(4);
    const art = await readArtifact(clientFor(reg.ref('team/parts')), big.key);
    expect(art.manifest.layers.map((l) => l.digest)).toEqual(art.metadata.entry.archive.parts.map((p) => p.digest));
    const start = proxy.seen.length;
    expect(await pullAll(proxy.ref('team/parts'))).toEqual([big.entry, small.entry].sort());
    expect(proxy.seen.slice(start).filter((s) => s.method === 'GET' && /blobs/.test(s.path)).length).toBe(reports[0]!.parts! + 1 + 2);
  });

  it('sends nothing the registry has: a second push is two small reads per entry', async () => {
    const client = clientFor(proxy.ref('team/chunks'));
    const start = proxy.seen.length;
    const reports = await pushEntries([big, small], { client, store, key: ci.secret });
    await client.close();
    expect(reports.map((r) => r.status)).toEqual(['present', 'present']);
    const seen = proxy.seen.slice(start);
    expect(seen.filter((s) => s.method !== 'GET' && s.method !== 'HEAD')).toEqual([]);
  });

  it('mounts a blob from another repository of the same registry instead of uploading it', async () => {
    const client = clientFor(proxy.ref('team/mounted'));
    const start = proxy.seen.length;
    const reports = await pushEntries([big], { client, store, key: ci.secret, mountFrom: ['team/chunks'] });
    await client.close();
    expect(reports[0]).toMatchObject({ status: 'pushed', archive: 'mounted' });
    const seen = proxy.seen.slice(start);
    expect(seen.some((s) => s.method === 'POST' && s.path.includes('mount=') && s.path.includes('from=team%2Fchunks') && s.status === 201)).toBe(true);
    expect(seen.filter((s) => s.method === 'PATCH')).toEqual([]);
  });

  it('two pushers of the same entries at once both succeed, with a complete, signed result', async () => {
    const other = testKey('ci-2');
    const a = clientFor(reg.ref('team/race'));
    const b = clientFor(reg.ref('team/race'));
    const [ra, rb] = await Promise.all([
      pushEntries([big, small], { client: a, store, key: ci.secret }),
      pushEntries([big, small], { client: b, store, key: other.secret }),
    ]);
    await Promise.all([a.close(), b.close()]);
    expect([...ra, ...rb].every((r) => r.status === 'pushed' || r.status === 'present')).toBe(true);
    const art = await readArtifact(clientFor(reg.ref('team/race')), big.key);
    expect(['ci-1', 'ci-2']).toContain(art.metadata.signatures[0]!.key);
    const into = await tempStore();
    const sub = makeSubstituter({
      config: { substituters: [parseRef(reg.ref('team/race'))], trustedKeys: [ci.public, other.public] },
      checks: checksFor(into),
      plans: [big, small],
      lookup: credentialLookup({}),
    });
    expect((await sub.substitute(big)).ok).toBe(true);
    expect((await sub.substitute(small)).ok).toBe(true);
    await sub.close();
  });

  it('refuses to sign an entry that changed since its build, and skips substituted ones', async () => {
    const s = await tempStore();
    const e = await addTestEntry(s, 'changed', '1.0.0', { 'f.txt': 'original\n' });
    const file = join(entryPath(s, e.key, e.name, e.version), 'f.txt');
    await chmod(entryPath(s, e.key, e.name, e.version), 0o755);
    await chmod(file, 0o644);
    await writeFile(file, 'tampered\n');
    const client = clientFor(reg.ref('team/changed'));
    await expect(pushEntries([e], { client, store: s, key: ci.secret })).rejects.toMatchObject({ code: 'OUTPUT_MISMATCH' });
    expect(await client.getManifest(e.key)).toBeUndefined();

    const meta = (await readMeta(store, small.key))!;
    const s2 = await tempStore();
    const e2 = await addTestEntry(s2, 'small', '1.0.0', { 'x.txt': 'small\n' }, [big]);
    const tmp = join(s2.tmp, 'meta.json');
    await writeFile(tmp, JSON.stringify({ ...meta, key: e2.key, origin: 'substituted' }));
    await rename(tmp, join(s2.meta, `${e2.key}.json`));
    await expect(pushEntries([e2], { client, store: s2, key: ci.secret })).resolves.toMatchObject([{ status: 'skipped' }]);
    await client.close();
  });
});
