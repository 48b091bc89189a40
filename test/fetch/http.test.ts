// download(): the HTTP path against a loopback server that misbehaves on purpose.
import { afterEach, describe, expect, it } from 'vitest';
import { IntactError } from '../../src/errors.js';
import { makeAgent } from '../../src/fetch/agent.js';
import { download, type DownloadOptions } from '../../src/fetch/http.js';
import {
  bytes,
  failTimes,
  http10,
  lyingLength,
  raw,
  redirect,
  reset,
  selfSignedCert,
  serve,
  silent,
  stall,
  startConnectProxy,
  startServer,
  status,
  trickle,
  truncate,
  type TestServer,
} from '../helpers/http-server.js';
import { fastLimits, MemorySink, recorder } from '../helpers/memory-sink.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  open.push(s);
  return s;
}

/** Runs download and returns the IntactError it must throw. */
async function fails(url: string, sink: MemorySink, opts: Partial<DownloadOptions> = {}): Promise<IntactError> {
  try {
    await download(url, sink, { limits: fastLimits(), env: {}, ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(IntactError);
    return e as IntactError;
  }
  throw new Error(`expected ${url} to fail`);
}

async function get(url: string, opts: Partial<DownloadOptions> = {}, sink = new MemorySink()): Promise<MemorySink> {
  await download(url, sink, { limits: fastLimits(), env: {}, ...opts });
  return sink;
}

describe('download: success paths', () => {
  it('streams a file into the sink and reports start and progress', async () => {
    const body = bytes(300_000);
    const s = await server({ '/f': serve(body) });
    const r = recorder();
    const sink = await get(s.url('/f'), { onEvent: r.onEvent, id: 'x' });
    expect(sink.data.equals(body)).toBe(true);
    expect(r.events[0]).toEqual({ type: 'start', id: 'x', url: s.url('/f'), total: body.length });
    expect(r.events.at(-1)).toEqual({ type: 'progress', id: 'x', bytes: body.length, total: body.length });
    // Never compressed: we hash the bytes the server stores, not a transfer encoding.
    expect(s.requests('/f')[0]!['accept-encoding']).toBe('identity');
  });

  it('follows a chain of redirects, relative and absolute', async () => {
    const body = bytes(1000);
    const s = await server({ '/file': serve(body) });
    s.route('/a', redirect(s.url('/b'), 301));
    s.route('/b', redirect('/c', 307));
    s.route('/c', redirect('file', 308));
    const sink = await get(s.url('/a'));
    expect(sink.data.equals(body)).toBe(true);
    expect(s.requests('/file')).toHaveLength(1);
  });

  it('reads an HTTP/1.0 response without Content-Length to the end of the connection', async () => {
    const body = bytes(200_000);
    const s = await server({ '/f': http10(body, false) });
    expect((await get(s.url('/f'))).data.equals(body)).toBe(true);
  });

  it('sends caller headers, and drops credentials on a redirect to another origin', async () => {
    const body = bytes(10);
    const other = await server({ '/f': serve(body) });
    const s = await server({ '/same': redirect('/there'), '/there': redirect(other.url('/f')) });
    await get(s.url('/same'), { headers: { authorization: 'Bearer t', 'x-trace': '1' } });
    expect(s.requests('/there')[0]!.authorization).toBe('Bearer t');
    expect(other.requests('/f')[0]!.authorization).toBeUndefined();
    expect(other.requests('/f')[0]!['x-trace']).toBe('1');
  });
});

describe('download: a caller-owned connection pool', () => {
  it('shares one connection across downloads and leaves the pool open for the caller', async () => {
    const body = bytes(200_000);
    const ports: number[] = [];
    const s = await server({
      '/a': (req, res) => {
        ports.push(req.socket.remotePort!);
        serve(body)(req, res, 1);
      },
    });
    const dispatcher = await makeAgent({ env: {}, connectTimeoutMs: 5_000 });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await get(s.url('/a'), { dispatcher })).data.equals(body)).toBe(true);
        // undici hands the socket back to its pool just after the body ends.
        await new Promise((r) => setImmediate(r));
      }
      expect(ports).toHaveLength(3);
      expect(new Set(ports).size).toBe(1);
      expect((dispatcher as unknown as { destroyed: boolean }).destroyed).toBe(false);
    } finally {
      await dispatcher.destroy();
    }
    // Without one, each download has (and closes) its own.
    await get(s.url('/a'));
    await get(s.url('/a'));
    expect(new Set(ports).size).toBe(3);
  });
});

