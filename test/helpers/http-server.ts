// A loopback HTTP(S) server on port 0 for fetch tests, with one small handler per
// misbehaviour a real server shows: redirects, stalls, trickles, truncation,
// resets, flaky 5xx, rate limits, lying Content-Length, HTTP/1.0 close, ranges.
// Handlers that must break the protocol write to the raw socket.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void | Promise<void>;

export interface TestServer {
  origin: string;
  port: number;
  url(path: string): string;
  /** Requests seen per path, with their headers. */
  requests(path: string): IncomingMessage['headers'][];
  /** Requests seen on any path, and connections opened (even those that sent nothing). */
  total(): { requests: number; connections: number };
  route(path: string, handler: Handler): void;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Serve https with this key and certificate (see selfSignedCert). */
  tls?: { key: string; cert: string };
}

export async function startServer(routes: Record<string, Handler> = {}, opts: ServerOptions = {}): Promise<TestServer> {
  const table = new Map(Object.entries(routes));
  const seen = new Map<string, IncomingMessage['headers'][]>();
  const sockets = new Set<Socket>();
  let connections = 0;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    const list = seen.get(path) ?? [];
    list.push(req.headers);
    seen.set(path, list);
    const h = table.get(path);
    if (!h) {
      res.writeHead(404).end('no route');
      return;
    }
    Promise.resolve(h(req, res, list.length)).catch(() => req.socket.destroy());
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, listener) : http.createServer(listener);
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const origin = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    origin,
    port,
    url: (p) => origin + p,
    requests: (p) => seen.get(p) ?? [],
    total: () => ({ requests: [...seen.values()].reduce((n, l) => n + l.length, 0), connections }),
    route: (p, h) => void table.set(p, h),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** Deterministic pseudo-random bytes (so failures are reproducible). */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export interface ServeOptions {
  /** Advertise and honour `Range: bytes=N-`. */
  ranges?: boolean;
  etag?: string;
  headers?: Record<string, string>;
}

/** Serves `body`, honouring a Range request when `ranges` is set. */
export function serve(body: Buffer, o: ServeOptions = {}): Handler {
  return (req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', ...o.headers };
    if (o.etag) headers.etag = o.etag;
    if (o.ranges) headers['accept-ranges'] = 'bytes';
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (o.ranges && m && (ifRange === undefined || ifRange === o.etag)) {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': String(body.length - start) });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    res.end(body);
  };
}

export function redirect(to: string, status = 302): Handler {
  return (_req, res) => void res.writeHead(status, { location: to }).end();
}

export function status(code: number, headers: Record<string, string> = {}): Handler {
  return (_req, res) => void res.writeHead(code, headers).end(`status ${code}`);
}

/** Headers (with a Content-Length), then nothing until the client gives up. */
export function stall(length = 1000): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': String(length) });
    res.flushHeaders();
  };
}

/** Never answers at all: not even headers. */
export function silent(): Handler {
  return () => {};
}

/** `chunk` bytes every `intervalMs`: never idle long, never done soon. */
export function trickle(body: Buffer, intervalMs: number, chunk = 1): Handler {
  return (req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    let off = 0;
    const t = setInterval(() => {
      if (off >= body.length || req.socket.destroyed) {
        clearInterval(t);
        res.end();
        return;
      }
      res.write(body.subarray(off, off + chunk));
      off += chunk;
    }, intervalMs);
    req.socket.on('close', () => clearInterval(t));
  };
}

/** Announces the whole body, sends `sent` bytes of it, then drops the connection. */
export function truncate(body: Buffer, sent: number, o: ServeOptions = {}): Handler {
  return (req, res) => {
    const headers: Record<string, string> = { 'content-length': String(body.length) };
    if (o.ranges) headers['accept-ranges'] = 'bytes';
    if (o.etag) headers.etag = o.etag;
    res.writeHead(200, headers);
    res.write(body.subarray(0, sent), () => setTimeout(() => req.socket.destroy(), 10));
  };
}

/** Resets the TCP connection as soon as the request arrives. */
export function reset(): Handler {
  return (req) => void req.socket.resetAndDestroy();
}

/** Answers `code` (e.g. 500) for the first `n` requests, then hands over. */
export function failTimes(n: number, then: Handler, code = 500, headers: Record<string, string> = {}): Handler {
  return (req, res, hit) => (hit <= n ? status(code, headers)(req, res, hit) : then(req, res, hit));
}

/** Writes a raw HTTP response to the socket and closes it: for protocol lies. */
export function raw(head: string, body: Buffer): Handler {
  return (req) => {
    const s = req.socket;
    s.write(head.replace(/\n/g, '\r\n') + '\r\n\r\n');
    s.end(body);
  };
}

/** An HTTP/1.0 response with Connection: close, as `python3 -m http.server` sends. */
export function http10(body: Buffer, withLength = true): Handler {
  const length = withLength ? `\nContent-Length: ${body.length}` : '';
  return raw(`HTTP/1.0 200 OK\nServer: SimpleHTTP/0.6${length}\nConnection: close`, body);
}

/** A Content-Length that is not the length of the body sent. */
export function lyingLength(body: Buffer, claimed: number): Handler {
  return raw(`HTTP/1.1 200 OK\nContent-Length: ${claimed}\nConnection: close`, body);
}

/**
 * A CONNECT proxy (what undici's ProxyAgent speaks) that sends every tunnel to
 * `target`, whatever host was asked for: a request for an unresolvable name that
 * still succeeds proves it went through the proxy.
 */
export async function startConnectProxy(target: { port: number }): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((_req, res) => void res.writeHead(405).end());
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const upstream = net.connect(target.port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** A throwaway self-signed certificate for 127.0.0.1, or undefined without the openssl CLI. */
export function selfSignedCert(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'intact-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
