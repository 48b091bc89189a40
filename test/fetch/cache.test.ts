// DownloadCache: verify-then-rename, corruption healing, concurrency, crash leftovers.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntactError } from '../../src/errors.js';
import { DownloadCache } from '../../src/fetch/cache.js';
import type { ByteSink } from '../../src/fetch/types.js';
import { bytes } from '../helpers/http-server.js';

let store: string;
let cache: DownloadCache;
beforeEach(() => {
  store = mkdtempSync(join(tmpdir(), 'intact-cache-'));
  cache = new DownloadCache(store);
});
afterEach(() => {
  // Entries are read-only; make them removable again.
  if (existsSync(join(store, 'cache'))) spawnSync('chmod', ['-R', 'u+w', store]);
  rmSync(store, { recursive: true, force: true });
});

const sri = (alg: string, b: Buffer): string => `${alg}-${createHash(alg).update(b).digest('base64')}`;

/** A producer writing `data` in a few chunks, counting its calls. */
function producer(data: Buffer): ((sink: ByteSink) => Promise<void>) & { calls: number } {
  const p = async (sink: ByteSink): Promise<void> => {
    p.calls++;
    for (let i = 0; i < data.length; i += 7000) sink.write(data.subarray(i, i + 7000));
  };
  p.calls = 0;
  return p;
}

