// Defect class: a parser fed bytes that failed their pin. `verify --fetch`
// unpacked a download that no longer matched its pin, to compare trees; in one
// case that was 220 MiB of a bomb written before the caps stopped it. By default
// nothing that failed its pin is unpacked; `--compare-content` opts in, and then
// unpacks outside the store.
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeTarball } from '../helpers/npm-registry.js';
import { startServer, type TestServer } from '../helpers/http-server.js';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

const unpacked: string[] = [];
vi.mock('../../src/fetch/unpack-tree.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/fetch/unpack-tree.js')>();
  return {
    ...real,
    unpackedTree: (file: string, source: never, tmpDir: string, ...rest: never[]) => {
      unpacked.push(tmpDir);
      return real.unpackedTree(file, source, tmpDir, ...rest);
    },
  };
});
const { verifyFetch } = await import('../../src/verify/fetch-check.js');
const { makeFetchContext } = await import('../../src/cli/fetch-context.js');

let server: TestServer;
let body: Buffer;
beforeAll(async () => {
  server = await startServer({
    '/a.tgz': (_req, res) => {
      res.end(body);
    },
  });
});
afterAll(() => server.close());
afterEach(cleanupProjects);

describe('verify --fetch never unpacks bytes that failed their pin by default', () => {
  it('reports the change without unpacking; --compare-content unpacks outside the store', async () => {
    const tgz = await makeTarball({ README: 'hello\n' });
    body = tgz;
    const dir = await makeProject({ 'recipes/a.yaml': `name: a\nversion: 1.0.0\nsources:\n  - url: ${server.url('/a.tgz')}\n    strip: 1\n` });
    expect((await runCli(['lock'], { cwd: dir, env: { HOME: dir, CI: undefined } })).code).toBe(0);
    body = gzipSync(gunzipSync(tgz), { level: 1 });
    const { ctx: fetch, store } = await makeFetchContext(dir, { json: false, quiet: true, verbose: false }, { offline: false });

    const plain = await verifyFetch(dir, { names: [], fetch, tmpDir: store.tmp, jobs: 1 });
    expect(plain.findings.map((f) => f.code)).toEqual(['SOURCE_CHANGED']);
    expect(plain.findings[0]!.message).toContain('not compared');
    expect(unpacked).toEqual([]);

    const opted = await verifyFetch(dir, { names: [], fetch, tmpDir: store.tmp, jobs: 1, compareContent: true });
    expect(opted.findings[0]!.message).toContain('the unpacked content is the same');
    expect(unpacked).toHaveLength(1);
    expect(unpacked[0]!.startsWith(store.root)).toBe(false);
  });
});
