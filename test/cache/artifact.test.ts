// The artifact format and the trust decision, without a registry: strict
// parsing of manifests and metadata, every reason an artifact is refused, and
// the archive (deterministic, and unpacked by the safe extractor to the same tree).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, ChunkHasher, packTree } from '../../src/cache/archive.js';
import { mergeTree } from '../../src/cache/merge.js';
import {
  CONFIG_MEDIA_TYPE,
  LAYER_MEDIA_TYPE,
  METADATA_FORMAT,
  parseManifest,
  parseMetadata,
  renderManifest,
  renderMetadata,
  type Descriptor,
  type Metadata,
  type SignedEntry,
} from '../../src/cache/artifact.js';
import { checkBinding, checkSignatures, signEntry, type Wanted } from '../../src/cache/trust.js';
import { IntactError } from '../../src/errors.js';
import { extract } from '../../src/fetch/extract/index.js';
import { joinedTreeHash, treeHash } from '../../src/store/tree-hash.js';
import { testKey } from '../helpers/registry-craft.js';
import { writeTree } from '../helpers/registry-entries.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const KEY = '0123456789abcdfghijklmnpqrsvwxyz';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const entry: SignedEntry = {
  key: KEY,
  name: 'hello',
  version: '1.0.0',
  platform: 'linux-x64',
  output: `sha256-${Buffer.alloc(32, 3).toString('base64')}`,
  size: 42,
  deps: ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'],
  sandbox: 'full',
  bin: ['bin/hello'],
  archive: { mediaType: LAYER_MEDIA_TYPE, parts: [{ digest: DIGEST, size: 100 }] },
};
const layer: Descriptor = { mediaType: LAYER_MEDIA_TYPE, digest: DIGEST, size: 100 };
const layers = [layer];
const want: Wanted = { key: KEY, name: 'hello', version: '1.0.0', platform: 'linux-x64', deps: ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'] };
const ci = testKey('ci-1');
const signed: Metadata = { format: METADATA_FORMAT, entry, signatures: [signEntry(entry, ci.secret)] };

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof IntactError ? e.code : String(e);
  }
  return undefined;
}

describe('manifest and metadata', () => {
  it('render and parse back', () => {
    const meta = renderMetadata(signed);
    expect(parseMetadata(meta, 'x')).toEqual(signed);
    const config: Descriptor = { mediaType: CONFIG_MEDIA_TYPE, digest: DIGEST, size: meta.length };
    const m = parseManifest(renderManifest(config, entry), 'x');
    expect(m.artifactType).toBe('application/vnd.intact.entry.v1');
    expect(m.layers.map((l) => ({ ...l, annotations: undefined }))).toEqual([{ ...layer, annotations: undefined }]);
    expect(m.annotations?.['dev.intact.key']).toBe(KEY);
  });

  const manifest = (change: (m: Record<string, unknown>) => void) => {
    const m = JSON.parse(renderManifest({ mediaType: CONFIG_MEDIA_TYPE, digest: DIGEST, size: 10 }, entry).toString()) as Record<string, unknown>;
    change(m);
    return Buffer.from(JSON.stringify(m));
  };
  it.each([
    ['not JSON', Buffer.from('{')],
    ['another artifact type (a container image)', manifest((m) => delete m['artifactType'])],
    ['no layers', manifest((m) => (m['layers'] = []))],
    ['a layer of another media type', manifest((m) => (m['layers'] = [{ ...layer, mediaType: 'application/vnd.oci.image.layer.v1.tar' }]))],
    ['a layer with foreign urls', manifest((m) => (m['layers'] = [{ ...layer, urls: ['https://elsewhere.example.com/x'] }]))],
    ['a huge config', manifest((m) => (m['config'] = { mediaType: CONFIG_MEDIA_TYPE, digest: DIGEST, size: 10 ** 9 }))],
    ['a bad digest', manifest((m) => (m['config'] = { mediaType: CONFIG_MEDIA_TYPE, digest: 'sha256:xyz', size: 1 }))],
  ])('refuses a manifest with %s', (_what, bytes) => {
    expect(codeOf(() => parseManifest(bytes, 'x'))).toBe('CACHE_INVALID');
  });

  it.each([
    ['an unknown field', (m: Record<string, unknown>) => (m['extra'] = 1)],
    ['a negative size', (m: Record<string, unknown>) => ((m['entry'] as SignedEntry).size = -1)],
    ['a bad key', (m: Record<string, unknown>) => ((m['entry'] as SignedEntry).key = '../../etc')],
    ['an unknown sandbox level', (m: Record<string, unknown>) => ((m['entry'] as Record<string, unknown>)['sandbox'] = 'maybe')],
    ['a malformed signature', (m: Record<string, unknown>) => (m['signatures'] = [{ key: 'ci-1', sig: 'short' }])],
    ['an empty part', (m: Record<string, unknown>) => (archiveOf(m).parts = [{ digest: DIGEST, size: 0 }])],
    ['chunk digests without a chunk size', (m: Record<string, unknown>) => (archiveOf(m).parts = [{ digest: DIGEST, size: 100, chunks: ['ab'.repeat(32)] }])],
    ['a tiny chunk size', (m: Record<string, unknown>) => Object.assign(archiveOf(m), chunked(16))],
    [
      'too few chunk digests',
      (m: Record<string, unknown>) => Object.assign(archiveOf(m), { chunk: 65536, parts: [{ digest: DIGEST, size: 65537, chunks: ['ab'.repeat(32)] }] }),
    ],
    [
      'a malformed chunk digest',
      (m: Record<string, unknown>) => Object.assign(archiveOf(m), { chunk: 65536, parts: [{ digest: DIGEST, size: 100, chunks: ['xy'] }] }),
    ],
    [
      'a chunk size but a part without digests',
      (m: Record<string, unknown>) => Object.assign(archiveOf(m), { chunk: 65536, parts: [{ digest: DIGEST, size: 100 }] }),
    ],
  ])('refuses metadata with %s', (_what, change) => {
    const m = structuredClone(signed) as unknown as Record<string, unknown>;
    change(m);
    expect(codeOf(() => parseMetadata(Buffer.from(JSON.stringify(m)), 'x'))).toBe('CACHE_INVALID');
  });
});