/** Every file below dir, recursively. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe('DownloadCache', () => {
  it('stores under a path that is a pure function of the hash', () => {
    const data = bytes(10);
    const hex = createHash('sha512').update(data).digest('hex');
    expect(cache.pathFor(sri('sha512', data))).toBe(join(store, 'cache', 'sha512', hex.slice(0, 2), hex));
  });

  it('hashes with sha512 on a first lock and stores a read-only file', async () => {
    const data = bytes(50_000);
    const got = await cache.ingest({ what: 'test' }, producer(data));
    expect(got).toEqual({ integrity: sri('sha512', data), path: cache.pathFor(sri('sha512', data)), bytes: data.length, cached: false });
    expect(readFileSync(got.path).equals(data)).toBe(true);
    expect(statSync(got.path).mode & 0o222).toBe(0);
    expect(files(join(store, 'tmp'))).toEqual([]);
    expect(await cache.has(got.integrity)).toBe(true);
  });

  it('serves a verified hit without calling the producer', async () => {
    const data = bytes(20_000);
    const expected = sri('sha512', data);
    const p = producer(data);
    expect((await cache.ingest({ expected, what: 'x' }, p)).cached).toBe(false);
    const again = await cache.ingest({ expected, what: 'x' }, p);
    expect(again).toMatchObject({ cached: true, integrity: expected, bytes: data.length });
    expect(p.calls).toBe(1);
  });

  it('refuses a mismatch, names what/expected/found, and stores nothing', async () => {
    const good = bytes(1000, 1);
    const bad = bytes(1000, 2);
    const expected = sri('sha512', good);
    const e = await cache.ingest({ expected, what: 'https://example.test/f.tgz' }, producer(bad)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IntactError);
    const err = e as IntactError;
    expect(err.code).toBe('INTEGRITY_MISMATCH');
    expect(err.message).toContain('https://example.test/f.tgz');
    expect(err.message).toContain(expected);
    expect(err.message).toContain(sri('sha512', bad));
    expect(err.expected).toBe(expected);
    expect(err.found).toBe(sri('sha512', bad));
    expect(err.url).toBe('https://example.test/f.tgz');
    expect(err.hint).toMatch(/replaced upstream/);
    expect(err.hint).toMatch(/mirror/);
    expect(err.hint).toMatch(/Nothing was stored/);
    expect(files(join(store, 'cache'))).toEqual([]);
    expect(files(join(store, 'tmp'))).toEqual([]);
  });

  it('detects a corrupted entry, removes it and fetches again', async () => {
    const data = bytes(30_000);
    const expected = sri('sha512', data);
    const p = producer(data);
    const { path } = await cache.ingest({ expected, what: 'x' }, p);
    chmodSync(path, 0o644);
    writeFileSync(path, 'tampered');
    const again = await cache.ingest({ expected, what: 'x' }, p);
    expect(again.cached).toBe(false);
    expect(p.calls).toBe(2);
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  it("hashes and stores with the pin's algorithm (sha256, sha384)", async () => {
    const data = bytes(5000);
    for (const alg of ['sha256', 'sha384']) {
      const got = await cache.ingest({ expected: sri(alg, data), what: 'x' }, producer(data));
      expect(got.integrity).toBe(sri(alg, data));
      expect(got.path.startsWith(join(store, 'cache', alg))).toBe(true);
    }
  });

  it('verifies against one algorithm and returns another, reachable under both', async () => {
    const data = bytes(5000);
    const got = await cache.ingest({ expected: sri('sha256', data), algorithm: 'sha512', what: 'x' }, producer(data));
    expect(got.integrity).toBe(sri('sha512', data));
    expect(await cache.has(sri('sha256', data))).toBe(true);
    const hit = await cache.ingest({ expected: sri('sha256', data), algorithm: 'sha512', what: 'x' }, producer(data));
    expect(hit).toMatchObject({ cached: true, integrity: sri('sha512', data) });
  });

  it('restarts the file and the hash on reset()', async () => {
    const data = bytes(4000);
    const got = await cache.ingest({ expected: sri('sha512', data), what: 'x' }, async (sink) => {
      sink.write(bytes(9000, 9));
      sink.reset();
      expect(sink.bytes).toBe(0);
      sink.write(data);
    });
    expect(readFileSync(got.path).equals(data)).toBe(true);
    expect(statSync(got.path).size).toBe(data.length);
  });

  it('lets concurrent ingests of the same content all succeed', async () => {
    const data = bytes(200_000);
    const other = new DownloadCache(store);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? cache : other).ingest({ what: 'x' }, async (sink) => {
          for (let off = 0; off < data.length; off += 10_000) {
            sink.write(data.subarray(off, off + 10_000));
            await new Promise((r) => setImmediate(r));
          }
        }),
      ),
    );
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
    expect(readFileSync(results[0]!.path).equals(data)).toBe(true);
    expect(files(join(store, 'tmp'))).toEqual([]);
  });

  it('removes the temp file when the producer fails', async () => {
    const e = await cache
      .ingest({ what: 'x' }, async (sink) => {
        sink.write(bytes(100));
        throw new Error('network went away');
      })
      .catch((x: unknown) => x);
    expect((e as Error).message).toBe('network went away');
    expect(files(store)).toEqual([]);
  });

  it('refuses a weak or malformed pin before fetching anything', async () => {
    const p = producer(bytes(10));
    await expect(cache.ingest({ expected: 'sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=', what: 'x' }, p)).rejects.toMatchObject({ code: 'INTEGRITY_WEAK' });
    await expect(cache.ingest({ expected: 'sha512-nope', what: 'x' }, p)).rejects.toMatchObject({ code: 'INTEGRITY_MALFORMED' });
    expect(p.calls).toBe(0);
  });

  it('while bytes stream, only a temp file exists; nothing partial under cache/', async () => {
    // What a SIGKILL at this moment would leave behind.
    let release!: () => void;
    let wrote!: () => void;
    const written = new Promise<void>((r) => (wrote = r));
    const done = cache.ingest({ what: 'x' }, async (sink) => {
      sink.write(bytes(1000));
      wrote();
      await new Promise<void>((r) => (release = r));
      sink.write(bytes(1000, 3));
    });
    await written;
    expect(files(join(store, 'cache'))).toEqual([]);
    const temps = readdirSync(join(store, 'tmp'));
    expect(temps).toHaveLength(1);
    expect(temps[0]).toContain(`-${process.pid}-`);
    release();
    await done;
    expect(files(join(store, 'tmp'))).toEqual([]);
  });
});
