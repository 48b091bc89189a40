// Normalisation: times at SOURCE_DATE_EPOCH, write bits gone (exec kept), folders
// finished after their children; idempotent; never reaching through a symlink
// out of the tree. makeWritable undoes the modes so an entry can be removed.
import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWritable, normaliseOutput } from '../../src/build/checks/index.js';
import { treeHash } from '../../src/store/tree-hash.js';

let root: string;
let out: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'intact-normalise-'));
  out = join(root, 'out');
  await mkdir(join(out, 'bin'), { recursive: true });
  await mkdir(join(out, 'share/doc/deep'), { recursive: true });
  await writeFile(join(out, 'bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(join(out, 'bin/group-exec-only'), 'x', { mode: 0o654 });
  await writeFile(join(out, 'share/doc/README'), 'r', { mode: 0o664 });
  await writeFile(join(out, 'share/doc/deep/secret'), 's', { mode: 0o600 });
  await writeFile(join(out, 'share/unreadable'), 'u');
  await chmod(join(out, 'share/unreadable'), 0o200);
  await symlink('../share/doc/README', join(out, 'bin/readme'));
  await symlink(join(root, 'outside'), join(out, 'out-link'));
  await writeFile(join(root, 'outside'), 'o', { mode: 0o644 });
  await chmod(join(out, 'share/doc'), 0o700);
});
afterEach(async () => {
  await makeWritable(root);
  await rm(root, { recursive: true, force: true });
});

const EPOCH = 1_700_000_000;

/** Every entry below (and including) `dir`: relative path → [mode, mtime s, atime s, kind]. */
async function snapshot(dir: string): Promise<Record<string, [string, number, number, string]>> {
  const snap: Record<string, [string, number, number, string]> = {};
  const visit = async (rel: string): Promise<void> => {
    const st = await lstat(join(dir, rel));
    const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f';
    snap[rel || '.'] = [kind === 'l' ? '-' : (st.mode & 0o7777).toString(8), Math.floor(st.mtimeMs / 1000), Math.floor(st.atimeMs / 1000), kind];
    if (st.isDirectory()) for (const n of await readdir(join(dir, rel))) await visit(rel ? `${rel}/${n}` : n);
  };
  await visit('');
  return snap;
}

describe('normaliseOutput', () => {
  it('sets every time to the epoch and drops write bits, keeping exec', async () => {
    await normaliseOutput(out, EPOCH);
    const snap = await snapshot(out);
    const modes = Object.fromEntries(Object.entries(snap).map(([k, v]) => [k, v[0]]));
    expect(modes).toEqual({
      '.': '555',
      bin: '555',
      'bin/tool': '555',
      'bin/group-exec-only': '444',
      'bin/readme': '-',
      'out-link': '-',
      share: '555',
      'share/doc': '555',
      'share/doc/README': '444',
      'share/doc/deep': '555',
      'share/doc/deep/secret': '444',
      'share/unreadable': '444',
    });
    for (const [rel, [, mtime, atime]] of Object.entries(snap)) {
      expect([rel, mtime, atime]).toEqual([rel, EPOCH, EPOCH]);
    }
  });

  it('does not touch what a symlink points to outside the tree', async () => {
    await utimes(join(root, 'outside'), 1000, 1000);
    await normaliseOutput(out, EPOCH);
    const st = await stat(join(root, 'outside'));
    expect(st.mode & 0o777).toBe(0o644);
    expect(Math.floor(st.mtimeMs / 1000)).toBe(1000);
  });

  it('is idempotent and keeps the tree hash', async () => {
    // Only root can hash the write-only file before normalisation makes it readable.
    await chmod(join(out, 'share/unreadable'), 0o600);
    const before = await treeHash(out);
    await normaliseOutput(out, EPOCH);
    const once = await snapshot(out);
    await normaliseOutput(out, EPOCH);
    expect(await snapshot(out)).toEqual(once);
    expect(await treeHash(out)).toBe(before);
  });

  it('clears setuid and setgid bits', async () => {
    await chmod(join(out, 'bin/tool'), 0o6755);
    await normaliseOutput(out, EPOCH);
    expect((await lstat(join(out, 'bin/tool'))).mode & 0o7777).toBe(0o555);
  });

  it('refuses a bad epoch', async () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) {
      await expect(normaliseOutput(out, bad)).rejects.toMatchObject({ code: 'USAGE' });
    }
  });

  it('refuses a fifo (the checks should have stopped it)', async () => {
    execFileSync('mkfifo', [join(out, 'pipe')]);
    await expect(normaliseOutput(out, EPOCH)).rejects.toMatchObject({ code: 'OUTPUT_SPECIAL_FILE' });
  });
});

describe('makeWritable', () => {
  it('lets the owner change and remove a normalised tree', async () => {
    await normaliseOutput(out, EPOCH);
    await makeWritable(out);
    expect((await lstat(join(out, 'share/doc'))).mode & 0o700).toBe(0o700);
    expect((await lstat(join(out, 'share/doc/README'))).mode & 0o200).toBe(0o200);
    await rm(out, { recursive: true });
  });
});
