import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadCache } from '../../src/fetch/cache.js';
import { fetchFile } from '../../src/fetch/file.js';
import { readTar } from '../helpers/git-repo.js';

describe('fetchFile', () => {
  let dir: string;
  let project: string;
  let cache: DownloadCache;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'intact-file-'));
    project = join(dir, 'project');
    await mkdir(join(project, 'vendor'), { recursive: true });
    cache = new DownloadCache(join(dir, 'store'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ingests a file as its bytes', async () => {
    const bytes = Buffer.from('patch content\n');
    await writeFile(join(project, 'vendor', 'fix.patch'), bytes);
    const got = await fetchFile(project, 'vendor/fix.patch', cache);
    expect(got).toMatchObject({
      kind: 'file',
      file: 'vendor/fix.patch',
      bytes: bytes.length,
      integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
    });
    expect(await readFile(got.path)).toEqual(bytes);
    const again = await fetchFile(project, 'vendor/fix.patch', cache, { expected: got.integrity });
    expect(again.cached).toBe(true);
  });

  it('an edited file no longer matches its pin, even when the pinned bytes are in the cache', async () => {
    await writeFile(join(project, 'vendor', 'fix.patch'), 'v1');
    const pinned = await fetchFile(project, 'vendor/fix.patch', cache);
    await writeFile(join(project, 'vendor', 'fix.patch'), 'v2');
    const err = await fetchFile(project, 'vendor/fix.patch', cache, { expected: pinned.integrity }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTEGRITY_MISMATCH', file: 'vendor/fix.patch', expected: pinned.integrity });
  });

  it('accepts a sha256 pin and still returns the sha512', async () => {
    await writeFile(join(project, 'a'), 'a');
    const sha256 = `sha256-${createHash('sha256').update('a').digest('base64')}`;
    const got = await fetchFile(project, 'a', cache, { expected: sha256 });
    expect(got.integrity).toBe(`sha512-${createHash('sha512').update('a').digest('base64')}`);
  });

  it('reads a file larger than its buffer whole', async () => {
    const bytes = Buffer.alloc(2.5 * 1024 * 1024, 'ab');
    await writeFile(join(project, 'big.bin'), bytes);
    const got = await fetchFile(project, 'big.bin', cache);
    expect(got.integrity).toBe(`sha512-${createHash('sha512').update(bytes).digest('base64')}`);
  });

  it('a pin that does not match → INTEGRITY_MISMATCH', async () => {
    await writeFile(join(project, 'a'), 'a');
    const wrong = `sha512-${createHash('sha512').update('b').digest('base64')}`;
    await expect(fetchFile(project, 'a', cache, { expected: wrong })).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH' });
  });

  const escaping: [string, string][] = [
    ['absolute', '/etc/passwd'],
    ['dot-dot', '../outside'],
    ['dot-dot inside', 'vendor/../../outside'],
    ['dot-dot that stays inside (still refused)', 'vendor/../vendor/x'],
    ['the project itself', '.'],
    ['the project itself, spelled oddly', 'vendor/..'],
    ['empty', ''],
  ];
  it.each(escaping)('refuses %s → REPO_FILE_ESCAPES', async (_what, rel) => {
    await expect(fetchFile(project, rel, cache)).rejects.toMatchObject({ code: 'REPO_FILE_ESCAPES' });
  });

  it('refuses a symlink leading outside the project (checked on real paths)', async () => {
    await writeFile(join(dir, 'secret'), 'secret');
    await symlink(join(dir, 'secret'), join(project, 'vendor', 'innocent'));
    const err = await fetchFile(project, 'vendor/innocent', cache).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'REPO_FILE_ESCAPES', file: 'vendor/innocent' });
  });

  it('refuses a path through a symlinked folder leading outside', async () => {
    await mkdir(join(dir, 'elsewhere'));
    await writeFile(join(dir, 'elsewhere', 'f'), 'x');
    await symlink(join(dir, 'elsewhere'), join(project, 'linked'));
    await expect(fetchFile(project, 'linked/f', cache)).rejects.toMatchObject({ code: 'REPO_FILE_ESCAPES' });
  });

  it('follows a symlink that stays inside the project', async () => {
    await writeFile(join(project, 'vendor', 'real'), 'real');
    await symlink('real', join(project, 'vendor', 'alias'));
    const got = await fetchFile(project, 'vendor/alias', cache);
    expect(await readFile(got.path, 'utf8')).toBe('real');
  });

  it('works when the project path itself goes through a symlink', async () => {
    await writeFile(join(project, 'a'), 'a');
    await symlink(project, join(dir, 'project-link'));
    const got = await fetchFile(join(dir, 'project-link'), 'a', cache);
    expect(got.bytes).toBe(1);
  });

  it('a missing path → REPO_FILE_MISSING', async () => {
    await expect(fetchFile(project, 'vendor/nope.tar.gz', cache)).rejects.toMatchObject({ code: 'REPO_FILE_MISSING', file: 'vendor/nope.tar.gz' });
  });

  it('a fifo → FILE_SOURCE_UNSUPPORTED', async () => {
    execFileSync('mkfifo', [join(project, 'pipe')]);
    await expect(fetchFile(project, 'pipe', cache)).rejects.toMatchObject({ code: 'FILE_SOURCE_UNSUPPORTED' });
  });

  describe('a directory', () => {
    async function makeDir(root: string, order: 'forward' | 'backward'): Promise<void> {
      const files: [string, string, number][] = [
        ['b.txt', 'b\n', 0o644],
        ['a/run.sh', '#!/bin/sh\n', 0o755],
        ['a/z', 'z', 0o600],
        ['a-b', 'dash', 0o664],
      ];
      await mkdir(join(root, 'a'), { recursive: true });
      await mkdir(join(root, 'empty'));
      for (const [p, c, mode] of order === 'forward' ? files : [...files].reverse()) await writeFile(join(root, p), c, { mode });
      await symlink('a/z', join(root, 'to-z'));
    }

    it('exports as a sorted tar with normalised modes, times and owners', async () => {
      await makeDir(join(project, 'src'), 'forward');
      const got = await fetchFile(project, 'src', cache);
      expect(got.kind).toBe('dir');
      const entries = await readTar(await readFile(got.path));
      expect(entries.map((e) => [e.path, e.type, e.mode.toString(8)])).toEqual([
        ['a-b', 'File', '644'],
        ['a/', 'Directory', '755'],
        ['a/run.sh', 'File', '755'],
        ['a/z', 'File', '644'],
        ['b.txt', 'File', '644'],
        ['empty/', 'Directory', '755'],
        ['to-z', 'SymbolicLink', '777'],
      ]);
      expect(entries.every((e) => e.mtime === 0 && e.uid === 0)).toBe(true);
    });

    it('gives the same bytes whatever the creation order and mtimes', async () => {
      await makeDir(join(project, 'one'), 'forward');
      await makeDir(join(project, 'two'), 'backward');
      await utimes(join(project, 'two', 'b.txt'), new Date(123_000), new Date(456_000));
      const one = await fetchFile(project, 'one', cache);
      const two = await fetchFile(project, 'two', cache);
      expect(two.integrity).toBe(one.integrity);
    });

    it('a trailing slash names the same directory', async () => {
      await makeDir(join(project, 'src'), 'forward');
      expect((await fetchFile(project, 'src/', cache)).integrity).toBe((await fetchFile(project, 'src', cache)).integrity);
    });

    const badLinks: [string, string][] = [
      ['absolute', '/etc/passwd'],
      ['climbing out', '../../secret'],
      ['climbing out then back', '../../src/b.txt'],
    ];
    it.each(badLinks)('refuses a symlink inside it that is %s', async (_what, target) => {
      await makeDir(join(project, 'src'), 'forward');
      await symlink(target, join(project, 'src', 'a', 'bad'));
      await expect(fetchFile(project, 'src', cache)).rejects.toMatchObject({ code: 'REPO_FILE_ESCAPES' });
    });

    it('keeps a symlink that climbs within it', async () => {
      await makeDir(join(project, 'src'), 'forward');
      await symlink('../b.txt', join(project, 'src', 'a', 'up'));
      const entries = await readTar(await readFile((await fetchFile(project, 'src', cache)).path));
      expect(entries.find((e) => e.path === 'a/up')).toMatchObject({ type: 'SymbolicLink', linkpath: '../b.txt' });
    });

    it('refuses a fifo inside it', async () => {
      await makeDir(join(project, 'src'), 'forward');
      execFileSync('mkfifo', [join(project, 'src', 'a', 'pipe')]);
      await expect(fetchFile(project, 'src', cache)).rejects.toMatchObject({ code: 'FILE_SOURCE_UNSUPPORTED' });
    });
  });
});
