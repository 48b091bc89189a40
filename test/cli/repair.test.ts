// `intact repair` on real builds: each way of tampering with an installed entry
// is found by verify --store and repaired, and the result is bit for bit the
// entry that was installed (same output hash), read-only, with nothing left
// behind in the store's tmp.
import { createHash } from 'node:crypto';
import { appendFile, chmod, lstat, readdir, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeWritable } from '../../src/build/checks/normalise.js';
import { readMeta } from '../../src/store/entry.js';
import { layoutOf } from '../../src/store/paths.js';
import { treeHash } from '../../src/store/tree-hash.js';
import { verifyStore } from '../../src/store/verify-store.js';
import { fixtureProject } from '../helpers/fixture-project.js';
import { cleanupProjects, runCli } from '../helpers/project.js';
import { runStoreCli } from '../helpers/store-cli.js';

afterEach(cleanupProjects);

const HELLO = `name: hello
version: 1.0.0
deps: [bb@1.36.0]
bin: [bin/hello]
build:
  - write: $out/share/hello.txt
    content: "hello\\n"
  - write: $out/bin/hello
    content: "#!/bin/sh\\necho hello\\n"
    executable: true
  - script: |
      mkdir -p "$out/lib/deep"
      echo one > "$out/lib/deep/one"
      echo two > "$out/lib/two"
    shell: sh
`;

const env = (dir: string) => ({ cwd: dir, env: { HOME: dir, CI: undefined } });

async function installed(): Promise<{ dir: string; hello: string; key: string; output: string }> {
  const dir = await fixtureProject({ hello: HELLO });
  const r = await runCli(['install'], env(dir));
  expect(r.code, r.stderr).toBe(0);
  const folder = (await readdir(join(dir, 'store'))).find((n) => n.endsWith('-hello-1.0.0'))!;
  const key = folder.slice(0, 32);
  const meta = await readMeta(layoutOf(join(dir, 'store')), key);
  return { dir, hello: join(dir, 'store', folder), key, output: meta!.output };
}

async function expectWhole(dir: string, hello: string, output: string): Promise<void> {
  const store = layoutOf(join(dir, 'store'));
  const report = await verifyStore(store);
  expect(report.findings).toEqual([]);
  expect(await treeHash(hello)).toBe(output);
  expect((await stat(hello)).mode & 0o222).toBe(0);
  expect((await lstat(join(hello, 'share/hello.txt'))).mode & 0o222).toBe(0);
  expect((await readdir(store.tmp)).filter((n) => n.startsWith('repair-'))).toEqual([]);
}

