// The pure parts of the cache, table-driven: registry references, keys, the
// intact.yaml cache section (errors at file:line:col), and secret files.
import { mkdtemp, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCacheConfig } from '../../src/cache/config.js';
import { findSecretKey, readSecretKeyFile, writeKeyPair } from '../../src/cache/key-files.js';
import { generateKeyPair, parsePublicKey, parseSecretKey, signBytes, verifyBytes } from '../../src/cache/keys.js';
import { parseRef } from '../../src/cache/ref.js';
import { IntactError } from '../../src/errors.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const temp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'intact-cache-unit-'));
  dirs.push(d);
  return d;
};

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof IntactError ? e.code : `not an IntactError: ${String(e)}`;
  }
  return undefined;
}

describe('registry references', () => {
  it.each([
    ['ghcr.example.com/acme/intact-cache', { host: 'ghcr.example.com', origin: 'https://ghcr.example.com', repository: 'acme/intact-cache', insecure: false }],
    [
      'https://registry.example.com:5443/a/b/c',
      { host: 'registry.example.com:5443', origin: 'https://registry.example.com:5443', repository: 'a/b/c', insecure: false },
    ],
    ['http://127.0.0.1:5000/team/intact', { host: '127.0.0.1:5000', origin: 'http://127.0.0.1:5000', repository: 'team/intact', insecure: true }],
    ['http://localhost:5000/x', { host: 'localhost:5000', repository: 'x', insecure: true }],
    ['localhost:5000/team/intact_cache-1', { host: 'localhost:5000', repository: 'team/intact_cache-1', insecure: false }],
  ])('parses %s', (text, want) => {
    expect(parseRef(text)).toMatchObject(want);
  });

  it.each([
    ['no repository', 'registry.example.com'],
    ['a tag', 'registry.example.com/a/b:latest'],
    ['a digest', 'registry.example.com/a/b@sha256:00'],
    ['upper case', 'registry.example.com/Team/x'],
    ['credentials', 'https://user:pw@registry.example.com/a'],
    ['plain http off loopback', 'http://registry.example.com/a'],
    ['a bad port', 'registry.example.com:99999/a'],
    ['an empty component', 'registry.example.com/a//b'],
  ])('refuses %s', (_what, text) => {
    expect(code(() => parseRef(text))).toBe('CACHE_REF_INVALID');
  });

  it('allows plain http to a host on the insecure-registries list', () => {
    expect(parseRef('http://registry.lan:5000/a', ['registry.lan:5000']).insecure).toBe(true);
  });
});

describe('keys', () => {
  it('generates, parses, signs and verifies; a changed message or another key fails', () => {
    const pair = generateKeyPair('ci.example.com-1');
    const secret = parseSecretKey(pair.secretText, 'mem');
    expect(secret.public.text).toBe(pair.public.text);
    expect(parsePublicKey(pair.public.text)).toEqual(pair.public);
    const sig = signBytes(secret, Buffer.from('message'));
    expect(verifyBytes(pair.public, Buffer.from('message'), sig)).toBe(true);
    expect(verifyBytes(pair.public, Buffer.from('messagf'), sig)).toBe(false);
    expect(verifyBytes(generateKeyPair('ci.example.com-1').public, Buffer.from('message'), sig)).toBe(false);
    expect(verifyBytes(pair.public, Buffer.from('message'), sig.subarray(1))).toBe(false);
  });

  it.each([
    ['no name', 'AAAA'],
    ['a bad name', 'a b:' + Buffer.alloc(32).toString('base64')],
    ['31 bytes', 'k:' + Buffer.alloc(31).toString('base64')],
    ['not base64', 'k:' + '!'.repeat(44)],
    ['extra parts', 'k:x:' + Buffer.alloc(32).toString('base64')],
  ])('refuses a public key with %s', (_what, text) => {
    expect(code(() => parsePublicKey(text))).toBe('KEY_INVALID');
  });

  it('a secret key whose public half is not its own is refused, without quoting it', () => {
    const a = generateKeyPair('k-1').secretText.split(':')[1]!;
    const b = generateKeyPair('k-1').secretText.split(':')[1]!;
    const mixed = `k-1:${Buffer.concat([Buffer.from(a, 'base64').subarray(0, 32), Buffer.from(b, 'base64').subarray(32)]).toString('base64')}`;
    try {
      parseSecretKey(mixed, 'key.secret');
      expect.unreachable();
    } catch (e) {
      expect((e as IntactError).code).toBe('KEY_INVALID');
      expect((e as Error).message).not.toContain(mixed.slice(4, 20));
    }
  });

  it('key files: written 0600, never overwritten, refused when others can read them or inside the project', async () => {
    const home = await temp();
    const env = { XDG_CONFIG_HOME: home };
    const made = await writeKeyPair({ name: 'dev-1', env });
    expect(made.file).toBe(join(home, 'intact/keys/dev-1.secret'));
    expect((await stat(made.file)).mode & 0o777).toBe(0o600);
    expect((await findSecretKey({ env })).public.text).toBe(made.public.text);
    await expect(writeKeyPair({ name: 'dev-1', env })).rejects.toMatchObject({ code: 'KEY_EXISTS' });
    await chmod(made.file, 0o644);
    await expect(readSecretKeyFile(made.file)).rejects.toMatchObject({ code: 'KEY_FILE' });
    await chmod(made.file, 0o600);
    await expect(readSecretKeyFile(made.file, home)).rejects.toMatchObject({ code: 'KEY_FILE' });
    await expect(writeKeyPair({ name: 'dev-2', out: join(home, 'repo/k.secret'), projectDir: join(home, 'repo') })).rejects.toMatchObject({ code: 'KEY_FILE' });
    // CI: the key's text in a secret variable.
    expect((await findSecretKey({ env: { INTACT_SIGNING_KEY: generateKeyPair('ci-9').secretText } })).name).toBe('ci-9');
    await expect(findSecretKey({ env: { XDG_CONFIG_HOME: await temp() } })).rejects.toMatchObject({ code: 'KEY_FILE' });
  });
});

