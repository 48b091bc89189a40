// Extraction, good paths: every format unpacks to the same tree, with modes
// normalised, and strip / path / archive do what docs/sources.md says.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extract } from '../../src/fetch/extract/index.js';
import { hashRecords, treeHash } from '../../src/store/tree-hash.js';
import { scanTree } from '../../src/store/tree-scan.js';
import { compressWith, hasTool, readTree, tar, tgz, workspace, zip, type TarEntry, type Workspace } from '../helpers/archives.js';

let ws: Workspace;
beforeEach(() => {
  ws = workspace();
});
afterEach(() => ws.cleanup());

/** The same small package in every format: a file, an executable, a symlink, a hardlink, an empty dir. */
const PKG: TarEntry[] = [
  { name: 'pkg/', type: 'dir' },
  { name: 'pkg/README', body: 'hello\n' },
  { name: 'pkg/bin/tool', body: '#!/bin/sh\necho hi\n', mode: 0o775 },
  { name: 'pkg/lib/link', type: 'symlink', target: '../README' },
  { name: 'pkg/lib/hard', type: 'hardlink', target: 'pkg/README' },
  { name: 'pkg/empty/', type: 'dir', mode: 0o700 },
];

const TREE = [
  { path: 'pkg', type: 'dir', mode: 0o755 },
  { path: 'pkg/README', type: 'file', mode: 0o644, content: 'hello\n' },
  { path: 'pkg/bin', type: 'dir', mode: 0o755 },
  { path: 'pkg/bin/tool', type: 'file', mode: 0o755, content: '#!/bin/sh\necho hi\n' },
  { path: 'pkg/empty', type: 'dir', mode: 0o755 },
  { path: 'pkg/lib', type: 'dir', mode: 0o755 },
  { path: 'pkg/lib/hard', type: 'file', mode: 0o644, content: 'hello\n' },
  { path: 'pkg/lib/link', type: 'symlink', target: '../README' },
];

describe('extract: a source with `unpack: false`', () => {
  it('places an archive as it is, at its path, without reading it', async () => {
    const bytes = tgz(PKG);
    const file = ws.input('download.bin', bytes);
    const r = await extract(file, ws.dest, { expect: 'file', path: 'vendor/pkg.tar.gz' });
    expect(readFileSync(join(ws.dest, 'vendor/pkg.tar.gz'))).toEqual(bytes);
    expect(r.files).toBe(1);
    expect(existsSync(join(ws.dest, 'pkg'))).toBe(false);
  });
});

