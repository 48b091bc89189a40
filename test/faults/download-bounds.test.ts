// Defect classes of the download path, each with the server that showed it:
// an endless body read to the global cap although the lock knew the size; a
// resumed download spliced onto another version of the file (If-Range not
// honoured); a stalled server retried five times before the mirror; a trickle
// that held a fetch for the whole deadline (no minimum throughput).
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IntactError } from '../../src/errors.js';
import { DownloadCache } from '../../src/fetch/cache.js';
import type { FetchContext } from '../../src/fetch/context.js';
import { download } from '../../src/fetch/http.js';
import { fetchSource } from '../../src/fetch/source.js';
import { fetchUrl } from '../../src/fetch/url.js';
import { bytes, serve, stall, startServer, trickle, type TestServer } from '../helpers/http-server.js';
import { fastLimits, MemorySink } from '../helpers/memory-sink.js';

const sri = (b: Buffer): string => `sha512-${createHash('sha512').update(b).digest('base64')}`;

let store: string;
let cache: DownloadCache;
const servers: TestServer[] = [];
const server = async (...a: Parameters<typeof startServer>): Promise<TestServer> => {
  const s = await startServer(...a);
  servers.push(s);
  return s;
};
beforeEach(() => {
  store = mkdtempSync(join(tmpdir(), 'intact-dl-bounds-'));
  cache = new DownloadCache(store);
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(store, { recursive: true, force: true });
});

const fail = (p: Promise<unknown>): Promise<IntactError> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as IntactError,
  );

describe('a download is bounded by the size the lock records', () => {
  it('stops an endless body without Content-Length at the pinned size, and keeps no temp file', async () => {
    const good = bytes(10_000, 3);
    let sent = 0;
    const s = await server({
      '/endless': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const t = setInterval(() => {
          if (res.destroyed || sent > 50 * 1024 * 1024) return clearInterval(t);
          res.write(Buffer.alloc(64 * 1024, 7));
          sent += 64 * 1024;
        }, 1);
        res.on('close', () => clearInterval(t));
      },
    });
    const ctx: FetchContext = { projectDir: store, cache, limits: fastLimits({ retries: 0 }), npmConfig: async () => ({}) as never, env: {}, offline: false };
    const e = await fail(fetchSource({ url: s.url('/endless') }, { integrity: sri(good), size: good.length }, ctx));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.message).toContain(`${good.length}-byte size intact.lock records`);
    expect(e.hint).toMatch(/re-pin/);
    expect(sent).toBeLessThan(8 * 1024 * 1024);
    expect(readdirSync(cache.tmpDir)).toEqual([]);
  });
});

describe('If-Range is honoured', () => {
  it('starts over when a resumed 206 carries another validator', async () => {
    const v1 = bytes(20_000, 1);
    const v2 = bytes(20_000, 2);
    const s = await server({
      '/f': (req, res, hit) => {
        if (hit === 1) {
          // The first version, cut short after half its bytes.
          res.writeHead(200, { etag: '"v1"', 'accept-ranges': 'bytes', 'content-length': String(v1.length) });
          res.write(v1.subarray(0, 10_000), () => res.destroy());
          return;
        }
        // A lying server: a range of the second version whatever If-Range says.
        const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        if (m) {
          const start = Number(m[1]);
          res.writeHead(206, { etag: '"v2"', 'content-range': `bytes ${start}-${v2.length - 1}/${v2.length}`, 'content-length': String(v2.length - start) });
          res.end(v2.subarray(start));
          return;
        }
        serve(v2, { etag: '"v2"', ranges: true })(req, res, hit);
      },
    });
    const sink = new MemorySink();
    await download(s.url('/f'), sink, { limits: fastLimits({ retries: 3 }) });
    expect(s.requests('/f')[1]?.['if-range']).toBe('"v1"');
    expect(sink.data.equals(v2)).toBe(true);
  });
});

describe('a slow server costs one stall, then the mirror', () => {
  it('moves to the next mirror after one stall', async () => {
    const good = bytes(5000, 4);
    const s = await server({ '/stall': stall(), '/good': serve(good) });
    const got = await fetchUrl([s.url('/stall'), s.url('/good')], cache, { limits: fastLimits({ retries: 4 }), env: {}, expected: sri(good) });
    expect(got.url).toBe(s.url('/good'));
    expect(s.requests('/stall')).toHaveLength(1);
  });

  it('gives the last location one more try after a stall, not five', async () => {
    const s = await server({ '/stall': stall() });
    const e = await fail(download(s.url('/stall'), new MemorySink(), { limits: fastLimits({ retries: 4 }) }));
    expect(e.code).toBe('FETCH_TIMEOUT');
    expect(s.requests('/stall')).toHaveLength(2);
  });

  it('ends a trickle below the minimum throughput long before the total deadline', async () => {
    const s = await server({ '/slow': trickle(bytes(10_000), 100), '/good': serve(bytes(3000, 5)) });
    const limits = fastLimits({ retries: 4, totalTimeoutMs: 60_000, minBytesPerSecond: 100, slowWindowMs: 400 });
    // The total deadline (60 s) is beyond the test's own timeout: only the
    // throughput check can end it in time.
    const e = await fail(download(s.url('/slow'), new MemorySink(), { limits }));
    expect(e.code).toBe('FETCH_TOO_SLOW');
    expect(e.message).toMatch(/below the minimum of 100 bytes\/s/);
    expect(s.requests('/slow')).toHaveLength(2);
    const got = await fetchUrl([s.url('/slow'), s.url('/good')], cache, { limits, env: {}, expected: sri(bytes(3000, 5)) });
    expect(got.url).toBe(s.url('/good'));
  });
});
