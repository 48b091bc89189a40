// VerifiedPart: a part is readable exactly as far as its signed chunks verified,
// while it is still arriving; a bad chunk stops the download and every reader
// before any of its bytes can be read; a download that starts over never
// rewrites what was already verified.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkHasher } from '../../src/cache/archive.js';
import { VerifiedPart, type PartChunks } from '../../src/cache/verified-part.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function partFor(data: Buffer, chunk: number): Promise<VerifiedPart> {
  const d = await mkdtemp(join(tmpdir(), 'intact-vpart-'));
  dirs.push(d);
  return new VerifiedPart(join(d, 'part'), data.length, chunksOf(data, chunk), 'test part');
}

function chunksOf(data: Buffer, size: number): PartChunks {
  const h = new ChunkHasher(size);
  h.update(data);
  return { size, digests: h.end().map((x) => Buffer.from(x, 'hex')) };
}

/** Everything a reader yields, as it yields it. */
function collect(r: Readable): { got: Buffer[]; done: Promise<Buffer> } {
  const got: Buffer[] = [];
  r.on('data', (c: Buffer) => got.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    r.on('end', () => resolve(Buffer.concat(got)));
    r.on('error', reject);
  });
  return { got, done };
}

const tick = () => new Promise((r) => setTimeout(r, 20));
const bytesOf = (got: Buffer[]) => got.reduce((n, c) => n + c.length, 0);

describe('VerifiedPart', () => {
  it('lets a reader have each chunk as soon as it verifies, and ends at the size', async () => {
    const data = randomBytes(10_000);
    const part = await partFor(data, 4096);
    const { got, done } = collect(part.reader());
    part.write(data.subarray(0, 4000));
    await tick();
    expect(bytesOf(got)).toBe(0);
    part.write(data.subarray(4000, 9000));
    await tick();
    expect(bytesOf(got)).toBe(8192);
    part.write(data.subarray(9000));
    expect((await done).equals(data)).toBe(true);
    part.close();
  });

  it('hashes writes that straddle chunk ends, in any split', async () => {
    const data = randomBytes(5000);
    const part = await partFor(data, 1000);
    const { done } = collect(part.reader());
    for (let at = 0; at < data.length; ) {
      const n = 1 + Math.floor(Math.random() * 2500);
      part.write(data.subarray(at, at + n));
      at += n;
    }
    expect((await done).equals(data)).toBe(true);
    part.close();
  });

  it('refuses a chunk that does not match its digest; the reader never sees it', async () => {
    const data = randomBytes(3000);
    const part = await partFor(data, 1000);
    const { got, done } = collect(part.reader());
    const bad = Buffer.from(data);
    bad[1500] = bad[1500]! ^ 1;
    part.write(bad.subarray(0, 1200));
    expect(() => part.write(bad.subarray(1200, 2200))).toThrow(/bytes 1000-1999/);
    await expect(done).rejects.toMatchObject({ code: 'CACHE_DIGEST_MISMATCH' });
    expect(Buffer.concat(got).equals(data.subarray(0, 1000))).toBe(true);
    // Stopped for good: no later write is taken.
    expect(() => part.write(data.subarray(2000))).toThrow(/do not match/);
    part.close();
  });

  it('refuses more bytes than the signed size', async () => {
    const data = randomBytes(100);
    const part = await partFor(data, 64 * 1024);
    expect(() => part.write(Buffer.concat([data, Buffer.from('x')]))).toThrow(/longer than its signed size/);
    part.close();
  });

  it('verifies a part without chunk digests as one chunk, readable when whole', async () => {
    const data = randomBytes(5000);
    const d = await mkdtemp(join(tmpdir(), 'intact-vpart-'));
    dirs.push(d);
    const part = new VerifiedPart(join(d, 'part'), data.length, { size: data.length, digests: [createHash('sha256').update(data).digest()] }, 'old part');
    const { got, done } = collect(part.reader());
    part.write(data.subarray(0, 4999));
    await tick();
    expect(bytesOf(got)).toBe(0);
    part.write(data.subarray(4999));
    expect((await done).equals(data)).toBe(true);
    part.close();
  });

  it('on a restart, replays verified bytes without rewriting them, and refuses them changed', async () => {
    const data = randomBytes(3000);
    const part = await partFor(data, 1000);
    part.write(data.subarray(0, 1500));
    part.reset();
    expect(part.bytes).toBe(0);
    // The same bytes again: fine, and the file ends up whole.
    part.write(data);
    expect((await readFile(part.path)).equals(data)).toBe(true);
    part.close();

    const other = await partFor(data, 1000);
    other.write(data.subarray(0, 1500));
    other.reset();
    const changed = Buffer.from(data);
    changed[10] = changed[10]! ^ 1;
    expect(() => other.write(changed.subarray(0, 1000))).toThrow(/bytes 0-999/);
    // What was verified before is still what is on disk.
    expect((await readFile(other.path)).subarray(0, 1000).equals(data.subarray(0, 1000))).toBe(true);
    other.close();
  });

  it('stops a waiting reader when the download fails', async () => {
    const data = randomBytes(3000);
    const part = await partFor(data, 1000);
    const { done } = collect(part.reader());
    part.write(data.subarray(0, 1000));
    part.fail(new Error('connection lost'));
    await expect(done).rejects.toThrow('connection lost');
    part.close();
  });

  it('refuses digests that do not cover the part', async () => {
    const d = await mkdtemp(join(tmpdir(), 'intact-vpart-'));
    dirs.push(d);
    expect(() => new VerifiedPart(join(d, 'p'), 3000, { size: 1000, digests: [Buffer.alloc(32)] }, 'p')).toThrow(/do not cover 3000 bytes/);
  });
});
