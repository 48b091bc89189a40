// The deterministic tar writer behind git and directory exports (src/fetch/det-tar.ts).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DetTarWriter } from '../../src/fetch/det-tar.js';
import { readTar } from '../helpers/git-repo.js';

function build(fn: (w: DetTarWriter) => void): Buffer {
  const parts: Buffer[] = [];
  const w = new DetTarWriter({ write: (c) => parts.push(Buffer.from(c)) });
  fn(w);
  w.end();
  return Buffer.concat(parts);
}

const b = (s: string): Buffer => Buffer.from(s);

describe('DetTarWriter', () => {
  it('writes ustar blocks with fixed metadata, ending in two zero blocks', () => {
    const tar = build((w) => {
      w.file(b('a'), 3, false);
      w.data(b('abc'));
    });
    expect(tar.length).toBe(512 + 512 + 1024);
    expect(tar.subarray(257, 265).toString('latin1')).toBe('ustar\x0000');
    expect(tar.subarray(100, 108).toString('latin1')).toBe('0000644\0');
    expect(tar.subarray(136, 148).toString('latin1')).toBe('00000000000\0'); // mtime 0
    expect(tar.subarray(265, 297).every((x) => x === 0)).toBe(true); // no user name
    expect(tar.subarray(1024).every((x) => x === 0)).toBe(true);
  });

  it('is readable by GNU tar, with the same listing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'intact-det-tar-'));
    try {
      const tar = build((w) => {
        w.dir(b('d'));
        w.file(b('d/x'), 2, true);
        w.data(b('hi'));
        w.symlink(b('l'), b('d/x'));
      });
      await writeFile(join(dir, 't.tar'), tar);
      const listing = execFileSync('tar', ['-tvf', join(dir, 't.tar')], { env: { TZ: 'UTC', LC_ALL: 'C', PATH: process.env.PATH } }).toString();
      expect(listing).toMatch(/^drwxr-xr-x 0\/0\s+0 1970-01-01 00:00 d\/$/m);
      expect(listing).toMatch(/^-rwxr-xr-x 0\/0\s+2 1970-01-01 00:00 d\/x$/m);
      expect(listing).toMatch(/^lrwxrwxrwx 0\/0\s+0 1970-01-01 00:00 l -> d\/x$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('puts long names and link targets into pax records, and only those', async () => {
    const long = `${'dir/'.repeat(40)}file-with-a-long-name.txt`;
    const target = `${'../'.repeat(10)}${'t'.repeat(120)}`;
    const tar = build((w) => {
      w.file(b(long), 1, false);
      w.data(b('x'));
      w.symlink(b(`${long}.link`), b(target));
    });
    const entries = await readTar(tar);
    expect(entries.map((e) => [e.path, e.linkpath])).toEqual([
      [long, ''],
      [`${long}.link`, target],
    ]);
    const text = tar.toString('latin1');
    expect(text).toContain(` path=${long}\n`);
    expect(text).toContain(` linkpath=${target}\n`);
    expect(text).not.toMatch(/mtime=|atime=|ctime=|uid=|uname=|comment=/);
  });

  it('pads file data to whole blocks', async () => {
    const tar = build((w) => {
      w.file(b('a'), 513, false);
      w.data(Buffer.alloc(500, 1));
      w.data(Buffer.alloc(13, 2));
      w.file(b('b'), 0, false);
    });
    expect(tar.length).toBe(512 + 1024 + 512 + 1024);
    expect((await readTar(tar)).map((e) => [e.path, e.size])).toEqual([
      ['a', 513],
      ['b', 0],
    ]);
  });

  it('keeps names that are not UTF-8 byte for byte', () => {
    const name = Buffer.from([0x66, 0xff, 0x67]);
    const tar = build((w) => {
      w.file(name, 0, false);
    });
    expect(tar.subarray(0, 4)).toEqual(Buffer.concat([name, Buffer.of(0)]));
  });

  const outOfOrder: [string, (w: DetTarWriter) => void][] = [
    [
      'descending names',
      (w) => {
        w.file(b('b'), 0, false);
        w.file(b('a'), 0, false);
      },
    ],
    [
      'a duplicate',
      (w) => {
        w.file(b('a'), 0, false);
        w.file(b('a'), 0, false);
      },
    ],
    [
      'a child before its folder',
      (w) => {
        w.file(b('d/x'), 0, false);
        w.dir(b('d'));
      },
    ],
  ];
  it.each(outOfOrder)('refuses %s', (_what, fn) => {
    expect(() => build(fn)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  const unsafe = ['', '/abs', 'a/../b', '..', './a', 'a//b', 'a/', 'a\0b'];
  it.each(unsafe)('refuses the name %j', (name) => {
    expect(() => build((w) => w.file(b(name), 0, false))).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('notices a file that grows or shrinks while being written', () => {
    expect(() =>
      build((w) => {
        w.file(b('a'), 1, false);
        w.data(b('ab'));
      }),
    ).toThrow(expect.objectContaining({ code: 'IO' }));
    expect(() =>
      build((w) => {
        w.file(b('a'), 2, false);
        w.data(b('a'));
      }),
    ).toThrow(expect.objectContaining({ code: 'IO' }));
  });
});
