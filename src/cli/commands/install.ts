// `intact install [NAME...]`: fetch and build the locked closure into the store
// and switch the project's profile (.intact/bin). The work is src/project/install.ts.
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { LIMITS_FLAG, openBuildSession, parsePlatform, parseSandboxMode } from '../build-context.js';
import type { Platform } from '../../platform.js';
import { defaultJobs } from '../fetch-context.js';
import { formatBytes } from '../progress.js';
import { checkRecipeNames } from '../recipe-names.js';

export function registerInstall(program: Command, ctx: CliContext): void {
  program
    .command('install')
    .description('fetch and build the locked recipes (or the named ones and what they need) and put their programs on .intact/bin')
    .argument('[names...]', 'recipes to install, with their dependency closure (default: all for this platform)')
    .option('--frozen', 'fail unless intact.lock is current (always so: install never writes the lock; CI=true implies it)', false)
    .option('--offline', 'use only the download cache', false)
    .option('--keep-failed', 'keep the build folder of a failed build and print its path', false)
    .option('--allow-mismatch', 'install an output that differs from the hash intact.lock records (for investigation)', false)
    .option('--sandbox <mode>', 'require | auto | off: how strict the build sandbox must be', parseSandboxMode, 'auto')
    .option('--platform <name>', 'build for this platform (cross-building from this machine); the profile is not switched', parsePlatform)
    .option('--no-substitute', 'build everything from source; do not ask the binary caches of intact.yaml')
    .option(...LIMITS_FLAG)
    .action(
      async (
        names: string[],
        opts: {
          offline: boolean;
          keepFailed: boolean;
          allowMismatch: boolean;
          sandbox: 'require' | 'auto' | 'off';
          substitute: boolean;
          limits?: string;
          platform?: Platform;
        },
      ) => {
        const started = Date.now();
        let fetched = 0;
        let fetchedBytes = 0;
        const { out, globals, project, progress, built, onEvent, store } = await openBuildSession(ctx, {
          ...opts,
          onFetchEvent: (e) => {
            if (e.type === 'done' && !e.cached) {
              fetched++;
              fetchedBytes += e.bytes;
            }
          },
        });
        await checkRecipeNames(project, names);
        const { install } = await import('../../project/install.js');
        const jobs = defaultJobs(globals, 'build');
        const say = (s: string): void => {
          if (out.json) out.out.write(`${JSON.stringify({ event: 'build', message: s })}\n`);
          else if (!out.quiet) out.err.write(`${s}\n`);
        };
        // The binary cache (docs/cache.md): only when intact.yaml lists substituters.
        const { installSubstitution } = await import('./cache.js');
        const substitution =
          opts.substitute && !opts.offline
            ? await installSubstitution({
                project,
                names,
                ...(opts.platform ? { platform: opts.platform } : {}),
                build: built.ctx,
                say,
                onEvent,
                signal: ctx.signal,
              })
            : undefined;
        let result;
        try {
          result = await install(project, {
            names,
            jobs,
            ...(opts.platform ? { platform: opts.platform } : {}),
            build: { ...built.ctx, ...(substitution ? { substitute: substitution.substitute } : {}) },
            allowMismatch: opts.allowMismatch,
            onEvent: (e) => {
              if (e.type === 'build-start') say(`build ${e.name}@${e.version}`);
              else if (e.type === 'build-done' && e.status === 'built') say(`built ${e.name} (${e.seconds.toFixed(1)} s)`);
              else if (e.type === 'build-done' && e.status === 'substituted') say(`substituted ${e.name} from the binary cache (${e.seconds.toFixed(1)} s)`);
              else if (e.type === 'build-fail') say(`failed ${e.name}`);
              else if (e.type === 'skip') say(`skip ${e.name}: ${e.reason}`);
            },
          });
        } finally {
          progress.stop();
          await substitution?.close();
        }
        const { storeSize } = await import('../../store/size.js');
        const size = await storeSize(store);
        const seconds = (Date.now() - started) / 1000;
        if (out.json) {
          out.document({
            ok: true,
            built: result.built,
            reused: result.reused,
            substituted: result.substituted,
            skipped: result.skipped,
            fetched,
            fetchedBytes,
            profile: result.profile,
            sandbox: built.sandbox()?.level ?? null,
            seconds,
            storeBytes: size,
          });
          return;
        }
        out.info(
          `installed ${result.built.length + result.reused.length + result.substituted.length} recipe(s) in ${seconds.toFixed(1)} s: ` +
            `${result.built.length} built, ${result.reused.length} reused, ${result.substituted.length > 0 ? `${result.substituted.length} substituted, ` : ''}${fetched} download(s) (${formatBytes(fetchedBytes)}); ` +
            `${built.sandbox() ? `sandbox ${built.sandbox()!.level}; ` : ''}store ${formatBytes(size)}`,
        );
        if (result.profile.length > 0) out.info(`on .intact/bin: ${result.profile.join(', ')}`);
      },
    );
}
