// `upgrade` end to end through the library: a project that is a real git
// repository, a fake npm registry with several versions, a git remote with
// version tags and a URL server, all on loopback. What changes (the recipe, its
// dependants, their lock entries) and what never does (every other entry, the
// files on any failure).
import { writeFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntactError } from '../../src/errors.js';
import { verifyStatic } from '../../src/lock/index.js';
import { relock } from '../../src/lock/relock.js';
import { upgrade, upgradeSummary, type UpgradeOptions } from '../../src/upgrade/index.js';
import { git, makeGitRepo, testGitEnv, type GitRepo } from '../helpers/git-repo.js';
import { serve, startServer, type TestServer } from '../helpers/http-server.js';
import { sri, startNpmRegistry, type FakePackage, type FakeRegistry } from '../helpers/npm-registry.js';
import { cleanupProjects, makeProject } from '../helpers/project.js';
import { gitProject, lockDeps, toolPackage, type GitProject } from './fixtures.js';

let registry: FakeRegistry;
let tool: FakePackage;
let server: TestServer;
let remote: GitRepo;
const zlib13 = Buffer.from('zlib 1.3 source\n');
const zlib131 = Buffer.from('zlib 1.3.1 source\n');

beforeAll(async () => {
  tool = await toolPackage();
  registry = await startNpmRegistry({ packages: [tool] });
  server = await startServer({
    '/zlib-1.3.tar.gz': serve(zlib13),
    '/mirror/zlib-1.3.tar.gz': serve(zlib13),
    '/zlib-1.3.1.tar.gz': serve(zlib131),
    '/mirror/zlib-1.3.1.tar.gz': serve(zlib131),
  });
  const dir = await makeProject();
  remote = await makeGitRepo(dir, [{ 'lib.c': 'one' }, { 'lib.c': 'two' }]);
  const env = testGitEnv(dir, { GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.invalid' });
  await git(['tag', 'v1.0.0', remote.commits[0]!], remote.bare, env);
  await git(['tag', '-a', '-m', 'release 1.1.0', 'v1.1.0', remote.commits[1]!], remote.bare, env);
});
afterAll(async () => {
  await registry.close();
  await server.close();
  await cleanupProjects();
});

const TOOL = `# The tool, prebuilt.
name: tool
version: 1.0.0   # upstream's version
license: MIT
sources:
  - npm: tool@1.0.0
bin: [bin/tool]
`;
const APP = 'name: app\nversion: 0.1.0\nsources:\n  - file: vendor/app.c\ndeps: [tool@1.0.0]\n';
const TOP = 'name: top\nversion: 0.1.0\ndeps: [app@0.1.0]\n';
const ZLIB = () =>
  `name: zlib\nversion: "1.3"\nsources:\n  - url: ${server.url('/zlib-1.3.tar.gz')}\n    mirrors: [${server.url('/mirror/zlib-1.3.tar.gz')}]\n    integrity: ${sri('sha512', zlib13)}\n`;
const LIB = () => `name: lib\nversion: 1.0.0\nsources:\n  - git: ${remote.url}\n    rev: ${remote.commits[0]}\n`;

async function project(): Promise<GitProject> {
  const p = await gitProject(
    {
      'recipes/tool.yaml': TOOL,
      'recipes/app.yaml': APP,
      'recipes/top.yaml': TOP,
      'recipes/zlib.yaml': ZLIB(),
      'recipes/lib.yaml': LIB(),
      'vendor/app.c': 'int main(void){return 0;}\n',
    },
    { commit: false },
  );
  const r = await relock(p.dir, { ...lockDeps(p.dir, registry.url) });
  expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
  await p.commit('initial');
  return p;
}

const opts = (p: GitProject, name: string, version: string, more: Partial<UpgradeOptions> = {}): UpgradeOptions => ({
  name,
  version,
  lock: lockDeps(p.dir, registry.url),
  env: p.env,
  ...more,
});
const read = (p: GitProject, rel: string) => readFile(join(p.dir, rel), 'utf8');
const lockOf = async (p: GitProject) =>
  JSON.parse(await read(p, 'intact.lock')) as { recipes: Record<string, Record<string, unknown> & { sources: { integrity: string }[]; deps: string[] }> };

/** Every file the project holds, with its text: to prove a failure changed nothing. */
async function files(p: GitProject): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of ['intact.lock', ...(await readdir(join(p.dir, 'recipes'))).map((n) => `recipes/${n}`)]) out[rel] = await read(p, rel);
  return out;
}