describe('intact repair', () => {
  it.each([
    ['a file edited', async (p: string) => writeFile(join(p, 'share/hello.txt'), 'evil\n'), 'STORE_FILE_MODIFIED'],
    [
      'a file replaced by a symlink',
      async (p: string) => {
        await unlink(join(p, 'bin/hello'));
        await symlink('/bin/sh', join(p, 'bin/hello'));
      },
      'STORE_FILE_SYMLINKED',
    ],
    [
      'a file deleted, another added',
      async (p: string) => {
        await rm(join(p, 'lib/deep'), { recursive: true });
        await writeFile(join(p, 'lib/extra'), 'x');
      },
      'STORE_FILE_MISSING',
    ],
  ])('rebuilds an entry with %s, bit for bit, and verify passes again', async (_what, tamper, code) => {
    const { dir, hello, output } = await installed();
    await makeWritable(hello);
    await tamper(hello);
    const found = await verifyStore(layoutOf(join(dir, 'store')));
    expect(found.findings.map((f) => f.code)).toContain(code);

    const r = await runStoreCli(['repair'], env(dir));
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rebuilt hello@1.0.0');
    await expectWhole(dir, hello, output);
    expect(await readFile(join(hello, 'share/hello.txt'), 'utf8')).toBe('hello\n');
    const run = await runCli(['run', 'hello'], env(dir));
    expect(run.stdout).toBe('hello\n');
  });

  it('makes a writable entry read-only again in place, without a rebuild', async () => {
    const { dir, hello, output } = await installed();
    await chmod(join(hello, 'share/hello.txt'), 0o644);
    await chmod(join(hello, 'lib'), 0o755);
    const ino = (await stat(join(hello, 'share/hello.txt'))).ino;
    const r = await runStoreCli(['repair', 'hello'], env(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('sealed hello@1.0.0');
    expect((await stat(join(hello, 'share/hello.txt'))).ino).toBe(ino);
    await expectWhole(dir, hello, output);
  });

  it('builds again an entry the profile uses that was deleted, and records a lost manifest', async () => {
    const { dir, hello, key, output } = await installed();
    const store = layoutOf(join(dir, 'store'));
    const bb = (await readdir(store.root)).find((n) => n.endsWith('-bb-1.36.0'))!;
    await rm(join(store.meta, `${bb.slice(0, 32)}.files`));
    await makeWritable(hello);
    await rm(hello, { recursive: true });
    await rm(join(store.meta, `${key}.json`));
    const before = await verifyStore(store);
    expect(before.findings.map((f) => f.code).sort()).toEqual(['STORE_ENTRY_MISSING', 'STORE_MANIFEST_MISSING', 'STORE_META_ORPHAN']);
    const r = await runStoreCli(['repair'], env(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('built hello@1.0.0');
    expect(r.stdout).toContain('recorded the manifest of bb@1.36.0');
    await expectWhole(dir, hello, output);
  });

  it('fetches a damaged cached download again', async () => {
    const { dir } = await installed();
    const store = layoutOf(join(dir, 'store'));
    const cached = (await readdir(join(store.cache, 'sha512'), { recursive: true }))
      .map((p) => join(store.cache, 'sha512', p))
      .filter((p) => /[0-9a-f]{128}$/.test(p));
    expect(cached.length).toBeGreaterThan(0);
    const victim = cached[0]!;
    const good = await readFile(victim);
    await chmod(victim, 0o644);
    await appendFile(victim, 'x');
    expect((await verifyStore(store)).findings.map((f) => f.code)).toEqual(['STORE_CACHE_CORRUPT']);
    const r = await runStoreCli(['repair'], env(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/refetched cache sha512\//);
    expect(
      createHash('sha512')
        .update(await readFile(victim))
        .digest('hex'),
    ).toBe(createHash('sha512').update(good).digest('hex'));
    expect((await verifyStore(store)).findings).toEqual([]);
  });

  it('says the store is whole when it is, and fails (exit 1) for an entry no recipe here builds', async () => {
    const { dir } = await installed();
    const whole = await runStoreCli(['repair'], env(dir));
    expect(whole.code).toBe(0);
    expect(whole.stdout).toContain('nothing to repair');

    // An entry of another project (another recipe) in the same store, then tampered with.
    const other = await fixtureProject({ hello: HELLO.replace('hello\\n"', 'other\\n"') });
    expect((await runCli(['--store', join(dir, 'store'), 'install', 'hello'], env(other))).code).toBe(0);
    const { stdout } = await runStoreCli(['--json', 'list'], env(dir));
    const list = JSON.parse(stdout) as { entries: { entry: string; projects: string[] }[] };
    const hellos = list.entries.filter((e) => e.entry.endsWith('-hello-1.0.0'));
    expect(hellos).toHaveLength(2);
    const theirs = hellos.find((e) => !e.projects.includes(dir))!.entry;
    await makeWritable(join(dir, 'store', theirs));
    await appendFile(join(dir, 'store', theirs, 'share/hello.txt'), 'x');
    const r = await runStoreCli(['repair'], env(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('STORE_REPAIR_FAILED');
    expect(r.stderr).toContain('no recipe of this project builds');
    expect(r.stderr).toContain('intact why');
  });
});
