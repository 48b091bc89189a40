// `intact fetch [NAME...]`: fill the download cache from the lock alone. It never
// reads recipes for pins and never writes the lock.
import type { Command } from 'commander';
import { findProject } from '../../project/find.js';
import type { CliContext } from './context.js';
import { defaultJobs, makeFetchContext } from '../fetch-context.js';
import { progressFor } from '../progress.js';
import { checkRecipeNames } from '../recipe-names.js';

export function registerFetch(program: Command, ctx: CliContext): void {
  program
    .command('fetch')
    .description("download every locked source (of the named recipes and what they need) into the store's cache, verified")
    .argument('[names...]', 'recipes to fetch, with their dependency closure (default: all)')
    .option('--offline', 'check that the cache holds everything, without the network', false)
    .option('--all-platforms', "fetch the sources of every platform in the lock, not only this machine's", false)
    .action(async (names: string[], opts: { offline: boolean; allPlatforms: boolean }) => {
      const out = ctx.output();
      const globals = ctx.globals();
      const project = await findProject(process.cwd());
      await checkRecipeNames(project, names);
      const progress = progressFor(out);
      const { ctx: fetch } = await makeFetchContext(project, globals, { offline: opts.offline, onEvent: progress.onEvent, signal: ctx.signal });
      const { fetchLocked } = await import('../../lock/fetch-locked.js');
      let r;
      try {
        r = await fetchLocked(project, { names, fetch, jobs: defaultJobs(globals), allPlatforms: opts.allPlatforms });
      } finally {
        progress.stop();
      }
      if (out.json) out.document({ ok: true, ...r });
      else out.info(`${r.sources} source(s) verified in the cache (${r.fetched} fetched, ${r.cached} already there)`);
    });
}