function archiveOf(m: Record<string, unknown>): SignedEntry['archive'] {
  return (m['entry'] as SignedEntry).archive;
}

function chunked(chunk: number): Partial<SignedEntry['archive']> {
  return { chunk, parts: [{ digest: DIGEST, size: 100, chunks: Array.from({ length: Math.ceil(100 / chunk) }, () => 'ab'.repeat(32)) }] };
}

describe('chunked metadata', () => {
  it('parses back with its chunk digests, and they are signed', () => {
    const e: SignedEntry = {
      ...entry,
      archive: { mediaType: LAYER_MEDIA_TYPE, chunk: 65536, parts: [{ digest: DIGEST, size: 70000, chunks: ['ab'.repeat(32), 'cd'.repeat(32)] }] },
    };
    const m: Metadata = { format: METADATA_FORMAT, entry: e, signatures: [signEntry(e, ci.secret)] };
    expect(parseMetadata(renderMetadata(m), 'x')).toEqual(m);
    expect(checkSignatures(m, [ci.public], 'x').name).toBe('ci-1');
    // Another chunk digest under the same signature: the signature no longer verifies.
    const moved = structuredClone(m);
    moved.entry.archive.parts[0]!.chunks![1] = 'ef'.repeat(32);
    expect(codeOf(() => checkSignatures(moved, [ci.public], 'x'))).toBe('CACHE_BAD_SIGNATURE');
  });
});

