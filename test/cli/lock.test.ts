// `intact lock` and `intact fetch` end to end, as processes, against a fake npm
// registry and a local HTTP server: what gets pinned, what never changes, and
// that every failure leaves the lock and the store as they were.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bytes, serve, startServer, status, type TestServer } from '../helpers/http-server.js';
import { makeTarball, sri, startNpmRegistry, type FakeRegistry } from '../helpers/npm-registry.js';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

let registry: FakeRegistry;
let server: TestServer;
let toolTgz: Buffer;
let innerTgz: Buffer;
let nestedTgz: Buffer;
const lib = bytes(200_000, 7);

beforeAll(async () => {
  toolTgz = await makeTarball({ 'bin/tool': '#!/bin/sh\necho tool\n', 'package.json': '{"name":"tool","version":"1.0.0"}' });
  innerTgz = await makeTarball({ 'src.c': 'int main(void){return 0;}\n' });
  nestedTgz = await makeTarball({ 'package.json': '{"name":"carrier","version":"2.0.0"}', 'deps/inner.tgz': innerTgz.toString('latin1') });
  registry = await startNpmRegistry({
    packages: [
      { name: 'tool', versions: { '1.0.0': { tarball: toolTgz }, '1.1.0': { tarball: toolTgz } } },
      { name: '@scope/other', versions: { '3.0.0': { tarball: toolTgz, served: Buffer.concat([toolTgz, Buffer.from('x')]) } } },
    ],
  });
  server = await startServer({ '/lib-1.0.0.tar': serve(lib), '/mirror/lib-1.0.0.tar': serve(lib), '/gone.tar': status(404) });
});
afterAll(async () => {
  await registry.close();
  await server.close();
});
afterEach(cleanupProjects);

const TOOL = 'name: tool\nversion: 1.0.0\nsources:\n  - npm: tool@1.0.0\nbin: [bin/tool]\n';
const LIB = () =>
  `name: lib\nversion: 1.0.0\nsources:\n  - url: ${server.url('/lib-1.0.0.tar')}\n    mirrors: [${server.url('/mirror/lib-1.0.0.tar')}]\ndeps: [tool@1.0.0]\n`;

function env(dir: string, extra: Record<string, string> = {}) {
  return { cwd: dir, env: { HOME: dir, npm_config_registry: registry.url, npm_config_userconfig: join(dir, 'no-npmrc'), CI: undefined, ...extra } };
}

async function project(files: Record<string, string> = {}): Promise<string> {
  return makeProject({ 'recipes/tool.yaml': TOOL, 'recipes/lib.yaml': LIB(), ...files });
}

const readLock = async (dir: string) => readFile(join(dir, 'intact.lock'), 'utf8');
const cacheFiles = async (dir: string): Promise<string[]> => {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  await walk(join(dir, 'store', 'cache'));
  return out;
};

