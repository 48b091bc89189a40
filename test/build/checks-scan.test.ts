// The streaming path search: a match is found wherever it falls relative to the
// read chunks (here a 16-byte buffer, so every position straddles somewhere), and
// the reported offset is the first match's.
import { describe, expect, it } from 'vitest';
import { findIn, patternsFor, scanFile, type ReadAt } from '../../src/build/checks/scan.js';

function reader(data: Buffer): ReadAt {
  return async (buf, off, len, pos) => {
    // Short reads too: at most 5 bytes at a time, to exercise the carry with odd sizes.
    const n = Math.max(0, Math.min(len, 5, data.length - pos));
    data.copy(buf, off, pos, pos + n);
    return n;
  };
}

describe('patternsFor', () => {
  it('drops duplicates and patterns that contain another', () => {
    const ps = patternsFor([
      { path: '/srv/a/tmp/build-1', what: 'the build folder' },
      { path: '/srv/a', what: 'the store' },
      { path: '/srv/a', what: 'the store' },
      { path: '/data/st', what: 'the store' },
      { path: '', what: 'nothing' },
    ]);
    expect(ps.map((p) => p.bytes.toString())).toEqual(['/srv/a', '/data/st']);
  });
});

describe('scanFile', () => {
  const patterns = patternsFor([{ path: '/store/x', what: 'the store' }]);

  it.each(Array.from({ length: 53 }, (_, i) => i))('finds a match at offset %i with a 16-byte buffer', async (at) => {
    const data = Buffer.alloc(61, 0x61);
    data.write('/store/x', at, 'latin1');
    const m = await scanFile(reader(data), Buffer.alloc(16), patterns);
    expect(m?.offset).toBe(at);
  });

  it('reports the first of two patterns by offset, not by pattern order', async () => {
    const ps = patternsFor([
      { path: '/aaaa', what: 'a' },
      { path: '/bbbb', what: 'b' },
    ]);
    const data = Buffer.from('............/bbbb.........../aaaa');
    const m = await scanFile(reader(data), Buffer.alloc(16), ps);
    expect(m).toMatchObject({ offset: 12, pattern: { what: 'b' } });
  });

  it('does not invent a match out of a prefix at a chunk end and a suffix in the next', async () => {
    const data = Buffer.from('xxxxxxxx/storeyyyy/x/store/');
    expect(await scanFile(reader(data), Buffer.alloc(16), patterns)).toBeUndefined();
  });

  it('gives the first chunk to onHead before reusing the buffer', async () => {
    const data = Buffer.from('\x7fELF and then more bytes than one chunk holds', 'latin1');
    let head = '';
    await scanFile(reader(data), Buffer.alloc(16), patterns, async (h) => {
      head = h.toString('latin1');
    });
    expect(head).toBe('\x7fELF ');
  });

  it('refuses a buffer shorter than the longest pattern', async () => {
    await expect(scanFile(reader(Buffer.alloc(4)), Buffer.alloc(7), patterns)).rejects.toThrow(RangeError);
  });

  it('findIn over bytes', () => {
    expect(findIn(Buffer.from('a/store/x'), patterns)?.offset).toBe(1);
    expect(findIn(Buffer.from('a/store/'), patterns)).toBeUndefined();
  });
});
