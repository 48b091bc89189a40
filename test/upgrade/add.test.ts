// `add` through the library: npm packages (with license and description from the
// registry's full document), per-platform npm packages, URLs and git commits;
// floating specs refused with intact's usual errors; nothing written on failure.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStatic } from '../../src/lock/index.js';
import { parseRecipe } from '../../src/recipe/index.js';
import { add, parseAddSpec } from '../../src/upgrade/index.js';
import { guessFromUrl } from '../../src/upgrade/add-spec.js';
import { platformPackages } from '../../src/upgrade/platforms.js';
import { git, makeGitRepo, testGitEnv, type GitRepo } from '../helpers/git-repo.js';
import { serve, startServer, type TestServer } from '../helpers/http-server.js';
import { makeTarball, sri, startNpmRegistry, type FakeRegistry } from '../helpers/npm-registry.js';
import { cleanupProjects, makeProject } from '../helpers/project.js';
import { lockDeps, toolPackage } from './fixtures.js';

let registry: FakeRegistry;
let server: TestServer;
let remote: GitRepo;
const zlib = Buffer.from('zlib source\n');
let bin: Buffer;

beforeAll(async () => {
  bin = await makeTarball({ 'bin/fastbin': 'ELF' });
  const platforms = { '@fastbin/linux-x64': '2.0.0', '@fastbin/linux-x64-musl': '2.0.0', '@fastbin/linux-arm64': '2.0.0', '@fastbin/darwin-arm64': '2.0.0' };
  registry = await startNpmRegistry({
    packages: [
      await toolPackage(),
      {
        name: 'fastbin',
        versions: {
          '2.0.0': {
            tarball: await makeTarball({ 'bin/fastbin.js': '' }),
            license: 'Apache-2.0',
            bin: { fastbin: 'bin/fastbin.js' },
            optionalDependencies: platforms,
          },
        },
      },
      ...Object.keys(platforms).map((name) => ({ name, versions: { '2.0.0': { tarball: bin } } })),
    ],
  });
  server = await startServer({ '/dl/zlib-1.3.1.tar.gz': serve(zlib) });
  const dir = await makeProject();
  remote = await makeGitRepo(dir, [{ 'lib.c': 'one' }]);
  await git(['tag', 'v0.9.0', remote.commits[0]!], remote.bare, testGitEnv(dir));
});
afterAll(async () => {
  await registry.close();
  await server.close();
  await cleanupProjects();
});

const EXISTING = 'name: other\nversion: 1.0.0\n';

async function project(): Promise<string> {
  return makeProject({ 'recipes/other.yaml': EXISTING });
}
const read = (dir: string, rel: string) => readFile(join(dir, rel), 'utf8');

