// Property-based: the extractor (tar, zip and .deb) against generated hostile
// archives, built from names and link targets that have broken extractors
// before (`..`, absolute paths, backslashes, links through links, hard links
// to outside, duplicates), and against random damage to a valid archive.
// Invariants: nothing is written outside the destination (a sentinel folder
// beside it stays empty, and the workspace holds nothing new), every failure is
// an IntactError and never INTERNAL, and RSS stays bounded.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isIntactError } from '../../src/errors.js';
import { extract } from '../../src/fetch/extract/index.js';
import { gzipSync } from 'node:zlib';
import { tar, tgz, workspace, zip, type TarEntry, type Workspace, type ZipEntry } from '../helpers/archives.js';
import { arMember, makeDeb } from '../helpers/deb-archive.js';
import { FUZZ_RUNS, RSS_BUDGET } from './fuzz-runs.js';

let ws: Workspace;
let sentinel: string;
beforeEach(() => {
  ws = workspace();
  sentinel = join(ws.dir, 'sentinel');
  // Hostile absolute names and link targets aim here: a write through them lands in it.
  mkdirSync(sentinel);
});
afterEach(() => ws.cleanup());

const segment = () => fc.constantFrom('a', 'b', 'c', '..', '.', '', 'a\\..', '..\\..', 'd'.repeat(120), 'e f', 'x\u0000y', 'ü');
const relPath = () => fc.array(segment(), { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
const hostilePath = () =>
  fc.oneof(
    relPath(),
    relPath().map((p) => `/${p}`),
    fc.constant('SENTINEL/pwn'),
    fc.constant('../sentinel/pwn'),
  );
const target = () =>
  fc.oneof(relPath(), fc.constant('SENTINEL'), fc.constant('../../sentinel'), fc.constant('/etc/passwd'), fc.constant('..'), fc.constant('.'));
const abs = (s: string): string => s.replace('SENTINEL', sentinel);

const tarEntry = (): fc.Arbitrary<TarEntry> =>
  fc
    .record({
      name: hostilePath(),
      type: fc.constantFrom('file', 'dir', 'symlink', 'hardlink', 'fifo') as fc.Arbitrary<TarEntry['type']>,
      body: fc.string({ maxLength: 40 }),
      target: target(),
      mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o777, 0),
    })
    .map((e) => ({ ...e, name: abs(e.name), target: abs(e.target), ...(e.type === 'file' ? {} : { body: '' }) }));

const zipEntry = (): fc.Arbitrary<ZipEntry> =>
  fc
    .record({
      name: hostilePath(),
      kind: fc.constantFrom('file', 'dir', 'symlink') as fc.Arbitrary<ZipEntry['kind']>,
      body: fc.oneof(fc.string({ maxLength: 40 }), target()),
      mode: fc.constantFrom(0o644, 0o755, 0o4755),
      deflate: fc.boolean(),
    })
    .map((e) => ({ ...e, name: abs(e.name), body: abs(e.body) }));

/** Run one extraction and check the invariants. */
async function attempt(bytes: Buffer, name: string, opts: { strip?: number; expect?: 'deb' } = {}): Promise<void> {
  const file = ws.input(name, bytes);
  try {
    await extract(file, ws.dest, opts);
  } catch (e) {
    if (!isIntactError(e)) throw new Error(`not an IntactError: ${(e as Error)?.stack ?? String(e)}`);
    expect(e.code).not.toBe('INTERNAL');
    expect(ws.leftovers()).toEqual([]);
  }
  expect(readdirSync(sentinel)).toEqual([]);
  expect(readdirSync(ws.dir).sort()).toEqual(['in', 'out', 'sentinel']);
  expect(ws.leftovers().every((n) => n === 'dest')).toBe(true);
  rmSync(ws.dest, { recursive: true, force: true });
}

function bounded(): () => void {
  const before = process.memoryUsage().rss;
  return () => expect(process.memoryUsage().rss - before).toBeLessThan(RSS_BUDGET);
}

describe('extractor properties', () => {
  it('tar: hostile entries never write outside, fail only with IntactErrors', async () => {
    const done = bounded();
    await fc.assert(
      fc.asyncProperty(fc.array(tarEntry(), { minLength: 1, maxLength: 6 }), fc.boolean(), fc.nat(2), async (entries, gz, strip) => {
        await attempt(gz ? tgz(entries) : tar(entries), gz ? 'a.tgz' : 'a.tar', { strip });
      }),
      { numRuns: FUZZ_RUNS },
    );
    done();
  });

  it('zip: hostile entries never write outside, fail only with IntactErrors', async () => {
    const done = bounded();
    await fc.assert(
      fc.asyncProperty(fc.array(zipEntry(), { minLength: 1, maxLength: 6 }), async (entries) => {
        await attempt(zip(entries), 'a.zip');
      }),
      { numRuns: FUZZ_RUNS },
    );
    done();
  });

  it('deb: hostile data.tar entries and hostile ar members never write outside, fail only with IntactErrors', async () => {
    const done = bounded();
    const member = fc.record({
      name: fc.constantFrom('debian-binary', 'control.tar.gz', 'data.tar.gz', 'data.tar', 'data.tar.xz', '../x', '/abs', 'a/b', '', 'data.tar.gz/'),
      size: fc.option(fc.nat(1 << 20)),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(tarEntry(), { minLength: 1, maxLength: 6 }),
        fc.array(member, { maxLength: 4 }),
        fc.boolean(),
        async (entries, extra, wellFormed) => {
          const data = gzipSync(tar(entries));
          const members = wellFormed
            ? [arMember('debian-binary', Buffer.from('2.0\n')), arMember('data.tar.gz', data)]
            : extra.map((m) => arMember(m.name, m.name.startsWith('data') ? data : Buffer.from('2.0\n'), m.size === null ? {} : { size: m.size }));
          await attempt(makeDeb([], { members }), 'a.deb', { expect: 'deb', strip: 1 });
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    done();
  });

  it('damaged archives (bit flips, truncation) fail only with IntactErrors', async () => {
    const done = bounded();
    const good = [
      { name: 'pkg/a.txt', body: 'hello world\n'.repeat(20) },
      { name: 'pkg/bin/x', body: '#!/bin/sh\n', mode: 0o755 },
      { name: 'pkg/l', type: 'symlink' as const, target: 'a.txt' },
    ];
    const kinds = [
      makeDeb(good.map((e) => ({ ...e, name: `./${e.name}` }))),
      tar(good),
      tgz(good),
      zip(
        good.map((e) => ({
          name: e.name,
          body: e.type === 'symlink' ? e.target! : e.body!,
          ...(e.type === 'symlink' ? { kind: 'symlink' as const } : {}),
          deflate: true,
        })),
      ),
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat(kinds.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }), fc.option(fc.nat()), async (k, flips, cut) => {
        const bytes = Buffer.from(kinds[k]!);
        for (const [at, v] of flips) bytes[at % bytes.length] = v;
        const damaged = cut === null ? bytes : bytes.subarray(0, cut % bytes.length);
        await attempt(damaged, ['a.deb', 'a.tar', 'a.tgz', 'a.zip'][k]!, { strip: 1 });
      }),
      { numRuns: FUZZ_RUNS },
    );
    done();
  });
});