describe('intact.yaml: the cache section', () => {
  const key = generateKeyPair('ci-1').public.text;

  it('reads substituters, trusted keys and insecure registries', () => {
    const c = parseCacheConfig(
      `# comment\ncache:\n  substituters:\n    - ghcr.example.com/acme/cache\n    - http://registry.lan:5000/team/x\n  trusted-keys:\n    - ${key}\n  insecure-registries: [registry.lan:5000]\n`,
      'intact.yaml',
    );
    expect(c.substituters.map((s) => s.origin)).toEqual(['https://ghcr.example.com', 'http://registry.lan:5000']);
    expect(c.trustedKeys.map((k) => k.text)).toEqual([key]);
  });

  it('an empty file, or one without a cache section, configures nothing', () => {
    expect(parseCacheConfig('', 'intact.yaml').substituters).toEqual([]);
    expect(parseCacheConfig('cache:\n', 'intact.yaml').trustedKeys).toEqual([]);
  });

  it.each([
    ['an unknown top-level field', 'cache: {}\ncahce: {}\n', 2, /unknown field `cahce`/],
    ['a typo in the cache section', `cache:\n  substituters: [a.example.com/x]\n  trusted_keys: [${key}]\n`, 3, /unknown field `cache\.trusted_keys`/],
    ['a bad reference', 'cache:\n  substituters:\n    - http://a.example.com/x\n  trusted-keys: [k:AAAA]\n', 3, /plain http/],
    ['a bad key', 'cache:\n  trusted-keys:\n    - ci-1:AAAA\n', 3, /not an ed25519 public key/],
    ['a secret key pasted in', `cache:\n  trusted-keys:\n    - ${generateKeyPair('ci-2').secretText}\n`, 3, /looks like a SECRET key/],
    ['substituters without trusted keys', 'cache:\n  substituters: [a.example.com/x]\n', 2, /no trusted-keys/],
    [
      'a key name listed twice',
      `cache:\n  trusted-keys:\n    - ${key}\n    - ${generateKeyPair('ci-1').public.text}\n`,
      4,
      /listed twice with different bytes/,
    ],
    ['a list that is a string', 'cache:\n  substituters: a.example.com/x\n', 2, /must be a list/],
    ['YAML syntax', 'cache:\n  substituters: [\n', undefined, /YAML/],
  ])('refuses %s, naming the line', (_what, text, line, message) => {
    try {
      parseCacheConfig(text, 'intact.yaml');
      expect.unreachable();
    } catch (e) {
      const err = e as IntactError;
      expect(err.code).toBe('CACHE_CONFIG');
      expect(err.file).toBe('intact.yaml');
      if (line !== undefined) expect(err.line).toBe(line);
      expect(err.message).toMatch(message);
      expect(err.hint).toBeTruthy();
    }
  });

  it('loads from the project folder', async () => {
    const { loadCacheConfig } = await import('../../src/cache/config.js');
    const d = await temp();
    expect((await loadCacheConfig(d)).file).toBeUndefined();
    await writeFile(join(d, 'intact.yaml'), `cache:\n  trusted-keys: [${key}]\n`);
    expect((await loadCacheConfig(d)).trustedKeys).toHaveLength(1);
  });
});
