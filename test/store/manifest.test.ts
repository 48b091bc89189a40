// The file manifest (meta/<key>.files) round-trips exactly, refuses anything
// malformed, and is trusted only when its records hash to the recorded output;
// the tree diff names each change, one line per removed or added folder.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest, readManifest, renderManifest, writeManifest } from '../../src/store/manifest.js';
import { layoutOf } from '../../src/store/paths.js';
import { diffRecords } from '../../src/store/tree-diff.js';
import { hashRecords, treeHash } from '../../src/store/tree-hash.js';
import { scanTree, type TreeRecord } from '../../src/store/tree-scan.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'intact-manifest-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tree(root: string): Promise<void> {
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'share/doc'), { recursive: true });
  await writeFile(join(root, 'bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(join(root, 'share/doc/README'), 'read me\n');
  await writeFile(join(root, 'share/doc/NOTES'), 'notes\n');
  await symlink('../share/doc/README', join(root, 'bin/readme'));
}

describe('manifest', () => {
  it('renders one record per line and parses back to the same records and hash', async () => {
    await tree(dir);
    const { records } = await scanTree(dir);
    const output = await treeHash(dir);
    const text = renderManifest({ output, records });
    expect(text.split('\n')[0]).toBe(JSON.stringify({ format: 'intact-manifest-1', output, records: records.length }));
    expect(text).toContain('["l","bin/readme","../share/doc/README"]');
    expect(text).toMatch(/\["x","bin\/tool","[0-9a-f]{64}"\]/);
    const back = parseManifest(text);
    expect(hashRecords(back.records)).toBe(output);
    expect(renderManifest(back)).toBe(text);
  });

  it('keeps names that are not UTF-8, byte for byte', () => {
    const raw = Buffer.from([0x61, 0xff, 0x62]);
    const records: TreeRecord[] = [{ kind: 'l', rel: raw, payload: Buffer.from([0xfe]) }];
    const text = renderManifest({ output: hashRecords(records), records });
    expect(text).toContain('{"hex":"61ff62"}');
    expect(parseManifest(text).records[0]!.rel.equals(raw)).toBe(true);
  });

  it.each([
    ['a wrong format line', (t: string) => t.replace('intact-manifest-1', 'intact-manifest-9')],
    [
      'a missing record',
      (t: string) =>
        t
          .split('\n')
          .filter((_, i) => i !== 2)
          .join('\n'),
    ],
    [
      'records out of order',
      (t: string) => {
        const l = t.trimEnd().split('\n');
        [l[1], l[2]] = [l[2]!, l[1]!];
        return `${l.join('\n')}\n`;
      },
    ],
    ['a short sha256', (t: string) => t.replace(/"[0-9a-f]{64}"/, '"abc"')],
  ])('refuses %s', async (_what, edit) => {
    await tree(dir);
    const { records } = await scanTree(dir);
    expect(() => parseManifest(edit(renderManifest({ output: hashRecords(records), records })))).toThrow(/malformed/);
  });

  it('is trusted only when its records hash to the recorded output', async () => {
    await tree(join(dir, 't'));
    const store = layoutOf(join(dir, 'store'));
    const { records } = await scanTree(join(dir, 't'));
    const output = hashRecords(records);
    await writeManifest(store, 'k', { output, records });
    expect((await readManifest(store, 'k', output)).status).toBe('ok');
    expect(await readManifest(store, 'other', output)).toEqual({ status: 'missing' });
    // An edited manifest that hides an edited file: its records no longer hash to the output.
    const forged = records.map((r) => (r.rel.toString() === 'share/doc/README' ? { ...r, payload: Buffer.alloc(32, 1) } : r));
    await writeManifest(store, 'k', { output, records: forged });
    const read = await readManifest(store, 'k', output);
    expect(read.status).toBe('invalid');
    expect(read.status === 'invalid' && read.why).toMatch(/hash to/);
  });
});

describe('diffRecords', () => {
  const f = (rel: string, c = 'x'): TreeRecord => ({ kind: 'f', rel: Buffer.from(rel), payload: Buffer.alloc(32, c) });
  const d = (rel: string): TreeRecord => ({ kind: 'd', rel: Buffer.from(rel) });
  const l = (rel: string, to: string): TreeRecord => ({ kind: 'l', rel: Buffer.from(rel), payload: Buffer.from(to) });
  const sort = (rs: TreeRecord[]): TreeRecord[] => [...rs].sort((a, b) => Buffer.compare(a.rel, b.rel));

  it('names modified, added, removed and symlinked paths', () => {
    const before = sort([d('bin'), f('bin/a'), f('bin/b'), f('bin/c'), l('bin/l', 'a')]);
    const after = sort([d('bin'), f('bin/a', 'y'), l('bin/b', '/etc/passwd'), f('bin/new'), l('bin/l', 'c')]);
    const changes = diffRecords(before, after).map((c) => [c.change, c.path]);
    expect(changes).toEqual([
      ['modified', 'bin/a'],
      ['symlinked', 'bin/b'],
      ['missing', 'bin/c'],
      ['modified', 'bin/l'],
      ['added', 'bin/new'],
    ]);
  });

  it('reports a removed folder once, counting what was inside (even when siblings sort between)', () => {
    const before = sort([d('a'), f('a-b'), f('a/x'), d('a/y'), f('a/y/z')]);
    const after = sort([f('a-b')]);
    const changes = diffRecords(before, after);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ change: 'missing', path: 'a', inside: 3 });
    expect(changes[0]!.detail).toContain('3 entries inside');
  });

  it('reports a folder replaced by a symlink once', () => {
    const changes = diffRecords(sort([d('lib'), f('lib/x')]), sort([l('lib', '/usr/lib')]));
    expect(changes).toEqual([expect.objectContaining({ change: 'symlinked', path: 'lib', inside: 1 })]);
  });

  it('tells an executable bit change from a content change', () => {
    const changes = diffRecords([f('t')], [{ ...f('t'), kind: 'x' }]);
    expect(changes[0]).toMatchObject({ change: 'modified', detail: 'its executable bit was set' });
  });

  it('finds nothing in equal lists', () => {
    expect(diffRecords([d('a'), f('a/b')], [d('a'), f('a/b')])).toEqual([]);
  });
});
