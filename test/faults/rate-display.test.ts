// Defect class: the download rate printed a raw quotient (`777.7777777777778 B/s`).
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/format-bytes.js';

describe('rate display', () => {
  it.each([
    [7000 / 9, '778 B'],
    [0.4, '0 B'],
    [1023.6, '1.0 KiB'],
    [1536, '1.5 KiB'],
  ])('formatBytes(%d) is %s', (n, want) => {
    expect(formatBytes(n)).toBe(want);
  });
});
