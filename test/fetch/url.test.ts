// fetchUrl: the primary URL, then mirrors, each checked against one pin.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntactError } from '../../src/errors.js';
import { DownloadCache } from '../../src/fetch/cache.js';
import { fetchUrl } from '../../src/fetch/url.js';
import { bytes, serve, startServer, status, type TestServer } from '../helpers/http-server.js';
import { fastLimits, recorder } from '../helpers/memory-sink.js';

const sri = (b: Buffer): string => `sha512-${createHash('sha512').update(b).digest('base64')}`;
const good = bytes(20_000, 1);
const wrong = bytes(20_000, 2);

let store: string;
let cache: DownloadCache;
let s: TestServer;
beforeEach(async () => {
  store = mkdtempSync(join(tmpdir(), 'intact-url-'));
  cache = new DownloadCache(store);
  s = await startServer({ '/good': serve(good), '/wrong': serve(wrong), '/gone': status(404) });
});
afterEach(async () => {
  await s.close();
  if (existsSync(store)) spawnSync('chmod', ['-R', 'u+w', store]);
  rmSync(store, { recursive: true, force: true });
});

const opts = { limits: fastLimits({ retries: 0 }), env: {} };

describe('fetchUrl', () => {
  it('skips a dead mirror and one serving other bytes, and takes the good one', async () => {
    const dead = await startServer();
    const deadUrl = dead.url('/f');
    await dead.close();
    const r = recorder();
    const got = await fetchUrl([deadUrl, s.url('/wrong'), s.url('/good')], cache, { ...opts, expected: sri(good), onEvent: r.onEvent, id: 'pkg' });
    expect(got).toMatchObject({ url: s.url('/good'), integrity: sri(good), cached: false, bytes: good.length });
    expect(readFileSync(got.path).equals(good)).toBe(true);
    const retries = r.events.filter((e) => e.type === 'retry');
    expect(retries.map((e) => e.type === 'retry' && e.url)).toEqual([s.url('/wrong'), s.url('/good')]);
    expect(r.events.at(-1)).toEqual({ type: 'done', id: 'pkg', bytes: good.length, cached: false });
  });

  it('lists every location and why it failed when all fail', async () => {
    const r = recorder();
    const e = await fetchUrl([s.url('/gone'), s.url('/wrong')], cache, { ...opts, expected: sri(good), onEvent: r.onEvent }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IntactError);
    const err = e as IntactError;
    expect(err.code).toBe('FETCH_FAILED');
    expect(err.message).toContain(`${s.url('/gone')}: GET ${s.url('/gone')} failed: HTTP 404`);
    expect(err.message).toContain(`${s.url('/wrong')}: ${s.url('/wrong')} did not match its pinned integrity`);
    expect(err.hint).toMatch(/replaced upstream/);
    expect(r.events.at(-1)).toMatchObject({ type: 'fail', id: s.url('/gone') });
  });

  it('keeps the precise error when there is only one location', async () => {
    await expect(fetchUrl([s.url('/wrong')], cache, { ...opts, expected: sri(good) })).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH' });
  });

  it('pins the first location that answers on a first lock, without asking mirrors', async () => {
    const got = await fetchUrl([s.url('/good'), s.url('/wrong')], cache, opts);
    expect(got.integrity).toBe(sri(good));
    expect(s.requests('/wrong')).toHaveLength(0);
  });

  it('asks no server at all on a verified cache hit', async () => {
    await fetchUrl([s.url('/good')], cache, { ...opts, expected: sri(good) });
    const r = recorder();
    const again = await fetchUrl([s.url('/good'), s.url('/wrong')], cache, { ...opts, expected: sri(good), onEvent: r.onEvent });
    expect(again.cached).toBe(true);
    expect(s.requests('/good')).toHaveLength(1);
    expect(r.events).toEqual([{ type: 'done', id: s.url('/good'), bytes: good.length, cached: true }]);
  });

  it('does not try mirrors once the caller cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(fetchUrl([s.url('/good'), s.url('/wrong')], cache, { ...opts, signal: ac.signal })).rejects.toMatchObject({ code: 'FETCH_ABORTED' });
    expect(s.requests('/good')).toHaveLength(0);
    expect(s.requests('/wrong')).toHaveLength(0);
  });
});