describe('upgrade an npm recipe', () => {
  it('edits the recipe and its dependants, re-locks only them, and keeps comments', async () => {
    const p = await project();
    const before = await lockOf(p);
    const r = await upgrade(p.dir, opts(p, 'tool', '1.1.0'));
    expect(r.ok).toBe(true);
    expect(r.written).toBe(true);
    expect(await read(p, 'recipes/tool.yaml')).toBe(TOOL.replace('version: 1.0.0 ', 'version: 1.1.0 ').replace('tool@1.0.0', 'tool@1.1.0'));
    expect(await read(p, 'recipes/app.yaml')).toBe(APP.replace('tool@1.0.0', 'tool@1.1.0'));
    const after = await lockOf(p);
    expect(after.recipes.tool!.version).toBe('1.1.0');
    expect(after.recipes.tool!.sources[0]!.integrity).toBe(sri('sha512', tool.versions['1.1.0']!.tarball));
    expect(after.recipes.app!.deps).toEqual(['tool@1.1.0']);
    expect(after.recipes.top!.deps).toEqual(['app@0.1.0']);
    // Nothing else in the lock changes.
    expect(after.recipes.zlib).toEqual(before.recipes.zlib);
    expect(after.recipes.lib).toEqual(before.recipes.lib);
    expect(r.relocked).toEqual(['tool', 'app', 'top']);
    expect((await verifyStatic(p.dir)).ok).toBe(true);

    const summary = upgradeSummary(r);
    expect(summary).toContain('## Upgrade `tool` 1.0.0 → 1.1.0');
    expect(summary).toContain('`npm:tool@1.0.0` → `npm:tool@1.1.0`');
    expect(summary).toContain('Locked again with it');
    expect(summary).toContain('`app`');
    expect(summary).toContain('no other entry of intact.lock changed');
  });

  it('refuses a recipe with uncommitted edits unless forced', async () => {
    const p = await project();
    await writeFile(join(p.dir, 'recipes/tool.yaml'), `${TOOL}description: edited\n`);
    const snapshot = await files(p);
    await expect(upgrade(p.dir, opts(p, 'tool', '1.1.0'))).rejects.toMatchObject({ code: 'UPGRADE_DIRTY', file: 'recipes/tool.yaml' });
    expect(await files(p)).toEqual(snapshot);
    const r = await upgrade(p.dir, opts(p, 'tool', '1.1.0', { force: true }));
    expect(r.written).toBe(true);
    expect(await read(p, 'recipes/tool.yaml')).toContain('description: edited');
  });

  it.each([
    ['^1.2.0', 'VERSION_FLOATING'],
    ['latest', 'VERSION_FLOATING'],
    ['1.2', 'NPM_SPEC_FLOATING'],
    ['1.0.0', 'UPGRADE_SAME_VERSION'],
    ['9.9.9', 'NPM_VERSION_NOT_FOUND'],
  ])('to %s: %s, and nothing is written', async (version, code) => {
    const p = await project();
    const snapshot = await files(p);
    const err = await upgrade(p.dir, opts(p, 'tool', version)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code });
    if (code === 'NPM_VERSION_NOT_FOUND') {
      expect((err as Error).message).toMatch(/^upgrade tool to 9\.9\.9: /);
      expect((err as Error).message).toMatch(/2\.0\.0/);
      expect((err as { hint: string }).hint).toContain('nothing was changed');
    }
    expect(await files(p)).toEqual(snapshot);
  });

  it('names an unknown recipe', async () => {
    const p = await project();
    await expect(upgrade(p.dir, opts(p, 'nope', '1.0.0'))).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('"nope"') });
  });

  it('refuses outside a git repository unless forced', async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': TOOL });
    await relock(dir, lockDeps(dir, registry.url));
    const o = { name: 'tool', version: '1.1.0', lock: lockDeps(dir, registry.url), env: { PATH: process.env.PATH, GIT_CEILING_DIRECTORIES: join(dir, '..') } };
    await expect(upgrade(dir, o)).rejects.toMatchObject({ code: 'NOT_GIT_REPO' });
    expect((await upgrade(dir, { ...o, force: true })).written).toBe(true);
  });

  it('builds when asked, after writing; a failed build keeps the verified edit and says so', async () => {
    const p = await project();
    const seen: string[] = [];
    const build = async (n: string): Promise<never> => {
      seen.push(n);
      // The edit is on disk by now: a build reads the project, as `intact install` does.
      expect(await read(p, 'recipes/tool.yaml')).toContain('tool@1.2.0');
      throw new IntactError('BUILD_FAILED', 'step 1 failed');
    };
    const r = await upgrade(p.dir, opts(p, 'tool', '1.2.0', { build }));
    expect(seen).toEqual(['tool']);
    expect(r.written).toBe(true);
    expect(r.build).toMatchObject({ error: { code: 'BUILD_FAILED' } });
    expect(upgradeSummary(r)).toContain('**Build failed**');
  });
});