describe('intact lock', () => {
  it('pins every source with sha512, records npm as spec + integrity, and verify passes', async () => {
    const dir = await project();
    const r = await runCli(['lock'], env(dir));
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('added lib');
    expect(r.stdout).toContain('added tool');
    const lock = JSON.parse(await readLock(dir));
    expect(lock.recipes.tool.sources[0]).toEqual({
      kind: 'npm',
      npm: 'tool@1.0.0',
      integrity: sri('sha512', toolTgz),
      tree: expect.stringMatching(/^sha256-/),
    });
    expect(lock.recipes.lib.sources[0].integrity).toBe(sri('sha512', lib));
    expect(lock.lockfileVersion).toBe(2);
    expect(lock.recipes.lib.deps).toEqual(['tool@1.0.0']);
    expect(lock.recipes.lib).not.toHaveProperty('closure');
    expect(await readLock(dir)).not.toContain(registry.url);
    expect((await runCli(['verify'], env(dir))).code).toBe(0);
  });

  it('is a no-op when nothing changed, asking no server', async () => {
    const dir = await project();
    expect((await runCli(['lock'], env(dir))).code).toBe(0);
    const before = registry.requests.length;
    const lockText = await readLock(dir);
    const r = await runCli(['lock'], env(dir));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('intact.lock is up to date');
    expect(registry.requests.length).toBe(before);
    expect(await readLock(dir)).toBe(lockText);
  });

  it('re-locks only the edited recipe and keeps its still-valid pins; a dependant gets only its new key', async () => {
    const dir = await project();
    await runCli(['lock'], env(dir));
    const before = JSON.parse(await readLock(dir));
    const requests = registry.requests.length;
    await writeFile(join(dir, 'recipes/tool.yaml'), TOOL.replace('bin: [bin/tool]', 'bin: [bin/tool]\ndescription: the tool'));
    const r = await runCli(['lock'], env(dir));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('updated tool');
    // lib needs tool: its store key follows tool's, and nothing else of it moves.
    expect(r.stdout).toMatch(/updated lib\n {2}key linux-x64 [0-9a-z]{8}… -> [0-9a-z]{8}…\n/);
    const after = JSON.parse(await readLock(dir));
    expect(after.recipes.tool.sources).toEqual(before.recipes.tool.sources);
    expect(after.recipes.tool.recipeHash).not.toBe(before.recipes.tool.recipeHash);
    expect(after.recipes.tool.keys['linux-x64']).not.toBe(before.recipes.tool.keys['linux-x64']);
    expect({ ...after.recipes.lib, keys: undefined }).toEqual({ ...before.recipes.lib, keys: undefined });
    expect(after.recipes.lib.keys['linux-x64']).not.toBe(before.recipes.lib.keys['linux-x64']);
    expect(registry.requests.length).toBe(requests);
    expect((await runCli(['verify'], env(dir))).code).toBe(0);
  });

  it('puts back a hand-edited or missing store key without fetching anything', async () => {
    const dir = await project();
    await runCli(['lock'], env(dir));
    const good = await readLock(dir);
    const lock = JSON.parse(good);
    const key = lock.recipes.lib.keys['linux-x64'];
    lock.recipes.lib.keys['linux-x64'] = '0'.repeat(32);
    delete lock.recipes.tool.keys;
    await writeFile(join(dir, 'intact.lock'), `${JSON.stringify(lock, null, 2)}\n`);
    const verify = await runCli(['verify'], env(dir));
    expect(verify.code).toBe(1);
    expect(verify.stdout + verify.stderr).toContain('lib: the store key for linux-x64');
    expect(verify.stdout + verify.stderr).toContain('tool: the lock records no store keys');
    const requests = registry.requests.length;
    const r = await runCli(['lock'], env(dir));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`key linux-x64 00000000… -> ${key.slice(0, 8)}…`);
    expect(r.stdout).toContain('recorded store keys (linux-x64)');
    expect(await readLock(dir)).toBe(good);
    expect(registry.requests.length).toBe(requests);
  });

  it('pins a vendored file again when it is edited (stale-file-pin), and install uses the new bytes', async () => {
    const dir = await makeProject({ 'recipes/v.yaml': 'name: v\nversion: 1.0.0\nsources:\n  - file: vendor/x.txt\n', 'vendor/x.txt': 'before\n' });
    expect((await runCli(['lock'], env(dir))).code).toBe(0);
    await writeFile(join(dir, 'vendor/x.txt'), 'after\n');
    expect((await runCli(['verify'], env(dir))).code).toBe(1);
    const r = await runCli(['lock'], env(dir));
    expect(r.code).toBe(0);
    const pin = JSON.parse(await readLock(dir)).recipes.v.sources[0].integrity;
    expect(pin).toBe(`sha512-${createHash('sha512').update('after\n').digest('base64')}`);
    expect((await runCli(['verify'], env(dir))).code).toBe(0);
    // Named, too: a repository file is the truth, not a pin to check it against.
    await writeFile(join(dir, 'vendor/x.txt'), 'again\n');
    expect((await runCli(['lock', 'v'], env(dir))).code).toBe(0);
    expect(JSON.parse(await readLock(dir)).recipes.v.sources[0].integrity).toBe(`sha512-${createHash('sha512').update('again\n').digest('base64')}`);
  });

  it('refuses bytes that differ from what the registry lists for the version', async () => {
    const dir = await project({ 'recipes/other.yaml': 'name: other\nversion: 3.0.0\nsources:\n  - npm: "@scope/other@3.0.0"\n' });
    // The registry's metadata and bytes disagree: the pin (from metadata) never matches.
    const r = await runCli(['lock'], env(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NPM_INTEGRITY_CHANGED');
    expect(r.stderr).toContain('@scope/other@3.0.0');
    await expect(readLock(dir)).rejects.toThrow();
    expect(await cacheFiles(dir)).not.toContainEqual(expect.stringContaining('.part'));
  });

  it('checks a named recipe against its pin: a pin that no longer matches is an error, not a re-pin', async () => {
    const dir = await project();
    expect((await runCli(['lock'], env(dir))).code).toBe(0);
    const text = await readLock(dir);
    const wrong = `sha512-${createHash('sha512').update('old bytes').digest('base64')}`;
    await writeFile(join(dir, 'intact.lock'), text.replace(sri('sha512', lib), wrong));
    const tampered = await readLock(dir);
    const r = await runCli(['lock', 'lib'], env(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('INTEGRITY_MISMATCH');
    expect(r.stderr).toContain(wrong);
    expect(await readLock(dir)).toBe(tampered);
  });

  it('refuses a recipe whose declared integrity is wrong, storing nothing', async () => {
    const wrong = `sha512-${createHash('sha512').update('not it').digest('base64')}`;
    const dir = await makeProject({
      'recipes/lib.yaml': `name: lib\nversion: 1.0.0\nsources:\n  - url: ${server.url('/lib-1.0.0.tar')}\n    integrity: ${wrong}\n`,
    });
    const r = await runCli(['lock'], env(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('INTEGRITY_MISMATCH');
    expect(r.stderr).toContain(wrong);
    expect(r.stderr).toContain(sri('sha512', lib));
    expect(await cacheFiles(dir)).toEqual([]);
    await expect(readLock(dir)).rejects.toThrow();
  });

  it('names an npm version that does not exist', async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': TOOL.replace('tool@1.0.0', 'tool@9.9.9') });
    const r = await runCli(['lock'], env(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NPM_VERSION_NOT_FOUND');
    expect(r.stderr).toContain('tool@9.9.9');
    expect(r.stderr).toMatch(/1\.1\.0|1\.0\.0/);
  });

  it('names a URL that is gone', async () => {
    const dir = await makeProject({ 'recipes/gone.yaml': `name: gone\nversion: 1.0.0\nsources:\n  - url: ${server.url('/gone.tar')}\n` });
    const r = await runCli(['lock'], env(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/gone.tar');
    expect(r.stderr).toContain('404');
  });

  it('refuses to lock broken recipes (exit 2), writing nothing', async () => {
    const dir = await project({ 'recipes/bad.yaml': 'name: bad\nversion: latest\n' });
    const r = await runCli(['lock'], env(dir));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('recipes/bad.yaml:2:10');
    await expect(readLock(dir)).rejects.toThrow();
  });

  it('with CI=true writes nothing and fails when the lock is not current', async () => {
    const dir = await project();
    const r = await runCli(['lock'], env(dir, { CI: 'true' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NOT_LOCKED');
    await expect(readLock(dir)).rejects.toThrow();
  });

  it('pins a nested archive by its own hash and checks a declared one', async () => {
    const dir = await makeProject({ 'recipes/nested.yaml': 'name: nested\nversion: 1.0.0\nsources:\n  - npm: carrier@2.0.0\n    archive: deps/inner.tgz\n' });
    const reg = await startNpmRegistry({ packages: [{ name: 'carrier', versions: { '2.0.0': { tarball: nestedTgz } } }] });
    try {
      const e = { cwd: dir, env: { HOME: dir, npm_config_registry: reg.url, CI: undefined } };
      const r = await runCli(['lock'], e);
      expect(r.stderr).not.toContain('error');
      expect(r.code).toBe(0);
      const lock = JSON.parse(await readLock(dir));
      expect(lock.recipes.nested.sources[0].archiveIntegrity).toBe(sri('sha512', Buffer.from(innerTgz.toString('latin1'))));
      await writeFile(
        join(dir, 'recipes/nested.yaml'),
        `name: nested\nversion: 1.0.0\nsources:\n  - npm: carrier@2.0.0\n    archive: deps/inner.tgz\n    archiveIntegrity: ${sri('sha256', Buffer.from('other'))}\n`,
      );
      const bad = await runCli(['lock'], e);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('deps/inner.tgz');
    } finally {
      await reg.close();
    }
  });

  it('--json prints NDJSON events and the changes as the last line', async () => {
    const dir = await project();
    const r = await runCli(['--json', 'lock'], env(dir));
    expect(r.code).toBe(0);
    // NDJSON: progress events, then the result as the last line.
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => l.event === 'done')).toBe(true);
    const doc = lines[lines.length - 1];
    expect(doc).toMatchObject({ ok: true, written: true });
    expect(doc.changes.map((c: { name: string }) => c.name)).toEqual(['lib', 'tool']);
  });
});

describe('intact fetch', () => {
  it('fills the cache from the lock, then works offline; offline with an empty cache names what is missing', async () => {
    const dir = await project();
    expect((await runCli(['lock'], env(dir))).code).toBe(0);
    const other = await makeProject({ 'recipes/tool.yaml': TOOL, 'recipes/lib.yaml': LIB(), 'intact.lock': await readLock(dir) });
    const offline = await runCli(['fetch', '--offline'], env(other));
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain('OFFLINE_MISSING');
    const r = await runCli(['fetch'], env(other));
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 source(s) verified');
    const again = await runCli(['fetch', '--offline'], env(other));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('2 already there');
  });

  it('fetches only the named recipe and its closure', async () => {
    const dir = await project();
    await runCli(['lock'], env(dir));
    await runCli(['--store', join(dir, 'other-store'), 'fetch', 'tool'], env(dir));
    const r = await runCli(['--store', join(dir, 'other-store'), 'fetch', '--offline', 'tool'], env(dir));
    expect(r.stdout).toContain('1 source(s) verified');
    expect((await runCli(['--store', join(dir, 'other-store'), 'fetch', '--offline', 'lib'], env(dir))).code).toBe(1);
  });
});
