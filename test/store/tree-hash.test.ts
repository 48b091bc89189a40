import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntactError } from '../../src/errors.js';
import { treeHash } from '../../src/store/tree-hash.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'intact-tree-hash-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A small tree: a file, an executable, a symlink, a nested and an empty folder. */
async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'share', 'doc'), { recursive: true });
  await mkdir(join(root, 'empty'));
  await writeFile(join(root, 'bin', 'tool'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  await writeFile(join(root, 'share', 'doc', 'README'), 'read me\n', { mode: 0o644 });
  await symlink('../share/doc/README', join(root, 'bin', 'readme'));
}

async function twoTrees(): Promise<[string, string]> {
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  await makeTree(a);
  await makeTree(b);
  return [a, b];
}

describe('treeHash', () => {
  it('is an sha256 SRI string and stable', async () => {
    const [a] = await twoTrees();
    const h = await treeHash(a);
    expect(h).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
    expect(await treeHash(a)).toBe(h);
  });

  it('matches the documented format byte for byte', async () => {
    const root = join(dir, 'doc');
    await mkdir(join(root, 'd'), { recursive: true });
    await writeFile(join(root, 'd', 'f'), 'x');
    await symlink('d/f', join(root, 'l'));
    const u32 = (n: number): Buffer => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
    const expected = createHash('sha256')
      .update('intact-tree-1\n')
      .update(Buffer.concat([Buffer.from('d'), u32(1), Buffer.from('d')]))
      .update(Buffer.concat([Buffer.from('f'), u32(3), Buffer.from('d/f'), sha('x')]))
      .update(Buffer.concat([Buffer.from('l'), u32(1), Buffer.from('l'), u32(3), Buffer.from('d/f')]))
      .digest('base64');
    expect(await treeHash(root)).toBe(`sha256-${expected}`);
  });

  it('same content with different mtimes, modes other than exec, and creation order → same hash', async () => {
    const [a, b] = await twoTrees();
    await utimes(join(b, 'share', 'doc', 'README'), new Date(1_000_000), new Date(2_000_000));
    await utimes(join(b, 'share'), new Date(5), new Date(5));
    await chmod(join(b, 'share', 'doc', 'README'), 0o600);
    await chmod(join(b, 'bin', 'tool'), 0o700);
    expect(await treeHash(b)).toBe(await treeHash(a));
  });

  const changes: [string, (root: string) => Promise<void>][] = [
    ['the exec bit changes', (r) => chmod(join(r, 'share', 'doc', 'README'), 0o755)],
    [
      'a symlink target changes',
      async (r) => {
        await rm(join(r, 'bin', 'readme'));
        await symlink('../share/doc/README ', join(r, 'bin', 'readme'));
      },
    ],
    ['a file is renamed', (r) => rename(join(r, 'share', 'doc', 'README'), join(r, 'share', 'doc', 'README.txt'))],
    ['an empty folder is added', (r) => mkdir(join(r, 'another-empty'))],
    ['an empty folder is removed', (r) => rm(join(r, 'empty'), { recursive: true })],
    ['content changes by one byte', (r) => writeFile(join(r, 'share', 'doc', 'README'), 'read me?')],
    [
      'a file becomes a symlink to the same bytes',
      async (r) => {
        await writeFile(join(r, 'copy'), 'read me\n');
        await rm(join(r, 'copy'));
        await symlink('share/doc/README', join(r, 'copy'));
      },
    ],
  ];
  it.each(changes)('changes when %s', async (_what, change) => {
    const [a, b] = await twoTrees();
    await change(b);
    expect(await treeHash(b)).not.toBe(await treeHash(a));
  });

  it('is not fooled by moving bytes between a name and its content (length prefixes)', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await mkdir(a);
    await mkdir(b);
    await symlink('bc', join(a, 'a'));
    await symlink('c', join(b, 'ab'));
    expect(await treeHash(a)).not.toBe(await treeHash(b));
  });

  it('sorts by the bytes of the path, not the walk order', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    for (const [root, order] of [
      [a, ['x-y', 'x/z', 'x.y']],
      [b, ['x.y', 'x/z', 'x-y']],
    ] as const) {
      await mkdir(join(root, 'x'), { recursive: true });
      for (const n of order) await writeFile(join(root, n), n);
    }
    expect(await treeHash(a)).toBe(await treeHash(b));
  });

  it('hashes an empty folder, and tells it apart from a folder with an empty folder', async () => {
    await mkdir(join(dir, 'e1'));
    await mkdir(join(dir, 'e2', 'sub'), { recursive: true });
    expect(await treeHash(join(dir, 'e1'))).toBe(`sha256-${createHash('sha256').update('intact-tree-1\n').digest('base64')}`);
    expect(await treeHash(join(dir, 'e2'))).not.toBe(await treeHash(join(dir, 'e1')));
  });

  it('reads large files in pieces and still hashes them whole', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const a = join(dir, 'a');
    await mkdir(a);
    await writeFile(join(a, 'big'), big);
    const b = join(dir, 'b');
    await mkdir(b);
    await writeFile(join(b, 'big'), Buffer.concat([big.subarray(0, -1), Buffer.of(8)]));
    expect(await treeHash(a)).not.toBe(await treeHash(b));
  });

  it('refuses fifos', async () => {
    const a = join(dir, 'a');
    await mkdir(a);
    execFileSync('mkfifo', [join(a, 'pipe')]);
    await expect(treeHash(a)).rejects.toMatchObject({ code: 'TREE_HASH_UNSUPPORTED' });
  });

  it('refuses a path that is not a folder', async () => {
    await writeFile(join(dir, 'f'), 'x');
    const err = await treeHash(join(dir, 'f')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntactError);
    expect(err).toMatchObject({ code: 'TREE_HASH_UNSUPPORTED' });
  });
});
