// A small project for fault tests that needs nothing from the host: one recipe
// whose source is a tarball served from a loopback server (port 0) and whose
// steps intact does itself (copy, write), so no shell or busybox is involved.
import { readdirSync } from 'node:fs';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bytes, startServer, type Handler, type TestServer } from '../helpers/http-server.js';
import { tgz } from '../helpers/archives.js';
import { makeProject, runCli, type CliResult } from '../helpers/project.js';

export interface FaultProject {
  dir: string;
  store: string;
  server: TestServer;
  tarball: Buffer;
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
}

/** Files in the tarball: a few, plus one large enough that a download takes a moment. */
export function faultTarball(big = 4 * 1024 * 1024): Buffer {
  return tgz([
    { name: 'pkg/', type: 'dir' },
    { name: 'pkg/README', body: 'fault fixture\n' },
    { name: 'pkg/data.bin', body: bytes(big, 9) },
    ...Array.from({ length: 50 }, (_, i) => ({ name: `pkg/f/${i}.txt`, body: `file ${i}\n` })),
  ]);
}

export async function faultProject(opts: { handler?: (tarball: Buffer) => Handler; big?: number } = {}): Promise<FaultProject> {
  const tarball = faultTarball(opts.big);
  const server = await startServer({
    '/pkg.tgz': opts.handler ? opts.handler(tarball) : (_req, res) => void res.writeHead(200, { 'content-length': String(tarball.length) }).end(tarball),
  });
  const dir = await makeProject({
    'recipes/pkg.yaml': [
      'name: pkg',
      'version: 1.0.0',
      'sources:',
      `  - url: ${server.url('/pkg.tgz')}`,
      '    strip: 1',
      'build:',
      '  - copy: $src/f',
      '    to: $out/share/f',
      '  - write: $out/share/done',
      '    content: "done\\n"',
      '',
    ].join('\n'),
    'intact.lock': '{\n  "lockfileVersion": 1,\n  "recipes": {}\n}\n',
  });
  await mkdir(join(dir, 'store'), { recursive: true });
  await writeFile(join(dir, 'store/.gitkeep'), '');
  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, env: { CI: '', ...env } });
  return { dir, store: join(dir, 'store'), server, tarball, run };
}

/** Names in the store's tmp/ and other places a run may leave temps in. */
export function tempsIn(store: string): string[] {
  const out: string[] = [];
  const list = (d: string) => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  };
  for (const n of list(join(store, 'tmp'))) out.push(`tmp/${n}`);
  for (const n of list(store)) if (n.startsWith('publish-')) out.push(n);
  for (const d of ['logs', 'meta', 'roots', 'locks'])
    for (const n of list(join(store, d))) if (n.endsWith('.tmp') || n.endsWith('.lock')) out.push(`${d}/${n}`);
  return out;
}
