// Defect class: a secret written or printed. A `user:password@` URL in `mirrors`
// was accepted and written into intact.lock; in the primary URL it was refused,
// but the password still appeared in the NDJSON `fail` event and in the human
// `failed http://user:pw@…` line.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Output } from '../../src/cli/output.js';
import { progressFor } from '../../src/cli/progress.js';
import { IntactError } from '../../src/errors.js';
import { parseLock } from '../../src/lock/parse.js';
import { serve, startServer, type TestServer } from '../helpers/http-server.js';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ '/a.txt': serve(Buffer.from('hello\n')) });
});
afterAll(() => server.close());
afterEach(cleanupProjects);

const secretUrl = () => server.url('/a.txt').replace('://', '://alice:s3cret@');

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('credentials in URLs are refused where they would be written', () => {
  it.each([
    ['mirrors', () => `name: a\nversion: 1.0.0\nsources:\n  - url: ${server.url('/a.txt')}\n    mirrors:\n      - ${secretUrl()}\n`, 6],
    ['url', () => `name: a\nversion: 1.0.0\nsources:\n  - url: ${secretUrl()}\n`, 4],
  ])('in %s: lock refuses at recipe file:line, writes no lock, prints no password', async (_, text, line) => {
    const dir = await makeProject({ 'recipes/a.yaml': text() });
    for (const args of [['lock'], ['--json', 'lock']]) {
      const r = await runCli(args, { cwd: dir, env: { HOME: dir, CI: undefined } });
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).not.toContain('s3cret');
      if (args.length === 1) expect(r.stderr).toContain(`recipes/a.yaml:${line}`);
      expect(r.stdout + r.stderr).toContain('URL_INVALID');
    }
    expect(existsSync(join(dir, 'intact.lock'))).toBe(false);
  });

  it('the lock reader refuses a mirror with credentials', () => {
    const lock = {
      lockfileVersion: 1,
      recipes: {
        a: {
          version: '1',
          recipeHash: 'h',
          deps: [],
          closure: [],
          sources: [{ kind: 'url', url: 'https://e.test/a', mirrors: ['https://u:p@e.test/a'], integrity: 'x' }],
        },
      },
    };
    expect(() => parseLock(JSON.stringify(lock, null, 2))).toThrow(expect.objectContaining({ code: 'LOCK_INVALID' }));
  });
});

describe('credentials are blanked where URLs are printed', () => {
  const fail = { type: 'fail' as const, id: 'http://alice:s3cret@e.test/a.txt', message: 'http://alice:s3cret@e.test/a.txt failed' };
  it.each([[true], [false]])('fail events (json=%s)', (json) => {
    const out = new Capture();
    const err = new Capture();
    const p = progressFor(new Output({ json, quiet: false, verbose: false }, out, err), { CI: 'true' });
    p.onEvent(fail);
    p.stop();
    const text = out.text + err.text;
    expect(text).toContain('e.test/a.txt');
    expect(text).not.toContain('s3cret');
  });

  it('errors', () => {
    const err = new Capture();
    new Output({ json: false, quiet: false, verbose: false }, new Capture(), err).error(
      new IntactError('FETCH_FAILED', 'failed http://alice:s3cret@e.test/a', { url: 'http://alice:s3cret@e.test/a' }),
    );
    expect(err.text).toContain('***@e.test');
    expect(err.text).not.toContain('s3cret');
  });
});
