// The suite's set-up step: the outside programs tests need, brought in the way
// intact brings any dependency (pinned, verified, in user space), never with a
// package manager as root. test/fixtures/toolchain/ is an intact project whose
// lock pins them:
// - busybox: Debian's static busybox, the shell and tools of fixture builds;
// - inspect: a small static program the sandbox tests run inside a build, built
//   from test/fixtures/toolchain/src/inspect.c with the pinned Zig;
// - docker-registry: the CNCF distribution registry for the binary cache's
//   tests. It needs the host's glibc, so it can never be a store entry; it is
//   fetched and verified through intact, then unpacked into the cache.
// They live in a per-user cache (INTACT_TEST_CACHE, else
// $XDG_CACHE_HOME/intact-test, else ~/.cache/intact-test), filled once, like
// `npm ci` fills npm's cache: the first run reaches the npm registry and the
// Debian archive the user configured (npm's and apt's configuration, or
// INTACT_DEB_SOURCES); later runs are offline.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(REPO, 'test/fixtures/toolchain');
const CLI = join(REPO, 'bin/intact.js');

export interface FixtureTools {
  /** The per-user cache everything below lives in. */
  cache: string;
  /** A static busybox. */
  busybox: string;
  /** The static `inspect` program. */
  inspect: string;
  /** docker-registry, when this host can run it. */
  registry?: string;
  /** Why the registry tests are skipped, when they are. */
  registrySkip?: string;
  /** Why the tests of the full sandbox are skipped (no unprivileged user namespaces), when they are. */
  sandboxSkip?: string;
}

export function testCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['INTACT_TEST_CACHE']) return env['INTACT_TEST_CACHE'];
  const base = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  return join(base, 'intact-test');
}

export async function fixtureTools(): Promise<FixtureTools> {
  const cache = testCacheDir();
  const project = join(cache, 'toolchain');
  const store = join(cache, 'store');
  mkdirSync(join(project, 'recipes'), { recursive: true });
  mkdirSync(join(project, 'src'), { recursive: true });
  // The project is the repository's fixture project, copied: the cache may be
  // shared by several checkouts, and intact writes its profile beside the lock.
  const wanted = new Set<string>();
  for (const rel of ['intact.lock', 'src/inspect.c', ...readdirSync(join(FIXTURES, 'recipes')).map((n) => `recipes/${n}`)]) {
    wanted.add(rel);
    const text = readFileSync(join(FIXTURES, rel));
    const to = join(project, rel);
    if (!existsSync(to) || !readFileSync(to).equals(text)) writeFileSync(to, text);
  }
  for (const n of readdirSync(join(project, 'recipes'))) if (!wanted.has(`recipes/${n}`)) rmSync(join(project, 'recipes', n));

  // Offline first: with a warm cache the suite reaches no network at all.
  await intact(project, ['--store', store, 'install', '--offline', 'busybox', 'inspect'], cache).catch(() =>
    intact(project, ['--store', store, 'install', 'busybox', 'inspect'], cache),
  );
  const bin = (name: string) => realpathSync(join(project, '.intact/bin', name));
  const tools: FixtureTools = { cache, busybox: bin('busybox'), inspect: bin('inspect') };
  try {
    tools.registry = await registryBinary(project, store, cache);
    await runs(tools.registry, ['--version']);
  } catch (e) {
    delete tools.registry;
    tools.registrySkip = `docker-registry cannot run here (${(e as Error).message.split('\n')[0]}): it is linked against glibc`;
  }
  const { probeSandbox } = await import('../../src/build/sandbox/index.js');
  const probe = await probeSandbox();
  if (probe.level !== 'full') tools.sandboxSkip = `the full sandbox is not available here (${probe.reasons.join('; ') || probe.level})`;
  return tools;
}

/** Fetches docker-registry's .deb through intact and unpacks it beside the store, once. */
async function registryBinary(project: string, store: string, cache: string): Promise<string> {
  await intact(project, ['--store', store, 'fetch', '--offline', 'docker-registry'], cache).catch(() =>
    intact(project, ['--store', store, 'fetch', 'docker-registry'], cache),
  );
  const lock = JSON.parse(readFileSync(join(project, 'intact.lock'), 'utf8')) as { recipes: Record<string, { sources: { integrity: string }[] }> };
  const integrity = lock.recipes['docker-registry']!.sources[0]!.integrity;
  const id = Buffer.from(integrity.slice(integrity.indexOf('-') + 1), 'base64')
    .toString('hex')
    .slice(0, 16);
  const dest = join(cache, `docker-registry-${id}`);
  const exe = join(dest, 'usr/bin/docker-registry');
  if (existsSync(exe)) return exe;
  const { DownloadCache } = await import('../../src/fetch/cache.js');
  const { extract } = await import('../../src/fetch/extract/index.js');
  const file = new DownloadCache(store).pathFor(integrity);
  const tmp = `${dest}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  await extract(file, tmp, { expect: 'deb', name: 'deb:docker-registry' });
  try {
    renameSync(tmp, dest);
  } catch {
    // Another run unpacked the same bytes first.
    rmSync(tmp, { recursive: true, force: true });
  }
  return exe;
}

function intact(cwd: string, args: string[], cache: string): Promise<void> {
  return new Promise((ok, fail) => {
    const log = join(cache, 'setup.log');
    let out = '';
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      writeFileSync(log, out);
      if (code === 0) ok();
      else
        fail(
          new Error(
            `the test set-up could not bring its fixture tools: \`intact ${args.join(' ')}\` in ${cwd} exited ${code}:\n${out.slice(-3000)}\n` +
              "It needs the npm registry and a Debian archive once per user cache (npm's and apt's configuration, or INTACT_DEB_SOURCES); see README.md.",
          ),
        );
    });
  });
}

function runs(exe: string, args: string[]): Promise<void> {
  return new Promise((ok, fail) => execFile(exe, args, { timeout: 10_000 }, (e) => (e ? fail(e) : ok())));
}

/**
 * A copy of a fixture program that every user can run (the cache may be under
 * a home folder that uid 65534 cannot enter), made once per content.
 */
export function sharedCopy(file: string, dir: string, name: string): string {
  const target = join(dir, name);
  if (existsSync(target)) return target;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const tmp = `${target}.${process.pid}.tmp`;
  copyFileSync(file, tmp);
  chmodSync(tmp, 0o755);
  renameSync(tmp, target);
  return target;
}
