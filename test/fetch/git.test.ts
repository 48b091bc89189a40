import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadCache } from '../../src/fetch/cache.js';
import { fetchFile } from '../../src/fetch/file.js';
import { checkGitUrl, fetchGit, gitMirrorDir } from '../../src/fetch/git.js';
import { listStore } from '../../src/store/listing.js';
import { layoutOf } from '../../src/store/paths.js';
import { makeGitRepo, readTar, type Snapshot } from '../helpers/git-repo.js';

const env = { PATH: process.env.PATH };

const TREE: Snapshot = {
  'README.md': '# demo\n',
  'bin/run': { content: '#!/bin/sh\necho run\n', exec: true },
  'src/a.c': 'int a;\n',
  'src/b/c.h': '#define C 1\n',
  'link-to-readme': { symlink: 'README.md' },
  'src.c': 'sorted between src-x and src/\n',
  'src-x': 'dash sorts before slash\n',
};

describe('fetchGit', () => {
  let dir: string;
  let cache: DownloadCache;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'intact-git-'));
    cache = new DownloadCache(join(dir, 'store'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fetches the right commit and exports its tree deterministically', async () => {
    const repo = await makeGitRepo(dir, [{ 'README.md': 'old\n' }, TREE]);
    const got = await fetchGit(repo.url, repo.commits[1]!, cache, { env });
    expect(got).toMatchObject({ url: repo.url, rev: repo.commits[1], cached: false });
    const bytes = await readFile(got.path);
    expect(got.integrity).toBe(`sha512-${createHash('sha512').update(bytes).digest('base64')}`);
    const entries = await readTar(bytes);
    expect(entries.map((e) => [e.path, e.type, e.mode.toString(8)])).toEqual([
      ['README.md', 'File', '644'],
      ['bin/', 'Directory', '755'],
      ['bin/run', 'File', '755'],
      ['link-to-readme', 'SymbolicLink', '777'],
      ['src-x', 'File', '644'],
      ['src.c', 'File', '644'],
      ['src/', 'Directory', '755'],
      ['src/a.c', 'File', '644'],
      ['src/b/', 'Directory', '755'],
      ['src/b/c.h', 'File', '644'],
    ]);
    expect(entries.every((e) => e.mtime === 0 && e.uid === 0)).toBe(true);
    expect(entries.find((e) => e.path === 'README.md')!.body).toBe('# demo\n');
    expect(entries.find((e) => e.path === 'link-to-readme')!.linkpath).toBe('README.md');
    // The older commit is a different tree, so a different pin.
    const old = await fetchGit(repo.url, repo.commits[0]!, cache, { env });
    expect(old.integrity).not.toBe(got.integrity);
  });

  it('keeps the fetched commit in a bare repository under <store>/git/', async () => {
    const repo = await makeGitRepo(dir, [TREE]);
    await fetchGit(repo.url, repo.commits[0]!, cache, { env });
    const repos = await readdir(join(dir, 'store', 'git'));
    expect(repos).toEqual([createHash('sha256').update(repo.url).digest('hex')]);
    // Where gc keeps a pinned remote's mirror (project/pins.ts) is where it is,
    // and the store's listing counts `git/` as the store's own, not a stray folder.
    const store = layoutOf(join(dir, 'store'));
    expect(gitMirrorDir(store, repo.url)).toBe(join(store.git, repos[0]!));
    expect((await listStore(store)).unknown).toEqual([]);
  });

  it('the same tree gives the same bytes from different commits, repositories and stores', async () => {
    const one = await makeGitRepo(join(dir), [TREE], { date: '2001-01-01T00:00:00Z', author: 'One' });
    const two = await makeGitRepo(join(dir), [{ x: 'unrelated history' }, TREE], { date: '2020-06-01T12:00:00Z', author: 'Two' });
    expect(one.commits[0]).not.toBe(two.commits[1]);
    const a = await fetchGit(one.url, one.commits[0]!, cache, { env });
    const b = await fetchGit(two.url, two.commits[1]!, new DownloadCache(join(dir, 'store-b')), { env });
    expect(b.integrity).toBe(a.integrity);
    expect(await readFile(b.path)).toEqual(await readFile(a.path));
  });

  it('with the pin in the cache, git is not even run', async () => {
    const repo = await makeGitRepo(dir, [TREE]);
    const first = await fetchGit(repo.url, repo.commits[0]!, cache, { env });
    const again = await fetchGit(repo.url, repo.commits[0]!, cache, { env: { PATH: '/nonexistent' }, expected: first.integrity });
    expect(again).toMatchObject({ integrity: first.integrity, cached: true });
  });

  it('a second fetch of a known commit works from the store repository, offline', async () => {
    const repo = await makeGitRepo(dir, [TREE]);
    const first = await fetchGit(repo.url, repo.commits[0]!, cache, { env });
    await rm(repo.bare, { recursive: true });
    await rm(first.path, { force: true });
    const again = await fetchGit(repo.url, repo.commits[0]!, cache, { env });
    expect(again.integrity).toBe(first.integrity);
  });

  it('a commit that does not exist → GIT_REV_NOT_FOUND naming url and rev', async () => {
    const repo = await makeGitRepo(dir, [TREE]);
    const rev = '0123456789abcdef0123456789abcdef01234567';
    const err = await fetchGit(repo.url, rev, cache, { env }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'GIT_REV_NOT_FOUND', url: repo.url, found: rev });
    expect((err as Error).message).toContain(rev);
    expect((err as Error).message).toContain(repo.url);
  });

  it('a pin that does not match the export → INTEGRITY_MISMATCH', async () => {
    const repo = await makeGitRepo(dir, [TREE]);
    const wrong = `sha512-${createHash('sha512').update('other').digest('base64')}`;
    await expect(fetchGit(repo.url, repo.commits[0]!, cache, { env, expected: wrong })).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH' });
  });

  const floating: [string, string][] = [
    ['a branch', 'main'],
    ['a tag', 'v1'],
    ['a short sha', 'abc1234'],
    ['HEAD', 'HEAD'],
    ['upper-case hex', 'ABCDEF0123456789ABCDEF0123456789ABCDEF01'],
    ['a revision expression', 'main~1'],
    ['an empty rev', ''],
  ];
  it.each(floating)('refuses %s → GIT_REV_FLOATING', async (_what, rev) => {
    await expect(fetchGit('file:///nowhere.git', rev, cache, { env })).rejects.toMatchObject({ code: 'GIT_REV_FLOATING' });
  });

  const badUrls = [
    'ext::sh -c touch% /tmp/pwned',
    '--upload-pack=touch /tmp/pwned',
    'fd::17',
    'transport::https://x.test/r.git',
    'ftp://x.test/r.git',
    'https://x.test/r .git',
    '',
    'https://user:hunter2@x.test/r.git',
  ];
  it.each(badUrls)('refuses the URL %j → GIT_URL_INVALID', (url) => {
    expect(() => checkGitUrl(url)).toThrow(expect.objectContaining({ code: 'GIT_URL_INVALID' }));
  });
  const goodUrls = [
    'https://x.test/r.git',
    'http://x.test/r',
    'ssh://git@x.test/r.git',
    'git://x.test/r.git',
    'file:///srv/r.git',
    'git@x.test:org/r.git',
    'x.test:org/r.git',
  ];
  it.each(goodUrls)('accepts the URL %j', (url) => {
    expect(() => checkGitUrl(url)).not.toThrow();
  });

  it('refuses submodules, naming them', async () => {
    const repo = await makeGitRepo(dir, [{ 'README.md': 'x', 'vendor/lib': { gitlink: '1111111111111111111111111111111111111111' } }]);
    const err = await fetchGit(repo.url, repo.commits[0]!, cache, { env }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'GIT_SUBMODULE' });
    expect((err as Error).message).toContain('vendor/lib');
  });

  it('git missing → GIT_NOT_FOUND with a hint', async () => {
    const repo = await makeGitRepo(dir, [TREE]);
    const err = await fetchGit(repo.url, repo.commits[0]!, cache, { env: { PATH: join(dir, 'empty-bin') } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'GIT_NOT_FOUND' });
    expect((err as { hint: string }).hint).toMatch(/install git/);
  });

  it('a remote that is not there → GIT_FETCH_FAILED', async () => {
    await expect(fetchGit(`file://${join(dir, 'missing.git')}`, '0123456789abcdef0123456789abcdef01234567', cache, { env })).rejects.toMatchObject({
      code: 'GIT_FETCH_FAILED',
    });
  });

  it('ignores the user’s git configuration (HOME is replaced)', async () => {
    const repo = await makeGitRepo(dir, [TREE]);
    const home = join(dir, 'evil-home');
    await mkdir(home);
    // If this config were read, the fetch would go to a remote that does not exist.
    await writeFile(join(home, '.gitconfig'), `[url "file:///does-not-exist/"]\n\tinsteadOf = ${repo.url.replace(/[^/]+$/, '')}\n`);
    const got = await fetchGit(repo.url, repo.commits[0]!, cache, { env: { PATH: process.env.PATH, HOME: home } });
    expect(got.cached).toBe(false);
  });

  it('exports the same bytes as the same tree given as a project directory', async () => {
    const repo = await makeGitRepo(dir, [TREE]);
    const viaGit = await fetchGit(repo.url, repo.commits[0]!, cache, { env });
    const project = join(dir, 'project');
    const root = join(project, 'vendored');
    await mkdir(join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'src', 'b'), { recursive: true });
    await writeFile(join(root, 'README.md'), '# demo\n');
    await writeFile(join(root, 'bin', 'run'), '#!/bin/sh\necho run\n', { mode: 0o755 });
    await writeFile(join(root, 'src', 'a.c'), 'int a;\n');
    await writeFile(join(root, 'src', 'b', 'c.h'), '#define C 1\n');
    await writeFile(join(root, 'src.c'), 'sorted between src-x and src/\n');
    await writeFile(join(root, 'src-x'), 'dash sorts before slash\n');
    await symlink('README.md', join(root, 'link-to-readme'));
    const viaFile = await fetchFile(project, 'vendored', new DownloadCache(join(dir, 'store-f')));
    expect(viaFile.integrity).toBe(viaGit.integrity);
  });
});