describe('add', () => {
  it('npm: writes a commented recipe with license and description, and locks it alone', async () => {
    const dir = await project();
    const r = await add(dir, { spec: 'npm:tool@1.1.0', lock: lockDeps(dir, registry.url) });
    expect(r).toMatchObject({ ok: true, name: 'tool', version: '1.1.0', file: 'recipes/tool.yaml' });
    const text = await read(dir, 'recipes/tool.yaml');
    expect(text).toContain('# Added by `intact add npm:tool@1.1.0`');
    expect(text).toContain('license: "MIT"');
    expect(text).toContain('description: "A tool"');
    expect(text).toContain('  - npm: "tool@1.1.0"');
    expect(text).toContain('build: []');
    expect(parseRecipe(text, 'recipes/tool.yaml').findings).toEqual([]);
    const lock = JSON.parse(await read(dir, 'intact.lock'));
    expect(lock.recipes.tool.sources[0]).toMatchObject({
      kind: 'npm',
      npm: 'tool@1.1.0',
      integrity: sri('sha512', (await toolPackage()).versions['1.1.0']!.tarball),
    });
    // Only the named recipe is locked: `other` was never in the lock and still is not.
    expect(Object.keys(lock.recipes)).toEqual(['tool']);
  });

  it('npm --platforms: one source per platform package, musl preferred', async () => {
    const dir = await project();
    const r = await add(dir, { spec: 'npm:fastbin@2.0.0', platforms: true, lock: lockDeps(dir, registry.url) });
    expect(r.ok).toBe(true);
    const { recipe } = parseRecipe(r.text, r.file);
    expect(recipe!.recipe.platforms).toEqual(['linux-x64', 'linux-arm64']);
    expect(recipe!.recipe.sources).toEqual([
      { npm: '@fastbin/linux-x64-musl@2.0.0', platforms: ['linux-x64'] },
      { npm: '@fastbin/linux-arm64@2.0.0', platforms: ['linux-arm64'] },
    ]);
    expect(r.text).toContain('license: "Apache-2.0"');
    expect(r.text).toContain('fastbin -> bin/fastbin.js');
    const lock = JSON.parse(await read(dir, 'intact.lock'));
    expect(lock.recipes.fastbin.sources.map((s: { integrity: string }) => s.integrity)).toEqual([sri('sha512', bin), sri('sha512', bin)]);
  });

  it('--platforms on a package without platform packages is refused', async () => {
    const dir = await project();
    await expect(add(dir, { spec: 'npm:tool@1.1.0', platforms: true, lock: lockDeps(dir, registry.url) })).rejects.toMatchObject({
      code: 'ADD_NO_PLATFORM_PACKAGES',
    });
  });

  it('url: reads name and version from the file name', async () => {
    const dir = await project();
    const r = await add(dir, { spec: server.url('/dl/zlib-1.3.1.tar.gz'), lock: lockDeps(dir, registry.url) });
    expect(r).toMatchObject({ ok: true, name: 'zlib', version: '1.3.1' });
    expect(JSON.parse(await read(dir, 'intact.lock')).recipes.zlib.sources[0].integrity).toBe(sri('sha512', zlib));
    expect((await verifyStatic(dir)).findings.filter((f) => f.file === 'recipes/zlib.yaml')).toEqual([]);
  });

  it('git: a commit; the version is the tag that points at it', async () => {
    const dir = await project();
    const r = await add(dir, { spec: `git:${remote.url}#${remote.commits[0]}`, name: 'lib', lock: lockDeps(dir, registry.url) });
    expect(r).toMatchObject({ ok: true, name: 'lib', version: '0.9.0' });
  });

  it('git: a commit, with the version given', async () => {
    const dir = await project();
    const r = await add(dir, { spec: `git:${remote.url}#${remote.commits[0]}`, name: 'lib', version: '0.9.0', lock: lockDeps(dir, registry.url) });
    expect(r).toMatchObject({ ok: true, name: 'lib', version: '0.9.0' });
    expect(r.text).toContain(`rev: "${remote.commits[0]}"`);
  });

  it.each([
    ['npm:tool', 'NPM_SPEC_FLOATING'],
    ['npm:tool@^1.0.0', 'NPM_SPEC_FLOATING'],
    ['npm:tool@latest', 'NPM_SPEC_FLOATING'],
    ['npm:tool@1.1', 'NPM_SPEC_FLOATING'],
    ['git:https://x.test/r.git', 'GIT_REV_FLOATING'],
    ['git:https://x.test/r.git#main', 'GIT_REV_FLOATING'],
    ['git:https://x.test/r.git#abc1234', 'GIT_REV_FLOATING'],
    ['tool', 'ADD_SPEC_INVALID'],
    ['npm:tool@9.9.9', 'NPM_VERSION_NOT_FOUND'],
    ['npm:other@1.0.0', 'NPM_PACKAGE_NOT_FOUND'],
  ])('%s → %s, nothing written', async (spec, code) => {
    const dir = await project();
    await expect(add(dir, { spec, lock: lockDeps(dir, registry.url) })).rejects.toMatchObject({ code });
    expect(await readdir(join(dir, 'recipes'))).toEqual(['other.yaml']);
    expect(await readdir(dir)).not.toContain('intact.lock');
  });

  it('refuses a floating --version and an existing recipe', async () => {
    const dir = await project();
    await expect(add(dir, { spec: server.url('/dl/zlib-1.3.1.tar.gz'), version: '1.x', lock: lockDeps(dir, registry.url) })).rejects.toMatchObject({
      code: 'VERSION_FLOATING',
    });
    await expect(add(dir, { spec: 'npm:tool@1.1.0', name: 'other', lock: lockDeps(dir, registry.url) })).rejects.toMatchObject({
      code: 'RECIPE_EXISTS',
      file: 'recipes/other.yaml',
    });
    expect(await read(dir, 'recipes/other.yaml')).toBe(EXISTING);
  });

  it('a download that fails leaves no recipe behind', async () => {
    const dir = await project();
    await expect(add(dir, { spec: server.url('/dl/gone-1.0.0.tar.gz'), lock: lockDeps(dir, registry.url) })).rejects.toMatchObject({ code: 'HTTP_STATUS' });
    expect(await readdir(join(dir, 'recipes'))).toEqual(['other.yaml']);
  });
});

describe('reading the argument', () => {
  it('parses the three forms', () => {
    expect(parseAddSpec('npm:@scope/pkg@1.2.3')).toEqual({ kind: 'npm', pkg: '@scope/pkg', version: '1.2.3' });
    expect(parseAddSpec(`git:https://x.test/r.git#${'a'.repeat(40)}`)).toEqual({ kind: 'git', url: 'https://x.test/r.git', rev: 'a'.repeat(40) });
    expect(parseAddSpec('https://x.test/a-1.0.tgz')).toEqual({ kind: 'url', url: 'https://x.test/a-1.0.tgz' });
  });
  it.each([
    ['https://x.test/dl/zlib-1.3.1.tar.gz', { name: 'zlib', version: '1.3.1' }],
    ['https://x.test/zig-linux-x86_64-0.11.0.tar.xz', { name: 'zig-linux-x86_64', version: '0.11.0' }],
    ['https://x.test/releases/v2.4.0/tool-linux-amd64.tgz', { name: 'tool-linux-amd64', version: '2.4.0' }],
    ['https://x.test/openssh-9.4p1.tar.gz', { name: 'openssh', version: '9.4p1' }],
  ])('guesses from %s', (url, want) => {
    expect(guessFromUrl(url)).toEqual(want);
  });
  it('picks per-platform packages: musl first, then unmarked, then gnu', () => {
    const picked = platformPackages(
      { '@x/cli-linux-x64': '1.0.0', '@x/cli-linux-x64-musl': '1.0.0', '@x/cli-linux-arm64-gnu': '^1.0.0', '@x/cli-win32-x64': '1.0.0' },
      '1.0.0',
    );
    expect(picked.map((p) => [p.platform, p.name, p.version])).toEqual([
      ['linux-x64', '@x/cli-linux-x64-musl', '1.0.0'],
      ['linux-arm64', '@x/cli-linux-arm64-gnu', '1.0.0'],
    ]);
  });
});
