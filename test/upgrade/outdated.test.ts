// `outdated` against a fake npm registry (several versions, publish times), a real
// git remote with version tags, and an index page for a `watch:` section, all on
// loopback. It must read only: no file of the project changes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { outdated, type OutdatedReport } from '../../src/upgrade/index.js';
import { git, makeGitRepo, testGitEnv, type GitRepo } from '../helpers/git-repo.js';
import { serve, startServer, type TestServer } from '../helpers/http-server.js';
import { startNpmRegistry, type FakeRegistry } from '../helpers/npm-registry.js';
import { cleanupProjects, makeProject } from '../helpers/project.js';
import { LIMITS, NOW, npmConfigFor, toolPackage } from './fixtures.js';

let registry: FakeRegistry;
let server: TestServer;
let remote: GitRepo;
let remoteDir: string;

beforeAll(async () => {
  registry = await startNpmRegistry({ packages: [await toolPackage()] });
  server = await startServer({
    '/releases/': serve(
      Buffer.from('<a href="zlib-1.3.tar.gz">zlib-1.3.tar.gz</a>\n<a href="zlib-1.3.1.tar.gz">x</a> <a href="zlib-1.4-rc1.tar.gz">y</a> zlib-1.2.13.tar.gz'),
    ),
  });
  remoteDir = await makeProject();
  remote = await makeGitRepo(remoteDir, [{ 'a.c': 'one' }, { 'a.c': 'two' }, { 'a.c': 'three' }]);
  const env = testGitEnv(remoteDir, {
    GIT_COMMITTER_NAME: 'T',
    GIT_COMMITTER_EMAIL: 't@example.invalid',
    GIT_AUTHOR_NAME: 'T',
    GIT_AUTHOR_EMAIL: 't@example.invalid',
  });
  await git(['tag', 'v1.0.0', remote.commits[0]!], remote.bare, env);
  await git(['tag', '-a', '-m', 'release', 'v1.1.0', remote.commits[1]!], remote.bare, env);
  await git(['tag', 'v2.0.0-rc.1', remote.commits[2]!], remote.bare, env);
  await git(['tag', 'nightly', remote.commits[2]!], remote.bare, env);
});
afterAll(async () => {
  await registry.close();
  await server.close();
  await cleanupProjects();
});
afterEach(() => {
  registry.requests.length = 0;
});

const recipes = () => ({
  'recipes/tool.yaml': 'name: tool\nversion: 1.0.0\nsources:\n  - npm: tool@1.0.0\n',
  'recipes/lib.yaml': `name: lib\nversion: 1.0.0\nsources:\n  - git: ${remote.url}\n    rev: ${remote.commits[0]}\n`,
  'recipes/zlib.yaml': `name: zlib\nversion: "1.3"\nsources:\n  - url: ${server.url('/zlib-1.3.tar.gz')}\nwatch:\n  url: ${server.url('/releases/')}\n  pattern: 'zlib-([0-9][0-9a-z.-]*)\\.tar\\.gz'\n`,
  'recipes/plain.yaml': `name: plain\nversion: 2.0.0\nsources:\n  - url: ${server.url('/plain-2.0.0.tgz')}\n`,
  'recipes/vendored.yaml': 'name: vendored\nversion: 1.0.0\nsources:\n  - file: vendor/src\n',
  'vendor/src/a.c': 'int a;\n',
});

async function run(dir: string, extra: { prereleases?: boolean; minAgeDays?: number } = {}): Promise<OutdatedReport> {
  return outdated(dir, { npmConfig: () => npmConfigFor(dir, registry.url), limits: LIMITS, env: {}, now: NOW, ...extra });
}

const row = (r: OutdatedReport, name: string) => r.rows.find((x) => x.name === name)!;

describe('outdated', () => {
  it('lists newer versions from npm, git tags and a watch page; says why where it cannot tell', async () => {
    const dir = await makeProject(recipes());
    const before = await readFile(join(dir, 'recipes/zlib.yaml'), 'utf8');
    const r = await run(dir);
    expect(r.findings).toEqual([]);
    expect(row(r, 'tool')).toMatchObject({ via: 'npm', what: 'tool', latest: '2.0.0', hidden: { prereleases: 1, younger: 0 } });
    expect(row(r, 'tool').newer.map((n) => [n.version, n.ageDays])).toEqual([
      ['1.1.0', 100],
      ['1.2.0', 3],
      ['2.0.0', 1],
    ]);
    expect(row(r, 'tool').newer.at(-1)!.deprecated).toBe('use 1.2.0');
    expect(row(r, 'lib')).toMatchObject({ via: 'git', latest: '1.1.0', hidden: { prereleases: 1 } });
    expect(row(r, 'zlib')).toMatchObject({ via: 'watch', latest: '1.3.1', hidden: { prereleases: 1 } });
    expect(row(r, 'zlib').newer.map((n) => n.version)).toEqual(['1.3.1']);
    expect(row(r, 'plain')).toMatchObject({ via: 'none', newer: [] });
    expect(row(r, 'plain').note).toMatch(/watch:/);
    expect(row(r, 'vendored').via).toBe('none');
    // The full document was asked for: the abbreviated one has no publish times.
    const asked = registry.requests.filter((q) => q.path === '/tool');
    expect(asked.length).toBe(1);
    expect(asked[0]!.headers.accept).not.toContain('application/vnd.npm.install-v1+json');
    expect(await readFile(join(dir, 'recipes/zlib.yaml'), 'utf8')).toBe(before);
  });

  it('shows pre-releases when asked, and hides releases younger than --min-age', async () => {
    const dir = await makeProject(recipes());
    const pre = await run(dir, { prereleases: true });
    expect(row(pre, 'tool').newer.map((n) => n.version)).toContain('1.2.0-rc.1');
    expect(row(pre, 'lib').latest).toBe('2.0.0-rc.1');
    const aged = await run(dir, { minAgeDays: 7 });
    expect(row(aged, 'tool').newer.map((n) => n.version)).toEqual(['1.1.0']);
    expect(row(aged, 'tool').hidden.younger).toBe(2);
  });

  it('reports a lookup that fails per recipe, with its code, and still answers for the others', async () => {
    const dir = await makeProject({
      ...recipes(),
      'recipes/ghost.yaml': 'name: ghost\nversion: 1.0.0\nsources:\n  - npm: ghost@1.0.0\n',
      'recipes/bad.yaml': `name: bad\nversion: 1.0.0\nsources:\n  - url: ${server.url('/bad-1.0.0.tgz')}\nwatch:\n  url: ${server.url('/releases/')}\n  pattern: '(bad)-([0-9.]+)'\n`,
    });
    const r = await run(dir);
    expect(r.findings.map((f) => f.code).sort()).toEqual(['NPM_PACKAGE_NOT_FOUND', 'WATCH_INVALID']);
    const bad = r.findings.find((f) => f.code === 'WATCH_INVALID')!;
    expect(bad).toMatchObject({ file: 'recipes/bad.yaml', line: 7, field: 'watch.pattern' });
    expect(bad.message).toContain('2 capture groups');
    expect(row(r, 'tool').latest).toBe('2.0.0');
  });

  it('rejects an unknown field in watch, as every recipe field', async () => {
    const dir = await makeProject({ 'recipes/w.yaml': `name: w\nversion: 1.0.0\nwatch:\n  url: ${server.url('/releases/')}\n  patern: x\n` });
    const r = await run(dir);
    expect(r.rows).toEqual([]);
    expect(r.findings.map((f) => f.code)).toContain('RECIPE_SCHEMA');
  });
});
