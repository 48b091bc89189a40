// A Debian archive on loopback for the deb source kind's tests: .deb files made
// here (ar + control.tar.gz + data.tar), served under pool/ with the indexes
// apt reads (dists/SUITE/main/binary-ARCH/Packages.gz, source/Sources.gz).
// Only gzip indexes are served, so every lookup also exercises the reader's
// fallback from the .xz index a real mirror prefers.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tar, type TarEntry } from './archives.js';
import { startServer, type TestServer } from './http-server.js';

/** One ar member: 60-byte header, data, padding to an even offset. */
export function arMember(name: string, data: Buffer, opts: { size?: number } = {}): Buffer {
  const field = (s: string, n: number) => Buffer.from(s.padEnd(n, ' ').slice(0, n), 'latin1');
  const header = Buffer.concat([
    field(name, 16),
    field('0', 12),
    field('0', 6),
    field('0', 6),
    field('100644', 8),
    field(String(opts.size ?? data.length), 10),
    Buffer.from('`\n', 'latin1'),
  ]);
  return Buffer.concat([header, data, data.length % 2 === 1 ? Buffer.from('\n') : Buffer.alloc(0)]);
}

export interface DebOptions {
  /** data.tar compression: gz (default) or none. */
  compression?: 'gz' | 'none';
  /** Replace the members entirely (for hostile packages). */
  members?: Buffer[];
}

export function makeDeb(data: readonly TarEntry[], opts: DebOptions = {}): Buffer {
  if (opts.members) return Buffer.concat([Buffer.from('!<arch>\n'), ...opts.members]);
  const control = gzipSync(tar([{ name: './control', type: 'file', body: 'Package: x\nVersion: 1\n' }]));
  const body = tar(data);
  const dataMember = opts.compression === 'none' ? arMember('data.tar', body) : arMember('data.tar.gz', gzipSync(body));
  return Buffer.concat([Buffer.from('!<arch>\n'), arMember('debian-binary', Buffer.from('2.0\n')), arMember('control.tar.gz', control), dataMember]);
}

export interface BinaryPackage {
  name: string;
  version: string;
  arch: string;
  /** The source package (pool folder); defaults to the name. */
  source?: string;
  deb: Buffer;
}

export interface SourcePackage {
  name: string;
  version: string;
  files: { name: string; data: Buffer }[];
}

export interface TestDebArchive {
  server: TestServer;
  /** The archive's root URL. */
  root: string;
  /** An INTACT_DEB_SOURCES value for this archive. */
  sourcesLine: string;
  /** The pool path of a binary package. */
  poolPath(p: BinaryPackage): string;
  /** Replace what the archive holds (a point release), indexes included. */
  publish(binaries: BinaryPackage[], sources?: SourcePackage[]): void;
  close(): Promise<void>;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const prefix = (name: string): string => (name.startsWith('lib') ? name.slice(0, 4) : name[0]!);
const noEpoch = (v: string): string => v.replace(/^\d+:/, '');

export async function startDebArchive(binaries: BinaryPackage[], sources: SourcePackage[] = [], suite = 'bookworm'): Promise<TestDebArchive> {
  const server = await startServer();
  const root = server.url('/debian');
  const poolPath = (p: BinaryPackage): string => `pool/main/${prefix(p.source ?? p.name)}/${p.source ?? p.name}/${p.name}_${noEpoch(p.version)}_${p.arch}.deb`;
  const publish = (bins: BinaryPackage[], srcs: SourcePackage[] = []): void => {
    const byArch = new Map<string, string[]>();
    for (const p of bins) {
      const path = poolPath(p);
      server.route(`/debian/${path}`, (_req, res) => void res.writeHead(200, { 'content-length': p.deb.length }).end(p.deb));
      const stanza = [
        `Package: ${p.name}`,
        ...(p.source ? [`Source: ${p.source}`] : []),
        `Version: ${p.version}`,
        `Architecture: ${p.arch}`,
        'Description: a test package',
        ' with a continued description',
        `Filename: ${path}`,
        `Size: ${p.deb.length}`,
        `SHA256: ${sha256(p.deb)}`,
      ].join('\n');
      const archs = p.arch === 'all' ? ['amd64', 'arm64'] : [p.arch];
      for (const a of archs) byArch.set(a, [...(byArch.get(a) ?? []), stanza]);
    }
    for (const a of ['amd64', 'arm64']) {
      const text = Buffer.from(`${(byArch.get(a) ?? []).join('\n\n')}\n`);
      server.route(`/debian/dists/${suite}/main/binary-${a}/Packages.gz`, (_req, res) => void res.writeHead(200).end(gzipSync(text)));
    }
    const stanzas = srcs.map((s) => {
      const dir = `pool/main/${prefix(s.name)}/${s.name}`;
      for (const f of s.files) server.route(`/debian/${dir}/${f.name}`, (_req, res) => void res.writeHead(200).end(f.data));
      return [
        `Package: ${s.name}`,
        `Version: ${s.version}`,
        `Directory: ${dir}`,
        'Checksums-Sha256:',
        ...s.files.map((f) => ` ${sha256(f.data)} ${f.data.length} ${f.name}`),
      ].join('\n');
    });
    server.route(`/debian/dists/${suite}/main/source/Sources.gz`, (_req, res) => void res.writeHead(200).end(gzipSync(`${stanzas.join('\n\n')}\n`)));
  };
  publish(binaries, sources);
  return {
    server,
    root,
    sourcesLine: `deb ${root} ${suite} main`,
    poolPath,
    publish: (bins, srcs) => {
      // Files of the previous release are gone, as on a mirror after a point release.
      for (const p of binaries) server.route(`/debian/${poolPath(p)}`, (_req, res) => void res.writeHead(404).end());
      publish(bins, srcs);
    },
    close: () => server.close(),
  };
}
