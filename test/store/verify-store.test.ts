// verify --store, store side: each way of tampering with a store is found and
// named (code, file), and an untouched store passes. The entries are made by
// hand (test/helpers/store-entries.ts) so every case runs in milliseconds; the
// CLI tests (test/cli/repair.test.ts) tamper with real builds.
import { createHash } from 'node:crypto';
import { appendFile, chmod, mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/errors.js';
import { makeWritable } from '../../src/build/checks/normalise.js';
import type { StoreLayout } from '../../src/store/paths.js';
import { verifyStore } from '../../src/store/verify-store.js';
import { cleanupStores, makeStore, putEntry, putRoot, type MadeEntry } from '../helpers/store-entries.js';

afterEach(cleanupStores);

const FILES = {
  'bin/tool': { exec: '#!/bin/sh\necho tool\n' },
  'bin/readme': { link: '../share/doc/README' },
  'share/doc/README': 'read me\n',
  'share/doc/NOTES': 'notes\n',
  'lib/a.txt': 'a\n',
  'lib/b.txt': 'b\n',
  empty: { dir: true as const },
};

async function fixture(): Promise<{ store: StoreLayout; e: MadeEntry; other: MadeEntry }> {
  const store = await makeStore();
  const e = await putEntry(store, 'tool', '1.0.0', FILES);
  const other = await putEntry(store, 'other', '2.0.0', { x: 'x\n' });
  return { store, e, other };
}

const codes = (fs: Finding[]): string[] => fs.map((f) => f.code);

describe('verifyStore', () => {
  it('passes an untouched store, counting entries and bytes', async () => {
    const { store } = await fixture();
    const r = await verifyStore(store);
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ ok: true, exitCode: 0, entries: 2 });
    expect(r.bytes).toBe('#!/bin/sh\necho tool\n'.length + 'read me\n'.length + 'notes\n'.length + 'a\n'.length + 'b\n'.length + 'x\n'.length);
    expect(r.results.map((x) => x.damage)).toEqual(['none', 'none']);
  });

  // Each tampering: what to do to the entry, then the per-file code and path expected.
  const cases: [string, (p: string) => Promise<void>, string, string][] = [
    ['a file edited', (p) => appendFile(join(p, 'share/doc/README'), 'evil\n'), 'STORE_FILE_MODIFIED', 'share/doc/README'],
    [
      'a file replaced by a symlink',
      async (p) => {
        await unlink(join(p, 'bin/tool'));
        await symlink('/bin/sh', join(p, 'bin/tool'));
      },
      'STORE_FILE_SYMLINKED',
      'bin/tool',
    ],
    ['a file deleted', (p) => unlink(join(p, 'lib/a.txt')), 'STORE_FILE_MISSING', 'lib/a.txt'],
    ['a file added', (p) => writeFile(join(p, 'lib/injected.so'), 'x'), 'STORE_FILE_ADDED', 'lib/injected.so'],
    ['an executable bit set', (p) => chmod(join(p, 'lib/a.txt'), 0o555), 'STORE_FILE_MODIFIED', 'lib/a.txt'],
    [
      'a symlink retargeted',
      async (p) => {
        await unlink(join(p, 'bin/readme'));
        await symlink('/etc/passwd', join(p, 'bin/readme'));
      },
      'STORE_FILE_MODIFIED',
      'bin/readme',
    ],
    ['a folder deleted', (p) => rm(join(p, 'lib'), { recursive: true }), 'STORE_FILE_MISSING', 'lib'],
    [
      'a folder replaced by a symlink',
      async (p) => {
        await rm(join(p, 'lib'), { recursive: true });
        await symlink('/usr/lib', join(p, 'lib'));
      },
      'STORE_FILE_SYMLINKED',
      'lib',
    ],
  ];

  it.each(cases)('finds %s, naming the file', async (_what, tamper, code, rel) => {
    const { store, e } = await fixture();
    await makeWritable(e.path);
    await tamper(e.path);
    const r = await verifyStore(store);
    expect(r.exitCode).toBe(1);
    const mine = r.findings.filter((f) => f.file?.startsWith(e.path));
    expect(codes(mine)).toContain('STORE_ENTRY_MODIFIED');
    const summary = mine.find((f) => f.code === 'STORE_ENTRY_MODIFIED')!;
    expect(summary).toMatchObject({ expected: e.meta.output, file: e.path });
    expect(summary.found).not.toBe(e.meta.output);
    expect(summary.message).toContain('tool@1.0.0');
    expect(summary.hint).toContain('intact repair tool');
    const detail = mine.filter((f) => f.code !== 'STORE_ENTRY_MODIFIED' && f.code !== 'STORE_ENTRY_WRITABLE');
    expect(detail).toEqual([expect.objectContaining({ code, file: join(e.path, rel) })]);
    expect(r.results.find((x) => x.entry === e.folder)!.damage).toBe('content');
    // The other entry is not blamed.
    expect(r.findings.some((f) => f.message.includes('other@'))).toBe(false);
  });

  it('finds an entry made writable, with its content intact', async () => {
    const { store, e } = await fixture();
    await chmod(join(e.path, 'share/doc/README'), 0o644);
    await chmod(join(e.path, 'lib'), 0o755);
    const r = await verifyStore(store);
    expect(codes(r.findings)).toEqual(['STORE_ENTRY_WRITABLE']);
    expect(r.findings[0]!.message).toMatch(/2 path\(s\) can be written to \((lib, share\/doc\/README|share\/doc\/README, lib)\)/);
    expect(r.results.find((x) => x.entry === e.folder)!.damage).toBe('modes');
  });

  it('finds the entry folder itself replaced by a symlink', async () => {
    const { store, e, other } = await fixture();
    await makeWritable(e.path);
    await rm(e.path, { recursive: true, force: true });
    await symlink(other.path, e.path);
    const r = await verifyStore(store);
    expect(r.findings).toEqual([expect.objectContaining({ code: 'STORE_FILE_SYMLINKED', file: e.path })]);
  });

  it('finds an entry without metadata, and metadata without an entry (harmless: a warning)', async () => {
    const { store, e, other } = await fixture();
    await rm(join(store.meta, `${e.key}.json`));
    // Moving a folder to another parent rewrites its `..`: it must be writable (root alone skips that).
    await chmod(other.path, 0o755);
    await rename(other.path, join(store.tmp, 'gone'));
    const r = await verifyStore(store);
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([
      ['STORE_ENTRY_NO_META', 'error'],
      ['STORE_META_ORPHAN', 'warning'],
    ]);
    expect(r.results.find((x) => x.entry === e.folder)!.damage).toBe('unknown');
  });

  it('finds metadata that describes another entry', async () => {
    const { store, e, other } = await fixture();
    const { readFile } = await import('node:fs/promises');
    // Metadata is read-only once written (root alone writes it anyway).
    await chmod(join(store.meta, `${e.key}.json`), 0o644);
    await writeFile(
      join(store.meta, `${e.key}.json`),
      (await readFile(join(store.meta, `${other.key}.json`), 'utf8')).replace(other.key, e.key).replace('"other"', '"evil"'),
    );
    const r = await verifyStore(store, { names: [e.key] });
    expect(r.findings).toEqual([expect.objectContaining({ code: 'STORE_META_INVALID', message: expect.stringContaining('evil') })]);
  });

  it('finds an edited manifest even when the content is intact', async () => {
    const { store, e } = await fixture();
    const file = join(store.meta, `${e.key}.files`);
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(file, 'utf8');
    await rm(file);
    await writeFile(file, text.replace(/"[0-9a-f]{64}"/, `"${'0'.repeat(64)}"`));
    const r = await verifyStore(store);
    expect(codes(r.findings)).toEqual(['STORE_MANIFEST_MISMATCH']);
    expect(r.results.find((x) => x.entry === e.folder)!.damage).toBe('manifest');
  });

  it('without a manifest still detects a change, says it cannot name files, and warns otherwise', async () => {
    const { store, e } = await fixture();
    await rm(join(store.meta, `${e.key}.files`));
    expect(codes((await verifyStore(store)).findings)).toEqual(['STORE_MANIFEST_MISSING']);
    expect((await verifyStore(store)).exitCode).toBe(0);
    await makeWritable(e.path);
    await appendFile(join(e.path, 'lib/a.txt'), 'x');
    const r = await verifyStore(store);
    expect(codes(r.findings)).toEqual(['STORE_ENTRY_MODIFIED', 'STORE_ENTRY_WRITABLE']);
    expect(r.findings[0]!.hint).toContain('no usable file manifest');
  });

  it('finds a fifo planted in an entry without hanging', async () => {
    const { store, e } = await fixture();
    await makeWritable(e.path);
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [join(e.path, 'lib/pipe')]);
    const r = await verifyStore(store);
    expect(codes(r.findings)).toContain('STORE_ENTRY_UNREADABLE');
    expect(r.findings.find((f) => f.code === 'STORE_ENTRY_UNREADABLE')!.message).toContain('lib/pipe is a fifo');
  });

  it('finds unknown things in the store root and the cache, and corrupt cached downloads', async () => {
    const { store } = await fixture();
    await mkdir(join(store.root, 'injected'));
    await writeFile(join(store.root, '.gitkeep'), '');
    const bytes = Buffer.from('a download');
    const hex = createHash('sha512').update(bytes).digest('hex');
    await mkdir(join(store.cache, 'sha512', hex.slice(0, 2)), { recursive: true });
    await writeFile(join(store.cache, 'sha512', hex.slice(0, 2), hex), bytes);
    expect((await verifyStore(store)).findings.map((f) => [f.code, f.file])).toEqual([['STORE_UNKNOWN_FILE', join(store.root, 'injected')]]);
    await writeFile(join(store.cache, 'sha512', hex.slice(0, 2), hex), 'other bytes');
    await writeFile(join(store.cache, 'sha512', 'stray'), '');
    const r = await verifyStore(store);
    expect(r.findings.map((f) => [f.code, f.file])).toEqual([
      ['STORE_CACHE_CORRUPT', join(store.cache, 'sha512', hex.slice(0, 2), hex)],
      ['STORE_UNKNOWN_FILE', join(store.cache, 'sha512', 'stray')],
      ['STORE_UNKNOWN_FILE', join(store.root, 'injected')],
    ]);
    expect(r.cacheFiles).toBe(1);
  });

  it('finds an entry a project still uses that is gone', async () => {
    const { store, e } = await fixture();
    await putRoot(store, store.root, [e]); // any existing folder stands for the project
    await chmod(e.path, 0o755);
    await rename(e.path, join(store.tmp, 'gone'));
    const r = await verifyStore(store);
    expect(r.findings.map((f) => f.code)).toEqual(['STORE_ENTRY_MISSING', 'STORE_META_ORPHAN']);
    expect(r.findings[0]!.message).toContain(store.root);
    // Named, too.
    expect(codes((await verifyStore(store, { names: ['tool'] })).findings)).toEqual(['STORE_ENTRY_MISSING']);
  });

  it('checks only the named entries, and refuses a name it does not have', async () => {
    const { store, e, other } = await fixture();
    await makeWritable(e.path);
    await appendFile(join(e.path, 'lib/a.txt'), 'x');
    await mkdir(join(store.root, 'injected'));
    const r = await verifyStore(store, { names: ['other'] });
    expect(r).toMatchObject({ ok: true, entries: 1, findings: [] });
    expect(r.results[0]!.entry).toBe(other.folder);
    expect((await verifyStore(store, { names: ['tool@1.0.0'] })).exitCode).toBe(1);
    await expect(verifyStore(store, { names: ['nope'] })).rejects.toMatchObject({ code: 'NOT_INSTALLED' });
  });
});