describe('extract: formats', () => {
  const cases: Array<[string, () => Buffer, string | undefined]> = [
    ['tar', () => tar(PKG), undefined],
    ['tgz', () => tgz(PKG), undefined],
    ['txz', () => compressWith('xz', tar(PKG)), 'xz'],
    ['tbz2', () => compressWith('bzip2', tar(PKG)), 'bzip2'],
    ['tzst', () => compressWith('zstd', tar(PKG)), 'zstd'],
  ];
  for (const [name, make, tool] of cases) {
    it.skipIf(tool !== undefined && !hasTool(tool))(
      `unpacks ${name}${tool && !hasTool(tool) ? ` (skipped: no ${tool} CLI to make the fixture)` : ''}`,
      async () => {
        // A misleading file name on purpose: detection is by content.
        const file = ws.input('download.bin', make());
        const r = await extract(file, ws.dest);
        expect(readTree(ws.dest)).toEqual(TREE);
        expect(r).toEqual({ files: 4, bytes: 6 + 18 });
        expect(statSync(join(ws.dest, 'pkg/lib/hard')).ino).toBe(statSync(join(ws.dest, 'pkg/README')).ino);
        expect(statSync(ws.dest).mode & 0o777).toBe(0o755);
        expect(ws.leftovers()).toEqual(['dest']);
      },
    );
  }

  it.each([
    ['stored', false],
    ['deflated', true],
  ])('unpacks a %s zip with Unix modes and a symlink', async (_n, deflate) => {
    const file = ws.input(
      'a.zip',
      zip([
        { name: 'pkg/', kind: 'dir' },
        { name: 'pkg/README', body: 'hello\n', deflate },
        { name: 'pkg/bin/tool', body: '#!/bin/sh\necho hi\n', mode: 0o775, deflate },
        { name: 'pkg/lib/link', kind: 'symlink', body: '../README' },
        { name: 'pkg/empty/', kind: 'dir', mode: 0o700 },
        { name: 'pkg/lib/hard', body: 'hello\n', dos: true },
      ]),
    );
    await extract(file, ws.dest);
    expect(readTree(ws.dest)).toEqual(TREE);
  });

  it.each([
    ['deflated', true],
    ['stored', false],
  ])('streams a large %s zip entry (past the in-memory fast path) intact', async (_n, deflate) => {
    const big = randomBytes(6 * 1024 * 1024);
    const file = ws.input(
      'big.zip',
      zip([
        { name: 'big.bin', body: big, deflate },
        { name: 'small', body: 'x' },
      ]),
    );
    await extract(file, ws.dest);
    expect(readFileSync(join(ws.dest, 'big.bin')).equals(big)).toBe(true);
  });

  it('streams a large file through several chunks intact', async () => {
    const big = randomBytes(5 * 1024 * 1024 + 123);
    const file = ws.input('big.tgz', tgz([{ name: 'big.bin', body: big }]));
    const r = await extract(file, ws.dest);
    expect(r.bytes).toBe(big.length);
    const got = readFileSync(join(ws.dest, 'big.bin'));
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
  });

  it('reads pax long names and long link targets', async () => {
    const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}.txt`;
    const file = ws.input(
      'long.tar',
      tar([
        { name: long, body: 'x' },
        { name: 'l', type: 'symlink', target: `./${long}` },
      ]),
    );
    await extract(file, ws.dest);
    expect(readFileSync(join(ws.dest, long), 'utf8')).toBe('x');
  });

  it('accepts a directory listed twice and after its contents', async () => {
    const file = ws.input(
      'd.tar',
      tar([
        { name: 'a/b/c', body: '1' },
        { name: 'a/', type: 'dir' },
        { name: 'a/', type: 'dir' },
      ]),
    );
    await expect(extract(file, ws.dest)).resolves.toEqual({ files: 1, bytes: 1 });
  });
});

describe('extract: modes', () => {
  it('drops setuid, setgid and sticky bits: files end 0644/0755, dirs 0755', async () => {
    const file = ws.input(
      'm.tar',
      tar([
        { name: 'suid', body: 'x', mode: 0o4755 },
        { name: 'sgid', body: 'x', mode: 0o2644 },
        { name: 'weird', body: 'x', mode: 0o100 },
        { name: 'ro', body: 'x', mode: 0o400 },
        { name: 'sticky/', type: 'dir', mode: 0o1777 },
      ]),
    );
    await extract(file, ws.dest);
    const modes = Object.fromEntries(readTree(ws.dest).map((i) => [i.path, 'mode' in i ? i.mode : undefined]));
    expect(modes).toEqual({ suid: 0o755, sgid: 0o644, weird: 0o755, ro: 0o644, sticky: 0o755 });
  });
});

describe('extract: umask', () => {
  it('sets exact modes even under a restrictive umask', async () => {
    const old = process.umask(0o077);
    try {
      const file = ws.input('u.tgz', tgz(PKG));
      await extract(file, ws.dest);
    } finally {
      process.umask(old);
    }
    expect(readTree(ws.dest)).toEqual(TREE);
    expect(statSync(ws.dest).mode & 0o777).toBe(0o755);
  });
});

describe('extract: strip and path', () => {
  it('strip drops leading components; entries that vanish are skipped', async () => {
    const file = ws.input('s.tgz', tgz(PKG));
    await extract(file, ws.dest, { strip: 1 });
    expect(readTree(ws.dest).map((i) => i.path)).toEqual(['README', 'bin', 'bin/tool', 'empty', 'lib', 'lib/hard', 'lib/link']);
  });

  it('strip counts a leading "./" as a component, like GNU tar', async () => {
    const file = ws.input(
      'dot.tar',
      tar([
        { name: './', type: 'dir' },
        { name: './pkg/a', body: '1' },
      ]),
    );
    await extract(file, ws.dest, { strip: 1 });
    expect(readTree(ws.dest).map((i) => i.path)).toEqual(['pkg', 'pkg/a']);
  });

  it('path puts the content under dest/<path>', async () => {
    const file = ws.input('p.tgz', tgz(PKG));
    await extract(file, ws.dest, { strip: 1, path: 'third_party/pkg' });
    expect(readFileSync(join(ws.dest, 'third_party/pkg/README'), 'utf8')).toBe('hello\n');
    expect(statSync(join(ws.dest, 'third_party')).mode & 0o777).toBe(0o755);
  });

  it.each(['../x', '/abs', 'a/../../b', ''])('refuses the path option %j', async (path) => {
    const file = ws.input('p.tgz', tgz(PKG));
    await expect(extract(file, ws.dest, { path })).rejects.toMatchObject({ code: 'EXTRACT_OPTIONS' });
    expect(existsSync(ws.dest)).toBe(false);
  });
});

describe('extract: single files', () => {
  it('places a non-archive as one file named after the URL, 0644', async () => {
    const file = ws.input('sha512-abc', 'just text\n');
    const r = await extract(file, ws.dest, { name: 'https://example.invalid/dl/notes.txt?x=1' });
    expect(r).toEqual({ files: 1, bytes: 10 });
    expect(readTree(ws.dest)).toEqual([{ path: 'notes.txt', type: 'file', mode: 0o644, content: 'just text\n' }]);
  });

  it('makes a program 0755 and honours path as its name', async () => {
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), randomBytes(100)]);
    const file = ws.input('blob', elf);
    await extract(file, ws.dest, { path: 'bin/tool' });
    expect(statSync(join(ws.dest, 'bin/tool')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(ws.dest, 'bin/tool'))).toEqual(elf);
  });

  it('falls back to the file name without a usable name', async () => {
    const file = ws.input('plain.dat', 'x');
    await extract(file, ws.dest);
    expect(readTree(ws.dest).map((i) => i.path)).toEqual(['plain.dat']);
  });
});

describe('extract: nested archive', () => {
  const inner = tgz([
    { name: 'sqlite-autoconf/', type: 'dir' },
    { name: 'sqlite-autoconf/sqlite3.c', body: 'int main;' },
  ]);
  const sri = `sha512-${createHash('sha512').update(inner).digest('base64')}`;
  const outer = (): Buffer =>
    tgz([
      { name: 'package/package.json', body: '{}' },
      { name: 'package/deps/sqlite-autoconf.tar.gz', body: inner },
      { name: 'package/lib/x.js', body: '' },
    ]);

  it('unpacks the named inner archive, matched without its top folder; strip applies to it', async () => {
    const file = ws.input('sqlite3.tgz', outer());
    await extract(file, ws.dest, { archive: 'deps/sqlite-autoconf.tar.gz', archiveIntegrity: sri, strip: 1, name: 'sqlite3@5.1.7' });
    expect(readTree(ws.dest)).toEqual([{ path: 'sqlite3.c', type: 'file', mode: 0o644, content: 'int main;' }]);
    expect(ws.leftovers()).toEqual(['dest']);
  });

  it('matches a full path too', async () => {
    const file = ws.input('sqlite3.tgz', outer());
    await extract(file, ws.dest, { archive: 'package/deps/sqlite-autoconf.tar.gz' });
    expect(existsSync(join(ws.dest, 'sqlite-autoconf/sqlite3.c'))).toBe(true);
  });

  it('finds an inner archive in a zip', async () => {
    const file = ws.input('o.zip', zip([{ name: 'top/deps/in.tgz', body: inner, deflate: true }]));
    await extract(file, ws.dest, { archive: 'deps/in.tgz', archiveIntegrity: sri });
    expect(existsSync(join(ws.dest, 'sqlite-autoconf/sqlite3.c'))).toBe(true);
  });
});

describe('extract: tree-hash records', () => {
  // What the writer hashed while writing must be what reading the tree back gives,
  // or a substituted entry would be admitted under a hash its files do not have.
  it.each([
    ['tgz', () => tgz(PKG), {}],
    ['zip', () => zip(PKG), {}],
    ['tgz under path and strip', () => tgz(PKG), { strip: 1, path: 'opt/pkg' }],
  ])('%s: equal the records of the unpacked tree, hardlinks, links and empty folders included', async (_name, make, opts) => {
    const file = ws.input('download.bin', make());
    const r = await extract(file, ws.dest, { ...opts, records: true });
    expect(r.records).toBeDefined();
    const written = [...r.records!].sort((a, b) => Buffer.compare(a.rel, b.rel));
    const { records: read } = await scanTree(ws.dest);
    expect(written.map(show)).toEqual(read.map(show));
    expect(hashRecords(written)).toBe(await treeHash(ws.dest));
  });

  it('are not made unless asked for', async () => {
    const r = await extract(ws.input('download.bin', tgz(PKG)), ws.dest);
    expect(r.records).toBeUndefined();
  });
});

function show(r: { kind: string; rel: Buffer; payload?: Buffer }): string {
  return `${r.kind} ${r.rel.toString()} ${r.payload?.toString('hex') ?? ''}`;
}

describe('extract: from a stream', () => {
  it('reads a tar archive from the given input (the file only tells the format)', async () => {
    const bytes = tgz(PKG);
    // The file holds only the head: everything else must come from the stream.
    const file = ws.input('part.bin', bytes.subarray(0, 512));
    await extract(file, ws.dest, { input: () => Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]) });
    expect(readTree(ws.dest)).toEqual(TREE);
  });

  it('refuses a zip, which needs the whole file, and leaves nothing', async () => {
    const bytes = zip(PKG);
    const file = ws.input('part.bin', bytes);
    await expect(extract(file, ws.dest, { input: () => Readable.from([bytes]) })).rejects.toMatchObject({ code: 'EXTRACT_OPTIONS' });
    expect(ws.leftovers()).toEqual([]);
  });
});