describe('an edit made meanwhile', () => {
  it('stops the upgrade before anything is written (PROJECT_CHANGED)', async () => {
    const p = await project();
    const deps = lockDeps(p.dir, registry.url);
    // The recipe is edited by someone else while the new version is being fetched.
    deps.fetch.onEvent = (e) => {
      if (e.type === 'done') writeFileSync(join(p.dir, 'recipes/tool.yaml'), `${TOOL}# edited meanwhile\n`);
    };
    const lockBefore = await read(p, 'intact.lock');
    await expect(upgrade(p.dir, { name: 'tool', version: '1.1.0', lock: deps, env: p.env })).rejects.toMatchObject({
      code: 'PROJECT_CHANGED',
      file: 'recipes/tool.yaml',
    });
    expect(await read(p, 'intact.lock')).toBe(lockBefore);
    expect(await read(p, 'recipes/tool.yaml')).toBe(`${TOOL}# edited meanwhile\n`);
    expect((await readdir(join(p.dir, 'recipes'))).sort()).toEqual(['app.yaml', 'lib.yaml', 'tool.yaml', 'top.yaml', 'zlib.yaml']);
  });
});

describe('upgrade a url recipe', () => {
  it('moves the URL and its mirrors, drops the old declared pin with a warning, pins the new bytes', async () => {
    const p = await project();
    const r = await upgrade(p.dir, opts(p, 'zlib', '1.3.1'));
    const text = await read(p, 'recipes/zlib.yaml');
    expect(text).toBe(
      ZLIB()
        .replace(/zlib-1\.3\.tar/g, 'zlib-1.3.1.tar')
        .replace('version: "1.3"', 'version: "1.3.1"')
        .replace(/ {4}integrity: .*\n/, ''),
    );
    expect((await lockOf(p)).recipes.zlib!.sources[0]!.integrity).toBe(sri('sha512', zlib131));
    expect(r.findings.map((f) => f.code)).toEqual(['UPGRADE_INTEGRITY_DROPPED']);
  });

  it('says when no source carries the version', async () => {
    const p = await project();
    await p.write({ 'recipes/zlib.yaml': ZLIB().replace(/zlib-1\.3\.tar/g, 'zlib-latest.tar') });
    await p.commit('odd url');
    await expect(upgrade(p.dir, opts(p, 'zlib', '1.3.1'))).rejects.toMatchObject({ code: 'UPGRADE_NOTHING_TO_EDIT', file: 'recipes/zlib.yaml' });
  });
});

describe('upgrade a git recipe', () => {
  it('takes the commit of the version tag (annotated tags peeled)', async () => {
    const p = await project();
    const r = await upgrade(p.dir, opts(p, 'lib', '1.1.0'));
    expect(await read(p, 'recipes/lib.yaml')).toBe(LIB().replace(remote.commits[0]!, remote.commits[1]!).replace('1.0.0', '1.1.0'));
    expect(r.tags).toEqual([{ field: 'sources[0].rev', tag: 'v1.1.0', rev: remote.commits[1] }]);
  });

  it('takes --rev when given, and refuses a short or symbolic one', async () => {
    const p = await project();
    await expect(upgrade(p.dir, opts(p, 'lib', '1.1.0', { rev: 'main' }))).rejects.toMatchObject({ code: 'GIT_REV_FLOATING' });
    const r = await upgrade(p.dir, opts(p, 'lib', '1.5.0', { rev: remote.commits[1]! }));
    expect(r.tags).toEqual([]);
    expect(await read(p, 'recipes/lib.yaml')).toContain(`rev: ${remote.commits[1]}`);
  });

  it('names a version the remote has no tag for, with the versions near it', async () => {
    const p = await project();
    const snapshot = await files(p);
    const err = await upgrade(p.dir, opts(p, 'lib', '3.0.0')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VERSION_NOT_FOUND', url: remote.url });
    expect((err as Error).message).toContain('v3.0.0 or 3.0.0');
    expect((err as Error).message).toContain('1.1.0');
    expect(await files(p)).toEqual(snapshot);
  });
});
