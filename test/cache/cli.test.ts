// The binary cache end to end through the CLI and a real registry: keys, push
// from one store, install into an empty one with no build at all, pull, and the
// secret key never showing up in the repository or in any output.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixtureProject } from '../helpers/fixture-project.js';
import { cleanupProjects } from '../helpers/project.js';
import { describeWithRegistry, registrySkip, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runIntact } from '../helpers/registry-run.js';
import { buildLogs, HELLO, writeCacheYaml } from '../helpers/registry-project.js';

const exec = promisify(execFile);

let reg: TestRegistry;
let config: string;
let publicKey: string;
let secretFile: string;
let source: string;

const env = () => ({ XDG_CONFIG_HOME: config, CI: undefined });

const cacheYaml = (dir: string, ref: string, trusted: string[] = [publicKey]) => writeCacheYaml(dir, ref, trusted);
const logsOf = buildLogs;

beforeAll(async () => {
  if (registrySkip() !== undefined) return;
  reg = await startRegistry();
  config = await mkdtemp(join(tmpdir(), 'intact-keys-'));
  source = await fixtureProject({ hello: HELLO });
  const gen = await runIntact(['key', 'generate', '--name', 'ci.test-1'], { cwd: source, env: env() });
  expect(gen.stderr).not.toMatch(/error/);
  expect(gen.code).toBe(0);
  publicKey = gen.stdout.trim();
  secretFile = join(config, 'intact/keys/ci.test-1.secret');
  await cacheYaml(source, reg.ref('team/intact'));
  const inst = await runIntact(['install'], { cwd: source, env: env() });
  expect(inst.code).toBe(0);
  const push = await runIntact(['cache', 'push', reg.ref('team/intact')], { cwd: source, env: env() });
  expect(push.stderr).toBe('');
  expect(push.code).toBe(0);
  expect(push.stdout).toMatch(/2 pushed, 0 present, 0 skipped; signed by ci\.test-1/);
}, 60_000);

afterAll(async () => {
  await cleanupProjects();
  await reg?.stop();
  await rm(config, { recursive: true, force: true });
});

