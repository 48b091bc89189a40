// A fake npm registry for tests: node:http (or https) on 127.0.0.1, port 0. It serves
// packuments at `<prefix><name>` (scoped names with "/" as %2f, as npm asks):
// abbreviated when the Accept header asks for that, as installs do, else full,
// with `time`, license and description; and tarballs at
// `<prefix><name>/-/<base>-<version>.tgz`, optionally only to requests carrying a
// bearer token, and records every request so tests can check which headers went
// where. Tarballs are built in the test with node-tar.
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { create } from 'tar';

export interface FakeVersion {
  tarball: Buffer;
  /** The packument's dist.integrity: computed (default), a given string, or null to omit it. */
  integrity?: string | null;
  /** Include dist.shasum (sha1 hex); default true. */
  shasum?: boolean;
  /** Serve these bytes for the tarball instead of `tarball` (a registry that changed them). */
  served?: Buffer;
  /** Publish time (ISO); appears only in the full packument's `time`, as on real registries. */
  time?: string;
  /** Full packument only: the version's license, description, homepage, bin, deprecation. */
  license?: string;
  description?: string;
  homepage?: string;
  bin?: Record<string, string>;
  deprecated?: string;
  /** Per-platform packages, in both the abbreviated and the full packument. */
  optionalDependencies?: Record<string, string>;
}

export interface FakePackage {
  name: string;
  versions: Record<string, FakeVersion>;
}

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
}

export interface FakeRegistry {
  /** Base URL, ending in "/". */
  url: string;
  host: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface RegistryOptions {
  packages: FakePackage[];
  /** When set, every request needs `authorization: Bearer <token>`, else 401. */
  token?: string;
  /** Path the registry lives under, e.g. "/npm/"; default "/". */
  prefix?: string;
  /** Where the packument says tarballs are (a mirror); default this server. */
  tarballBase?: string;
  /** Serve https with this key and certificate (see selfSignedCert in http-server.ts). */
  tls?: { key: string; cert: string };
}

export function sri(algorithm: 'sha512' | 'sha256' | 'sha1', bytes: Buffer): string {
  return `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`;
}

export async function startNpmRegistry(opts: RegistryOptions): Promise<FakeRegistry> {
  const prefix = opts.prefix ?? '/';
  const requests: RecordedRequest[] = [];
  const byName = new Map(opts.packages.map((p) => [p.name, p]));
  let base = '';

  const tarballPath = (name: string, version: string): string => `${prefix}${name}/-/${name.split('/').pop()}-${version}.tgz`;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    requests.push({ path, headers: req.headers });
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    if (!path.startsWith(prefix)) return void res.writeHead(404).end();
    const rest = decodeURIComponent(path.slice(prefix.length));
    const tgz = /^(.+)\/-\/([^/]+)\.tgz$/.exec(rest);
    if (tgz) {
      const name = tgz[1]!;
      const version = tgz[2]!.slice((name.split('/').pop() ?? '').length + 1);
      const v = byName.get(name)?.versions[version];
      if (!v) return void res.writeHead(404).end();
      const body = v.served ?? v.tarball;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
      return;
    }
    const pkg = byName.get(rest);
    if (!pkg) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    const tarballBase = opts.tarballBase ?? base;
    // As real registries: the abbreviated document when asked for it (installs do),
    // the full one (with `time`, license, description) otherwise.
    const full = !String(req.headers.accept ?? '').includes('application/vnd.npm.install-v1+json');
    const versions: Record<string, unknown> = {};
    const time: Record<string, string> = { created: '2001-01-01T00:00:00.000Z', modified: '2001-01-01T00:00:00.000Z' };
    for (const [version, v] of Object.entries(pkg.versions)) {
      const dist: Record<string, string> = { tarball: tarballBase.replace(/\/?$/, '/') + tarballPath(pkg.name, version).slice(prefix.length) };
      if (v.integrity !== null) dist.integrity = v.integrity ?? sri('sha512', v.tarball);
      if (v.shasum !== false) dist.shasum = createHash('sha1').update(v.tarball).digest('hex');
      const entry: Record<string, unknown> = { name: pkg.name, version, dist };
      if (v.optionalDependencies) entry.optionalDependencies = v.optionalDependencies;
      if (full) {
        for (const k of ['license', 'description', 'homepage', 'bin', 'deprecated'] as const) if (v[k] !== undefined) entry[k] = v[k];
        time[version] = v.time ?? '2001-01-01T00:00:00.000Z';
      }
      versions[version] = entry;
    }
    const latest = Object.keys(pkg.versions).at(-1);
    const doc: Record<string, unknown> = { name: pkg.name, 'dist-tags': latest ? { latest } : {}, versions, modified: '2001-01-01T00:00:00.000Z' };
    if (full) doc.time = time;
    res.writeHead(200, { 'content-type': full ? 'application/json' : 'application/vnd.npm.install-v1+json' }).end(JSON.stringify(doc));
  };
  const server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createServer(handler);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const host = `127.0.0.1:${address.port}`;
  base = `${opts.tls ? 'https' : 'http'}://${host}${prefix}`;
  return {
    url: base,
    host,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A real npm-style tarball (package/...), gzipped, built with node-tar. */
export async function makeTarball(files: Record<string, string>): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'intact-npm-pkg-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      const abs = join(dir, 'package', path);
      await mkdir(dirname(abs), { recursive: true });
      await writeFile(abs, content);
    }
    const out = join(dir, 'out.tgz');
    await create({ gzip: true, cwd: dir, file: out, portable: true, mtime: new Date(0) }, ['package']);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
