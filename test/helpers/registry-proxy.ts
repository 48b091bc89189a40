// A loopback proxy in front of the test registry, to show intact the faults a
// real registry does not make on demand: a 401 with a bearer challenge (and a
// small token server that checks basic credentials), 429 with Retry-After, a
// connection cut in the middle of a blob, an oversized manifest, a registry that
// is down. Requests pass through unchanged otherwise (the Host header too, so the
// registry's upload Locations point back at the proxy).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Seen {
  method: string;
  path: string;
  status: number;
  authorization?: string;
}

/** Return true when the fault answered the request itself. */
export type Fault = (req: IncomingMessage, res: ServerResponse, proxy: RegistryProxy) => boolean | Promise<boolean>;

export interface BearerAuth {
  user: string;
  password: string;
  /** Tokens handed out; a request must carry one of them. */
  tokens: Set<string>;
  /** Token requests seen, with their query and whether the credentials were right. */
  tokenRequests: { query: string; ok: boolean }[];
}

export class RegistryProxy {
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  readonly #upstream: URL;
  port = 0;
  fault: Fault | undefined;
  bearer: BearerAuth | undefined;
  /** `user:password` that Basic authentication requires, when set. */
  basic: string | undefined;
  readonly seen: Seen[] = [];

  private constructor(upstream: string) {
    this.#upstream = new URL(upstream);
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  static async start(upstream: string): Promise<RegistryProxy> {
    const p = new RegistryProxy(upstream);
    await new Promise<void>((ok) => p.#server.listen(0, '127.0.0.1', ok));
    p.port = (p.#server.address() as AddressInfo).port;
    return p;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  ref(repository: string): string {
    return `http://${this.host}/${repository}`;
  }

  /** Require `Authorization: Bearer`, handing out tokens at /token for user:password. */
  requireBearer(user: string, password: string): BearerAuth {
    this.bearer = { user, password, tokens: new Set(), tokenRequests: [] };
    return this.bearer;
  }

  /** Simulates the registry going down: every open connection is cut, new ones are refused. */
  async down(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((ok) => this.#server.close(ok));
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((ok) => this.#server.close(() => ok(undefined)));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    res.on('finish', () =>
      this.seen.push({
        method: req.method ?? '',
        path,
        status: res.statusCode,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      }),
    );
    try {
      if (this.bearer && path.startsWith('/token')) return this.#token(req, res, this.bearer);
      if (this.fault && (await this.fault(req, res, this))) return;
      if (this.basic !== undefined && path.startsWith('/v2/') && req.headers.authorization !== `Basic ${Buffer.from(this.basic).toString('base64')}`) {
        req.resume();
        res.writeHead(401, { 'www-authenticate': 'Basic realm="intact-test"', 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      if (this.bearer && path.startsWith('/v2/')) {
        const auth = req.headers.authorization ?? '';
        const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
        if (!this.bearer.tokens.has(token)) {
          req.resume();
          res.writeHead(401, {
            'www-authenticate': `Bearer realm="http://${this.host}/token",service="intact-test",scope="repository:x:pull"`,
            'content-type': 'application/json',
          });
          res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
          return;
        }
      }
      await this.forward(req, res);
    } catch {
      req.socket.destroy();
    }
  }

  #token(req: IncomingMessage, res: ServerResponse, b: BearerAuth): void {
    req.resume();
    const expected = `Basic ${Buffer.from(`${b.user}:${b.password}`).toString('base64')}`;
    const ok = req.headers.authorization === expected;
    b.tokenRequests.push({ query: (req.url ?? '').split('?')[1] ?? '', ok });
    if (!ok) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const token = `t${b.tokens.size}-${Math.random().toString(36).slice(2)}`;
    b.tokens.add(token);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  }

  /**
   * Passes the request to the registry. `cutAfter`: destroy the connection once
   * that many body bytes went to the client (the registry "going down" mid-blob).
   */
  forward(req: IncomingMessage, res: ServerResponse, opts: { cutAfter?: number } = {}): Promise<void> {
    return new Promise<void>((resolve) => {
      const headers = { ...req.headers };
      delete headers.authorization;
      const up = http.request({ host: this.#upstream.hostname, port: this.#upstream.port, method: req.method, path: req.url, headers }, (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        let sent = 0;
        ures.on('data', (c: Buffer) => {
          if (opts.cutAfter !== undefined && sent + c.length > opts.cutAfter) {
            res.write(c.subarray(0, Math.max(0, opts.cutAfter - sent)));
            sent = opts.cutAfter;
            ures.destroy();
            res.socket?.destroy();
            resolve();
            return;
          }
          sent += c.length;
          res.write(c);
        });
        ures.on('end', () => {
          res.end();
          resolve();
        });
        ures.on('error', () => resolve());
      });
      up.on('error', () => {
        res.socket?.destroy();
        resolve();
      });
      req.pipe(up);
    });
  }
}
