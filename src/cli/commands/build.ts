// `intact build NAME`: a fresh build of one recipe, compared with the store.
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { LIMITS_FLAG, openBuildSession, parsePlatform, parseSandboxMode } from '../build-context.js';
import type { Platform } from '../../platform.js';
import { defaultJobs } from '../fetch-context.js';
import { checkRecipeNames } from '../recipe-names.js';

export function registerBuild(program: Command, ctx: CliContext): void {
  program
    .command('build')
    .description("build one recipe in a fresh folder, even when present, and say whether it equals the store's entry")
    .argument('<name>', 'recipe name')
    .option('--keep-failed', 'keep the build folder of a failed build and print its path', false)
    .option('--offline', 'use only the download cache', false)
    .option('--sandbox <mode>', 'require | auto | off', parseSandboxMode, 'auto')
    .option('--platform <name>', 'build for this platform (cross-building from this machine)', parsePlatform)
    .option(...LIMITS_FLAG)
    .action(
      async (name: string, opts: { keepFailed: boolean; offline: boolean; sandbox: 'require' | 'auto' | 'off'; platform?: Platform; limits?: string }) => {
        const { out, globals, project, progress, built } = await openBuildSession(ctx, opts);
        await checkRecipeNames(project, [name]);
        const { rebuild } = await import('../../project/rebuild.js');
        let r;
        try {
          r = await rebuild(project, name, built.ctx, defaultJobs(globals, 'build'), opts.platform);
        } finally {
          progress.stop();
        }
        const sameStore = r.store === undefined ? undefined : r.store === r.output;
        const sameLock = r.locked === undefined ? undefined : r.locked === r.output;
        if (out.json) {
          out.document({ ok: sameStore !== false && sameLock !== false, ...r, sandbox: built.sandbox()?.level, sameAsStore: sameStore, sameAsLock: sameLock });
        } else {
          out.info(`${name}: output ${r.output} (sandbox ${built.sandbox()?.level ?? 'none'})`);
          if (r.added) out.info('  added to the store (it was not there)');
          if (sameStore === true) out.info("  identical to the store's entry");
          if (sameStore === false) out.info(`  DIFFERS from the store's entry (${r.store})`);
          if (sameLock === true) out.info('  identical to the output recorded in intact.lock');
          if (sameLock === false) out.info(`  DIFFERS from the output recorded in intact.lock (${r.locked})`);
        }
        if (sameStore === false) ctx.failed('NOT_REPRODUCIBLE');
        if (sameLock === false) ctx.failed('OUTPUT_MISMATCH');
      },
    );
}
