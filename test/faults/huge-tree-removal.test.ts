// Defect class: removing a temp tree held every entry in memory. An archive of
// 200,000 empty entries peaked at 531 MB RSS: fs.rm's recursive removal reads a
// whole folder and starts one removal per entry at once. removeTree (every temp
// tree's removal: extraction, unpacking, build folders, leftovers) now holds one
// folder open at a time. The bound on RSS growth is generous on purpose (the
// old way grew by hundreds of MB); nothing here measures time.
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeTree } from '../../src/store/remove-tree.js';

const ENTRIES = 100_000;
const MAX_GROWTH = 96 * 1024 ** 2;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A flat folder of `n` empty files, plus a read-only nested folder as store entries have. */
function hugeTree(n: number): string {
  const root = mkdtempSync(join(tmpdir(), 'intact-huge-'));
  dirs.push(root);
  const flat = join(root, 'tree', 'flat');
  mkdirSync(flat, { recursive: true });
  for (let i = 0; i < n; i++) closeSync(openSync(join(flat, `f${i}`), 'w'));
  const ro = join(root, 'tree', 'a', 'b');
  mkdirSync(ro, { recursive: true });
  closeSync(openSync(join(ro, 'x'), 'w'));
  chmodSync(ro, 0o555);
  chmodSync(join(root, 'tree', 'a'), 0o555);
  return join(root, 'tree');
}

describe('removing a tree of many entries', () => {
  it(`keeps RSS growth under ${MAX_GROWTH / 1024 ** 2} MB for ${ENTRIES} empty files, and removes everything`, async () => {
    const tree = hugeTree(ENTRIES);
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      await removeTree(tree);
    } finally {
      clearInterval(sample);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(existsSync(tree)).toBe(false);
    expect(peak - before).toBeLessThan(MAX_GROWTH);
  }, 120_000);
});
