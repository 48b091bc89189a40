// Building the fetch context a command needs from the global options: the store,
// its download cache, the npm configuration (loaded on first use), limits and
// the progress display.
import { availableParallelism } from 'node:os';
import type { FetchContext } from '../fetch/context.js';
import type { NpmConfig } from '../fetch/npmrc.js';
import { pinLabel, type LockedSource } from '../lock/types.js';
import type { Source } from '../recipe/types.js';
import { resolveStore, type StoreLayout } from '../store/paths.js';
import type { GlobalOptions } from './output.js';

/**
 * --jobs, or a default: downloads are network-bound (a few more than the cores,
 * not many); builds are CPU-bound (the cores).
 */
export function defaultJobs(globals: GlobalOptions, kind: 'fetch' | 'build' = 'fetch'): number {
  if (globals.jobs !== undefined) return globals.jobs;
  return kind === 'build' ? availableParallelism() : Math.min(8, Math.max(4, availableParallelism()));
}

/** Async so that commands load the fetch layer only when they run (CLI start-up cost). */
export async function makeFetchContext(
  projectDir: string,
  globals: GlobalOptions,
  opts: { offline: boolean; onEvent?: FetchContext['onEvent']; signal?: AbortSignal; readOnly?: boolean },
): Promise<{ ctx: FetchContext; store: StoreLayout }> {
  const [{ DownloadCache }, { DEFAULT_LIMITS }, { sweepStore }] = await Promise.all([
    import('../fetch/cache.js'),
    import('../fetch/types.js'),
    import('../store/leftovers.js'),
  ]);
  const store = resolveStore(projectDir, globals.store);
  // Every run that fetches or builds first removes what a killed run left;
  // `verify` only reads, and reports them instead.
  if (!opts.readOnly) await sweepStore(store);
  let npm: Promise<NpmConfig> | undefined;
  const ctx: FetchContext = {
    projectDir,
    cache: new DownloadCache(store.root),
    limits: DEFAULT_LIMITS,
    npmConfig: () => {
      npm ??= import('../fetch/npm-cli.js').then((m) => m.loadNpmConfigWithFallback({ cwd: projectDir, env: process.env }));
      return npm;
    },
    env: process.env,
    offline: opts.offline,
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  return { ctx, store };
}

/**
 * What `intact lock` needs from the fetch layer beside fetching (add and upgrade
 * lock too): nested-archive hashes and unpacked-tree hashes, in the download
 * cache's temporary folder.
 */
export async function lockHelpers(fetch: FetchContext): Promise<{
  hashMember: (file: string, member: string, o: { algorithm: string; what: string }) => Promise<string>;
  treeOf: (file: string, source: Source, pin: LockedSource) => Promise<string>;
}> {
  const [{ hashMember }, { unpackedTree }] = await Promise.all([import('../fetch/member.js'), import('../fetch/unpack-tree.js')]);
  return {
    hashMember: (file, member, o) => hashMember(file, member, { ...o, tmpDir: fetch.cache.tmpDir }),
    treeOf: (file, source, pin) => unpackedTree(file, source, fetch.cache.tmpDir, pin.archiveIntegrity, pinLabel(pin)),
  };
}
