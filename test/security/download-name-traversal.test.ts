// Defect class: a file path derived from a URL. A non-archive download used to be
// named after its URL's last segment after percent-decoding, so
// `…/dl/..%2F..%2F..%2F..%2Fplanted.sh` was written outside the store, by
// `intact lock`, `CI=true intact lock` and `lock --dry-run` alike.
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nameFromSource } from '../../src/fetch/extract/single.js';
import { serve, startServer, type TestServer } from '../helpers/http-server.js';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

let server: TestServer;
const SCRIPT = Buffer.from('#!/bin/sh\necho planted\n');
const EVIL = '/dl/..%2F..%2F..%2F..%2Fplanted.sh';

beforeAll(async () => {
  server = await startServer({ [EVIL]: serve(SCRIPT), '/dl/..%2F..%2Fplanted.sh': serve(SCRIPT) });
});
afterAll(() => server.close());
afterEach(cleanupProjects);

/** Every path under `dir` named planted.sh, except the download cache's own copy (named by hash). */
async function planted(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true });
  return all.filter((p) => p.endsWith('planted.sh')).map((p) => relative(dir, join(dir, p)));
}

describe('a download is never named after a decoded URL path', () => {
  it.each([
    ['..%2F..%2Fx', undefined],
    ['..%2f..%2fx', undefined],
    ['a%5Cb', undefined],
    ['%2E%2E', undefined],
    ['x%0Ay', undefined],
    ['tool-1.0.sh', 'tool-1.0.sh'],
    ['tool%201.sh', 'tool 1.sh'],
  ])('nameFromSource(…/%s) is %s', (last, want) => {
    expect(nameFromSource(`https://example.test/dl/${last}`)).toBe(want);
  });

  it.each([
    ['lock', [] as string[], {}],
    ['lock --dry-run', ['--dry-run'], {}],
    ['CI=true lock', [], { CI: 'true' }],
  ])('%s writes nothing outside the store', async (_, args, extra) => {
    const dir = await makeProject({
      'recipes/x.yaml': `name: x\nversion: 1.0.0\nsources:\n  - url: ${server.url(EVIL)}\n  - url: ${server.url('/dl/..%2F..%2Fplanted.sh')}\n    path: y\n`,
    });
    await runCli(['lock', ...args], { cwd: dir, env: { HOME: dir, CI: undefined, ...extra } });
    expect(await planted(dir)).toEqual([]);
    expect(await readdir(join(dir, '..'))).not.toContain('planted.sh');
  });
});