describe('trust', () => {
  const other = testKey('ci-2');
  const impostor = testKey('ci-1');
  it('accepts a signature by a trusted key over exactly this entry', () => {
    expect(checkSignatures(signed, [other.public, ci.public], 'x').name).toBe('ci-1');
    expect(() => checkBinding(entry, layers, want, 'x')).not.toThrow();
  });

  it.each([
    ['unsigned', { ...signed, signatures: [] }, [ci.public], 'CACHE_UNSIGNED'],
    ['signed by a key nobody trusts', signed, [other.public], 'CACHE_UNTRUSTED'],
    ['a trusted name with other bytes', { ...signed, signatures: [signEntry(entry, impostor.secret)] }, [ci.public], 'CACHE_BAD_SIGNATURE'],
    ['metadata changed after signing', { ...signed, entry: { ...entry, size: 43 } }, [ci.public], 'CACHE_BAD_SIGNATURE'],
    [
      'a signature moved from another entry',
      { ...signed, signatures: [signEntry({ ...entry, key: 'z'.repeat(32) }, ci.secret)] },
      [ci.public],
      'CACHE_BAD_SIGNATURE',
    ],
    [
      'the archive digest swapped',
      { ...signed, entry: { ...entry, archive: { ...entry.archive, parts: [{ digest: `sha256:${'cd'.repeat(32)}`, size: 100 }] } } },
      [ci.public],
      'CACHE_BAD_SIGNATURE',
    ],
  ] as const)('refuses an artifact that is %s', (_what, meta, trusted, code) => {
    expect(codeOf(() => checkSignatures(meta as Metadata, trusted, 'x'))).toBe(code);
  });

  it.each([
    ['another key (an older artifact under this tag)', { ...entry, key: 'y'.repeat(32) }, layers, want],
    ['another version', { ...entry, version: '0.9.0' }, layers, want],
    ['another platform', { ...entry, platform: 'linux-arm64' }, layers, want],
    ['other dependencies', { ...entry, deps: [] }, layers, want],
    ['another output than the lock records', entry, layers, { ...want, output: `sha256-${Buffer.alloc(32, 4).toString('base64')}` }],
    ['a manifest layer that is not the signed archive', entry, [{ ...layer, digest: `sha256:${'ef'.repeat(32)}` }], want],
    ['a manifest layer of another size', entry, [{ ...layer, size: 101 }], want],
    ['a layer more than signed', entry, [layer, layer], want],
    ['a layer fewer than signed', { ...entry, archive: { ...entry.archive, parts: [...entry.archive.parts, { digest: DIGEST, size: 5 }] } }, layers, want],
  ])('refuses a signed entry with %s', (_what, e, l, w) => {
    expect(codeOf(() => checkBinding(e, l, w, 'x'))).toBe('CACHE_MISMATCH');
  });
});

describe('the archive', () => {
  it('is deterministic, cut into parts at entry boundaries, and the safe extractor unpacks it to the same tree', async () => {
    const d = await mkdtemp(join(tmpdir(), 'intact-archive-'));
    dirs.push(d);
    const long = `${'deep/'.repeat(30)}file-with-a-long-name.txt`;
    await writeTree(join(d, 'a'), {
      'bin/tool': { content: '#!/bin/sh\n', exec: true },
      'share/doc.txt': 'doc\n',
      'share/link': { link: 'doc.txt' },
      empty: { dir: true },
      [long]: 'long\n',
      'a-b': 'order\n',
      'a/b': 'order\n',
    });
    await writeTree(join(d, 'b'), {
      [long]: 'long\n',
      'a/b': 'order\n',
      'a-b': 'order\n',
      empty: { dir: true },
      'share/link': { link: 'doc.txt' },
      'share/doc.txt': 'doc\n',
      'bin/tool': { content: '#!/bin/sh\n', exec: true },
    });
    const pa = await packTree(join(d, 'a'), join(d, 'a'));
    const pb = await packTree(join(d, 'b'), join(d, 'b'));
    expect(pa.map((p) => [p.digest, p.size])).toEqual(pb.map((p) => [p.digest, p.size]));
    expect(pa).toHaveLength(1);
    expect(pa[0]!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const h = new ChunkHasher(CHUNK_BYTES);
    h.update(await readFile(pa[0]!.file));
    expect(pa[0]!.chunks).toEqual(h.end());
    await extract(pa[0]!.file, join(d, 'out'));
    expect(await treeHash(join(d, 'out'))).toBe(await treeHash(join(d, 'a')));
    // Small parts: several complete archives, unpacked one by one and merged, give the same tree.
    const parts = await packTree(join(d, 'a'), join(d, 'small'), undefined, 1024);
    expect(parts.length).toBeGreaterThan(3);
    const records = [(await extract(parts[0]!.file, join(d, 'merged'), { records: true })).records!];
    for (const [i, p] of parts.entries()) {
      if (i === 0) continue;
      records.push((await extract(p.file, join(d, `part-${i}`), { records: true })).records!);
      await mergeTree(join(d, `part-${i}`), join(d, 'merged'), 'test');
    }
    expect(await treeHash(join(d, 'merged'))).toBe(await treeHash(join(d, 'a')));
    // What install admits by: the parts' records joined, folders they share counted once.
    expect(new Set(records.flat().map((r) => r.rel.toString())).size).toBeLessThan(records.flat().length);
    expect(joinedTreeHash(join(d, 'merged'), records)).toBe(await treeHash(join(d, 'a')));
    // A file in two parts is never joined into a hash.
    const twice = [records[0]!, [records.flat().find((r) => r.kind === 'f')!]];
    let code: string | undefined;
    try {
      joinedTreeHash(join(d, 'merged'), twice);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe('INTERNAL');
  });
});