describeWithRegistry('intact key generate', () => {
  it('writes the secret key 0600 outside the repository and prints only the public key', async () => {
    expect(publicKey).toMatch(/^ci\.test-1:[A-Za-z0-9+/]{43}=$/);
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);
    const secret = (await readFile(secretFile, 'utf8')).trim();
    expect(secret).toMatch(/^ci\.test-1:[A-Za-z0-9+/]{86}==$/);
    const again = await runIntact(['key', 'generate', '--name', 'ci.test-1'], { cwd: source, env: env() });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('KEY_EXISTS');
  });

  it('key public prints the public half of the signing key, found as push finds it', async () => {
    const r = await runIntact(['key', 'public'], { cwd: source, env: { ...env(), INTACT_SIGNING_KEY_FILE: secretFile } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${publicKey}\n`);
  });

  it('refuses to write a secret key inside the project', async () => {
    const r = await runIntact(['key', 'generate', '--name', 'x-1', '--out', join(source, 'keys/x.secret')], { cwd: source, env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('KEY_FILE');
    await expect(stat(join(source, 'keys/x.secret'))).rejects.toThrow();
  });

  it('never lets the secret key into the repository or any output', async () => {
    const secret = (await readFile(secretFile, 'utf8')).trim();
    const b64 = secret.split(':')[1]!;
    const seed = Buffer.from(b64, 'base64').subarray(0, 32);
    const needles = [b64, seed.toString('base64'), seed.toString('hex'), seed.toString('base64url')];
    const outputs: string[] = [];
    for (const args of [
      ['cache', 'push', reg.ref('team/intact')],
      ['cache', 'push', reg.ref('team/intact'), '--verbose'],
      ['--json', 'cache', 'push', reg.ref('team/other')],
    ]) {
      const r = await runIntact(args, { cwd: source, env: env() });
      expect(r.code).toBe(0);
      outputs.push(r.stdout, r.stderr);
    }
    const bad = await runIntact(['cache', 'push', reg.ref('team/intact'), '--key', join(config, 'nope')], {
      cwd: source,
      env: { ...env(), INTACT_SIGNING_KEY: `${secret.slice(0, -4)}AAA=` },
    });
    outputs.push(bad.stdout, bad.stderr);
    for (const o of outputs) for (const n of needles) expect(o).not.toContain(n);
    // The repository (the project folder, store included) holds it nowhere.
    const { stdout } = await exec('grep', ['-rIl', '-e', needles[0]!, '-e', needles[1]!, '-e', needles[2]!, source]).catch((e: { stdout: string }) => ({
      stdout: e.stdout,
    }));
    expect(stdout).toBe('');
  });
});

describeWithRegistry('substitution in intact install', () => {
  it('installs into an empty store from the registry with no build at all', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    await cacheYaml(dir, reg.ref('team/intact'));
    const r = await runIntact(['--json', 'install'], { cwd: dir, env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(doc.built).toEqual([]);
    expect(doc.substituted.sort()).toEqual(['bb', 'hello']);
    // No build ran: no build log, no build folder; the entries say where they came from.
    expect(await logsOf(dir)).toEqual([]);
    expect((await readdir(join(dir, 'store/tmp'))).filter((e) => !e.startsWith('.'))).toEqual([]);
    for (const f of (await readdir(join(dir, 'store/meta'))).filter((f) => f.endsWith('.json'))) {
      expect(JSON.parse(await readFile(join(dir, 'store/meta', f), 'utf8')).origin).toBe('substituted');
    }
    const { stdout } = await exec(join(dir, '.intact/bin/hello'), [], { env: { PATH: join(dir, '.intact/bin') } });
    expect(stdout).toBe('hello from the cache\n');
    // Same entries, same content as the source store.
    const names = async (d: string) => (await readdir(join(d, 'store'))).filter((e) => /^[0-9a-z]{32}-/.test(e)).sort();
    expect(await names(dir)).toEqual(await names(source));
  });

  it('says "substituted", never "build", for what came from the cache', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    await cacheYaml(dir, reg.ref('team/intact'));
    const r = await runIntact(['install'], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^substituted hello from the binary cache/m);
    expect(r.stderr).not.toMatch(/^build /m);
  });

  it('--no-substitute builds from source', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    await cacheYaml(dir, reg.ref('team/intact'));
    const r = await runIntact(['install', '--no-substitute'], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 built, 0 reused/);
    expect((await logsOf(dir)).length).toBe(2);
  });

  it('an untrusted signer: one line says why, and install builds', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    await cacheYaml(dir, reg.ref('team/intact'), ['someone-else-1:' + Buffer.alloc(32, 7).toString('base64')]);
    const r = await runIntact(['install'], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 built/);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('cache: '));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/not substituted, building it from source: untrusted: .*signed by ci\.test-1, which cache\.trusted-keys does not list/);
    expect(r.stderr).toMatch(/^build hello@1\.0\.0$/m);
  });

  it('a missing entry falls back to building, naming the registry', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    await cacheYaml(dir, reg.ref('team/empty'));
    const r = await runIntact(['install'], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 built/);
    expect(r.stderr).toMatch(
      /cache: hello@1\.0\.0 not substituted, building it from source: missing: no artifact tagged \w+ in http:\/\/127\.0\.0\.1:\d+\/team\/empty\n/,
    );
  });
});

describeWithRegistry('intact cache pull', () => {
  it('fills the store without building, and says when something is not there', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    await cacheYaml(dir, reg.ref('team/intact'));
    const r = await runIntact(['cache', 'pull'], { cwd: dir, env: env() });
    expect(r.stderr).not.toMatch(/error|not pulled/);
    expect(r.stderr).toMatch(/fetched hello@1\.0\.0 from http:\/\/127\.0\.0\.1:\d+\/team\/intact/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 pulled, 0 already present, 0 not available/);
    expect(await logsOf(dir)).toEqual([]);
    const again = await runIntact(['cache', 'pull', 'hello'], { cwd: dir, env: env() });
    expect(again.stdout).toMatch(/0 pulled, 2 already present/);

    const other = await fixtureProject({ hello: HELLO });
    await cacheYaml(other, reg.ref('team/intact'));
    const empty = await runIntact(['cache', 'pull', reg.ref('team/nothing-here')], { cwd: other, env: env() });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('CACHE_INCOMPLETE');
    expect(empty.stderr).toMatch(/not pulled bb@1\.36\.0: .*missing/);
  });
});

describeWithRegistry('intact cache push', () => {
  it('two pushers of the same entries at once both succeed, and the result installs', async () => {
    const repo = reg.ref('team/race');
    const [a, b] = await Promise.all([
      runIntact(['cache', 'push', repo], { cwd: source, env: env() }),
      runIntact(['cache', 'push', repo], { cwd: source, env: env() }),
    ]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const dir = await fixtureProject({ hello: HELLO });
    await cacheYaml(dir, repo);
    const r = await runIntact(['install'], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0 built, 0 reused, 2 substituted/);
  });

  it('a second push uploads nothing', async () => {
    const r = await runIntact(['cache', 'push', reg.ref('team/intact'), 'hello'], { cwd: source, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0 pushed, 2 present/);
  });

  it('refuses to push what is not built, and a plain-http registry off loopback', async () => {
    const dir = await fixtureProject({ hello: HELLO });
    const r = await runIntact(['cache', 'push', reg.ref('team/intact')], { cwd: dir, env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CACHE_NOT_BUILT');
    const insecure = await runIntact(['cache', 'push', 'http://registry.example.invalid/team/intact'], { cwd: dir, env: env() });
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).toContain('CACHE_REF_INVALID');
    expect(insecure.stderr).toContain('insecure-registries');
  });
});
