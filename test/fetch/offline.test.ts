// Offline runs: every source the download cache lacks is named in one error (the
// recipe, the source and its pin), and the network is never touched: the sources
// point at a loopback server that counts every connection, and npm's
// configuration (the registry) is never even read.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntactError } from '../../src/errors.js';
import { DownloadCache } from '../../src/fetch/cache.js';
import { checkOffline, type NeededSource } from '../../src/fetch/offline.js';
import type { FetchContext } from '../../src/fetch/context.js';
import { fetchSource } from '../../src/fetch/source.js';
import { startServer, type TestServer } from '../helpers/http-server.js';
import { fakePin } from '../helpers/lock.js';
import { fastLimits } from '../helpers/memory-sink.js';

let dir: string;
let server: TestServer;
let npmAsked: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'intact-offline-'));
  server = await startServer(); // serves nothing: every path is a 404
  npmAsked = 0;
});
afterEach(async () => {
  await server.close();
  spawnSync('chmod', ['-R', 'u+w', dir]);
  await rm(dir, { recursive: true, force: true });
});

function context(offline: boolean): FetchContext {
  return {
    projectDir: dir,
    cache: new DownloadCache(join(dir, 'store')),
    limits: fastLimits({ retries: 0 }),
    npmConfig: () => {
      npmAsked++;
      return Promise.reject(new Error('an offline run read the npm configuration'));
    },
    env: {},
    offline,
  };
}

/** Two recipes, two sources each (every kind that would use the network), none in the cache. */
function twoRecipes(): NeededSource[] {
  return [
    { recipe: 'alpha', source: { url: server.url('/alpha-1.0.tar'), mirrors: [server.url('/mirror/alpha-1.0.tar')] }, integrity: fakePin('alpha:0') },
    { recipe: 'alpha', source: { git: server.url('/alpha.git'), rev: 'a'.repeat(40) }, integrity: fakePin('alpha:1') },
    { recipe: 'beta', source: { npm: 'beta@2.0.0' }, integrity: fakePin('beta:0') },
    { recipe: 'beta', source: { url: server.url('/beta-2.0.tar') }, integrity: fakePin('beta:1') },
  ];
}

async function rejection(p: Promise<unknown>): Promise<IntactError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(IntactError);
  return e as IntactError;
}

describe('checkOffline', () => {
  it('names every missing source of every recipe in one OFFLINE_MISSING, touching no network', async () => {
    const needed = twoRecipes();
    const e = await rejection(checkOffline(needed, context(true)));
    expect(e.code).toBe('OFFLINE_MISSING');
    const lines = e.message.split('\n');
    expect(lines[0]).toBe('offline: 4 sources cannot come from the download cache:');
    expect(lines.slice(1)).toEqual([
      `  alpha: git:${server.url('/alpha.git')}#${'a'.repeat(40)} (${fakePin('alpha:1')}) is not in the download cache`,
      `  alpha: ${server.url('/alpha-1.0.tar')} (${fakePin('alpha:0')}) is not in the download cache`,
      `  beta: ${server.url('/beta-2.0.tar')} (${fakePin('beta:1')}) is not in the download cache`,
      `  beta: npm:beta@2.0.0 (${fakePin('beta:0')}) is not in the download cache`,
    ]);
    expect(e.hint).toMatch(/^run once with the network \(`intact fetch`\)/);
    expect(server.total()).toEqual({ requests: 0, connections: 0 });
    expect(npmAsked).toBe(0);
  });

  it('fetchSource offline then fails without the network too, source by source', async () => {
    const ctx = context(true);
    for (const n of twoRecipes()) {
      const e = await rejection(fetchSource(n.source, n.integrity === undefined ? undefined : { integrity: n.integrity }, ctx));
      expect(e.code).toBe('OFFLINE_MISSING');
    }
    expect(server.total()).toEqual({ requests: 0, connections: 0 });
    expect(npmAsked).toBe(0);
  });

  it('skips what the cache holds and repository files; names an unpinned source; one miss is one line with its URL', async () => {
    const ctx = context(true);
    const held = await ctx.cache.ingest({ what: 'held' }, async (sink) => sink.write(Buffer.from('held bytes')));
    const e = await rejection(
      checkOffline(
        [
          { recipe: 'alpha', source: { url: server.url('/held.tar') }, integrity: held.integrity },
          { recipe: 'alpha', source: { file: 'vendor/a.tar' }, integrity: undefined },
          { recipe: 'beta', source: { npm: 'beta@2.0.0' }, integrity: undefined },
          { recipe: 'beta', source: { npm: 'beta@2.0.0' }, integrity: undefined },
        ],
        ctx,
      ),
    );
    expect(e.code).toBe('OFFLINE_MISSING');
    expect(e.message).toBe('offline: beta: npm:beta@2.0.0 is not pinned yet, so it cannot come from the cache');
    expect(e.url).toBe('npm:beta@2.0.0');
    await expect(checkOffline([{ recipe: 'alpha', source: { url: server.url('/held.tar') }, integrity: held.integrity }], ctx)).resolves.toBeUndefined();
    expect(server.total().connections).toBe(0);
  });

  it('lists a source two recipes share under each of them', async () => {
    const shared = { npm: 'sqlite@3.0.0' };
    const e = await rejection(
      checkOffline(
        [
          { recipe: 'sqlite', source: shared, integrity: fakePin('s') },
          { recipe: 'libsqlite3', source: shared, integrity: fakePin('s') },
        ],
        context(true),
      ),
    );
    expect(
      e.message
        .split('\n')
        .slice(1)
        .map((l) => l.split(':')[0]),
    ).toEqual(['  libsqlite3', '  sqlite']);
  });

  it('online, has nothing to check (and the counting server does see an online fetch)', async () => {
    const ctx = context(false);
    await expect(checkOffline(twoRecipes(), ctx)).resolves.toBeUndefined();
    expect(server.total().connections).toBe(0);
    const [first] = twoRecipes();
    await rejection(fetchSource(first!.source, first!.integrity === undefined ? undefined : { integrity: first!.integrity }, ctx));
    expect(server.total().requests).toBeGreaterThan(0);
  });
});

describe('fetchSource, offline', () => {
  it('names a cache entry found damaged when it is read', async () => {
    const ctx = context(true);
    const pin = fakePin('damaged');
    const file = ctx.cache.pathFor(pin);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, 'not the pinned bytes');
    const e = await rejection(fetchSource({ url: server.url('/damaged.tar') }, { integrity: pin }, ctx));
    expect(e.code).toBe('OFFLINE_MISSING');
    expect(e.message).toBe(`offline: ${server.url('/damaged.tar')} (${pin}) is damaged in the download cache`);
    expect(e.url).toBe(server.url('/damaged.tar'));
    expect(server.total().connections).toBe(0);
  });
});