describe('download: docs/measured.md §1 regression (undici paused-parser crash)', () => {
  it('survives a multi-MB file from an HTTP/1.0 server that closes, with a slow consumer', async () => {
    // undici 7 on Node 20 dies with an uncatchable `assert(!this.paused)` when the
    // socket ends while the body is paused; if we ever let it pause, this kills
    // the test worker rather than failing politely.
    const body = bytes(8 * 1024 * 1024, 7);
    const s = await server({ '/big': http10(body), '/big-nolength': http10(body, false) });
    for (const p of ['/big', '/big-nolength']) {
      const sink = await get(s.url(p), {}, new MemorySink(2));
      expect(sink.bytes).toBe(body.length);
      expect(sink.data.equals(body)).toBe(true);
    }
  });
});

describe('download: redirect policy', () => {
  it('refuses a redirect loop and names the chain', async () => {
    const s = await server();
    s.route('/a', redirect('/b'));
    s.route('/b', redirect('/a'));
    const e = await fails(s.url('/a'), new MemorySink());
    expect(e.code).toBe('REDIRECT_LOOP');
    expect(e.message).toContain(`${s.url('/a')} → ${s.url('/b')} → ${s.url('/a')}`);
  });

  it('stops at the redirect limit', async () => {
    const s = await server();
    for (let i = 0; i < 6; i++) s.route(`/r${i}`, redirect(`/r${i + 1}`));
    const e = await fails(s.url('/r0'), new MemorySink(), { limits: fastLimits({ maxRedirects: 3 }) });
    expect(e.code).toBe('TOO_MANY_REDIRECTS');
    expect(e.message).toContain('More than 3 redirects');
    expect(e.message).toContain(s.url('/r3'));
  });

  const cert = selfSignedCert();
  it.skipIf(!cert)('downloads over https, and refuses a redirect from https to http', async () => {
    const body = bytes(5000);
    const plain = await server({ '/f': serve(body) });
    const secure = await server({ '/f': serve(body), '/down': redirect(plain.url('/f')) }, { tls: cert! });
    const sink = await get(secure.url('/f'), { ca: cert!.cert });
    expect(sink.data.equals(body)).toBe(true);

    const e = await fails(secure.url('/down'), new MemorySink(), { ca: cert!.cert });
    expect(e.code).toBe('REDIRECT_INSECURE');
    expect(e.message).toContain(secure.url('/down'));
    expect(e.message).toContain(plain.url('/f'));
    expect(plain.requests('/f')).toHaveLength(0);
  });

  it.skipIf(!cert)('does not trust a self-signed certificate by default, and does not retry it', async () => {
    const secure = await server({ '/f': serve(bytes(10)) }, { tls: cert! });
    const e = await fails(secure.url('/f'), new MemorySink());
    expect(e.code).toBe('FETCH_FAILED');
    expect(e.hint).toContain('NODE_EXTRA_CA_CERTS');
    expect(e.message).not.toContain('attempts');
  });
});

describe('download: timeouts', () => {
  it('gives up on a server that sends headers and then nothing (idle timeout)', async () => {
    const s = await server({ '/f': stall() });
    // The stalled server never ends the response: only the idle timer can, and
    // the message says it did (no wall-clock bound: these machines are shared).
    const e = await fails(s.url('/f'), new MemorySink(), { limits: fastLimits({ retries: 1 }) });
    expect(e.code).toBe('FETCH_TIMEOUT');
    expect(e.message).toContain('sent nothing for 300 ms');
    expect(e.message).toContain('after 2 attempts');
  });

  it('gives up on a server that never answers (headers timeout)', async () => {
    const s = await server({ '/f': silent() });
    const e = await fails(s.url('/f'), new MemorySink(), { limits: fastLimits({ retries: 0 }) });
    expect(e.code).toBe('FETCH_TIMEOUT');
    expect(e.message).toContain('no response');
  });

  it('keeps a total deadline that a trickling server cannot dodge (docs/measured.md §3)', async () => {
    // One byte every 20 ms never trips a 300 ms idle timer, and the whole body
    // would take 200 s: only the total deadline ends it within the test's time.
    const s = await server({ '/f': trickle(bytes(10_000), 20) });
    const e = await fails(s.url('/f'), new MemorySink(), { limits: fastLimits({ totalTimeoutMs: 500 }) });
    expect(e.code).toBe('FETCH_TIMEOUT');
    expect(e.message).toContain('longer than 500 ms');
  });
});

describe('download: retries', () => {
  it('retries 5xx with backoff and then succeeds', async () => {
    const body = bytes(1000);
    const s = await server({ '/f': failTimes(2, serve(body), 503) });
    const r = recorder();
    const sink = await get(s.url('/f'), { onEvent: r.onEvent });
    expect(sink.data.equals(body)).toBe(true);
    const retries = r.events.filter((e) => e.type === 'retry');
    expect(retries.map((e) => e.type === 'retry' && e.attempt)).toEqual([2, 3]);
    expect(retries[0]).toMatchObject({ reason: expect.stringContaining('HTTP 503') });
  });

  it('gives up after the retry budget and says how many attempts it made', async () => {
    const s = await server({ '/f': status(500) });
    const e = await fails(s.url('/f'), new MemorySink(), { limits: fastLimits({ retries: 3 }) });
    expect(e.code).toBe('HTTP_STATUS');
    expect(e.message).toContain('HTTP 500');
    expect(e.message).toContain('after 4 attempts');
    expect(s.requests('/f')).toHaveLength(4);
  });

  it('honours Retry-After on 429', async () => {
    const body = bytes(100);
    const s = await server({ '/f': failTimes(1, serve(body), 429, { 'retry-after': '1' }) });
    const r = recorder();
    const t0 = Date.now();
    await get(s.url('/f'), { onEvent: r.onEvent });
    expect(r.events.find((e) => e.type === 'retry')).toMatchObject({ delayMs: 1000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  });

  it('retries a reset connection', async () => {
    const body = bytes(1000);
    const s = await server({ '/f': (req, res, hit) => (hit <= 2 ? reset()(req, res, hit) : serve(body)(req, res, hit)) });
    expect((await get(s.url('/f'))).data.equals(body)).toBe(true);
    expect(s.requests('/f')).toHaveLength(3);
  });

  it('fails a refused connection with a network hint after retrying', async () => {
    const s = await startServer();
    const url = s.url('/f');
    await s.close();
    const e = await fails(url, new MemorySink(), { limits: fastLimits({ retries: 1 }) });
    expect(e.code).toBe('FETCH_FAILED');
    expect(e.message).toContain(url);
    expect(e.message).toContain('ECONNREFUSED');
    expect(e.hint).toContain('proxy');
  });

  it.each([
    [404, 'removed upstream'],
    [410, 'removed upstream'],
    [401, 'credentials'],
    [403, 'credentials'],
  ])('never retries HTTP %i and says what to do', async (code, hint) => {
    const s = await server({ '/f': status(code) });
    const e = await fails(s.url('/f'), new MemorySink());
    expect(e.code).toBe('HTTP_STATUS');
    expect(e.message).toContain(`HTTP ${code}`);
    expect(e.message).toContain(s.url('/f'));
    expect(e.hint).toContain(hint);
    expect(s.requests('/f')).toHaveLength(1);
  });
});

describe('download: resume and length checks', () => {
  it('resumes a broken download with Range and If-Range', async () => {
    const body = bytes(100_000);
    const s = await server({
      '/f': (req, res, hit) =>
        (hit === 1 ? truncate(body, 40_000, { ranges: true, etag: '"v1"' }) : serve(body, { ranges: true, etag: '"v1"' }))(req, res, hit),
    });
    const sink = await get(s.url('/f'));
    expect(sink.data.equals(body)).toBe(true);
    expect(sink.resets).toBe(0);
    const second = s.requests('/f')[1]!;
    expect(second.range).toMatch(/^bytes=\d+-$/);
    expect(Number(second.range!.slice(6, -1))).toBeGreaterThan(0);
    expect(second['if-range']).toBe('"v1"');
  });

  it('starts over when the server answers a Range request with 200', async () => {
    const body = bytes(100_000);
    const s = await server({
      '/f': (req, res, hit) => (hit === 1 ? truncate(body, 40_000, { ranges: true }) : serve(body))(req, res, hit),
    });
    const sink = await get(s.url('/f'));
    expect(s.requests('/f')[1]!.range).toBeDefined();
    expect(sink.resets).toBe(1);
    expect(sink.data.equals(body)).toBe(true);
  });

  it('starts over when a 206 covers the wrong range', async () => {
    const body = bytes(50_000);
    const s = await server({
      '/f': (req, res, hit) => {
        if (hit === 1) return truncate(body, 20_000, { ranges: true })(req, res, hit);
        if (hit === 2)
          return raw(`HTTP/1.1 206 Partial Content\nContent-Range: bytes 0-9/${body.length}\nContent-Length: 10\nConnection: close`, body.subarray(0, 10))(
            req,
            res,
            hit,
          );
        return serve(body)(req, res, hit);
      },
    });
    const sink = await get(s.url('/f'));
    expect(sink.data.equals(body)).toBe(true);
    expect(s.requests('/f')).toHaveLength(3);
    expect(s.requests('/f')[2]!.range).toBeUndefined();
  });

  it('does not send Range to a server that never offered it', async () => {
    const body = bytes(50_000);
    const s = await server({ '/f': (req, res, hit) => (hit === 1 ? truncate(body, 20_000) : serve(body))(req, res, hit) });
    const sink = await get(s.url('/f'));
    expect(s.requests('/f')[1]!.range).toBeUndefined();
    expect(sink.data.equals(body)).toBe(true);
  });

  it('fails a body that stays shorter than its Content-Length, after retrying', async () => {
    const body = bytes(10_000);
    const s = await server({ '/cut': truncate(body, 3000), '/lie': lyingLength(body, 20_000) });
    for (const p of ['/cut', '/lie']) {
      const e = await fails(s.url(p), new MemorySink(), { limits: fastLimits({ retries: 1 }) });
      expect(e.code).toBe('LENGTH_MISMATCH');
      expect(e.message).toContain(s.url(p));
      expect(e.message).toContain('after 2 attempts');
      expect(s.requests(p)).toHaveLength(2);
    }
  });

  it('takes exactly Content-Length bytes when the server sends more (HTTP framing; integrity judges them)', async () => {
    // Bytes after the announced length are, to HTTP/1.1, the start of another
    // response, not part of this body; no client can count them as the file.
    const body = bytes(2000);
    const s = await server({ '/f': lyingLength(body, 500) });
    const sink = await get(s.url('/f'));
    expect(sink.data.equals(body.subarray(0, 500))).toBe(true);
  });
});

describe('download: size cap', () => {
  it('refuses up front when Content-Length is over the cap', async () => {
    const s = await server({ '/f': serve(bytes(5000)) });
    const e = await fails(s.url('/f'), new MemorySink(), { limits: fastLimits({ maxBytes: 4096 }) });
    expect(e.code).toBe('TOO_LARGE');
    expect(e.message).toContain(s.url('/f'));
    expect(e.message).toContain('4096');
    expect(s.requests('/f')).toHaveLength(1);
  });

  it('stops while streaming when a body without length goes over the cap', async () => {
    const s = await server({ '/f': http10(bytes(200_000), false) });
    const sink = new MemorySink();
    const e = await fails(s.url('/f'), sink, { limits: fastLimits({ maxBytes: 100_000 }) });
    expect(e.code).toBe('TOO_LARGE');
    expect(sink.bytes).toBeLessThanOrEqual(100_000);
  });
});

describe('download: proxies, cancellation, bad URLs', () => {
  it('goes through HTTP_PROXY, and around it for NO_PROXY hosts', async () => {
    const body = bytes(3000);
    const s = await server({ '/f': serve(body) });
    const proxy = await startConnectProxy(s);
    open.push(proxy);
    // The name does not resolve: only the proxy can have delivered this.
    const sink = await get(`http://intact-proxy-test.invalid:${s.port}/f`, { env: { HTTP_PROXY: proxy.url } });
    expect(sink.data.equals(body)).toBe(true);
    expect(proxy.tunnels).toEqual([`intact-proxy-test.invalid:${s.port}`]);

    await get(s.url('/f'), { env: { http_proxy: proxy.url, NO_PROXY: '127.0.0.1' } });
    expect(proxy.tunnels).toHaveLength(1);
  });

  it('stops at once when the caller aborts', async () => {
    const s = await server({ '/f': trickle(bytes(10_000), 20) });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const e = await fails(s.url('/f'), new MemorySink(), { signal: ac.signal });
    expect(e.code).toBe('FETCH_ABORTED');
  });

  it.each(['ftp://example.com/x', 'not a url', 'https://user:secret@example.com/x'])('refuses %s as input', async (url) => {
    const e = await fails(url, new MemorySink());
    expect(e.code).toBe('URL_INVALID');
    expect(e.message).not.toContain('secret');
  });
});
