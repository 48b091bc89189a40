// `intact lock [NAME...]`: pin the sources of new or changed recipes (or of the
// named ones) in intact.lock. The logic is src/lock/relock.ts; this prints.
import type { Command } from 'commander';
import { findProject } from '../../project/find.js';
import type { CliContext } from './context.js';
import { defaultJobs, lockHelpers, makeFetchContext } from '../fetch-context.js';
import { isCi, progressFor } from '../progress.js';
import { parseSandboxMode } from '../build-context.js';
import { checkRecipeNames } from '../recipe-names.js';

export function registerLock(program: Command, ctx: CliContext): void {
  program
    .command('lock')
    .description('pin the sources of new or changed recipes (or of the named ones) in intact.lock')
    .argument('[names...]', 'recipes to lock again, fetching their sources and checking them against their pins')
    .option('--offline', 'use only the download cache; fail naming each source it lacks', false)
    .option('--dry-run', 'show what would change, write nothing', false)
    .option('--outputs', 'also build (or reuse) each recipe for this platform and record its output hash', false)
    .option('--sandbox <mode>', 'with --outputs: require | auto | off', parseSandboxMode, 'auto')
    .addHelpText(
      'after',
      `
Versions come only from recipes: lock never chooses or updates a version, and
never changes a pin that is still valid. It writes intact.lock atomically and
prints what changed. With CI=true it refuses to write (the lock must be
committed); use --dry-run there to see what is missing.`,
    )
    .action(async (names: string[], opts: { offline: boolean; dryRun: boolean; outputs: boolean; sandbox: 'require' | 'auto' | 'off' }) => {
      const out = ctx.output();
      const globals = ctx.globals();
      const project = await findProject(process.cwd());
      await checkRecipeNames(project, names);
      const progress = progressFor(out);
      const { ctx: fetch } = await makeFetchContext(project, globals, { offline: opts.offline, onEvent: progress.onEvent, signal: ctx.signal });
      const { relock } = await import('../../lock/relock.js');
      const { hashMember, treeOf } = await lockHelpers(fetch);
      const frozen = isCi(process.env) && !opts.dryRun;
      let result;
      try {
        result = await relock(project, {
          ...(names.length > 0 ? { names } : {}),
          fetch,
          jobs: defaultJobs(globals),
          hashMember,
          treeOf,
          dryRun: opts.dryRun || frozen,
        });
      } finally {
        progress.stop();
      }
      for (const f of result.findings) out.finding(f);
      if (result.findings.some((f) => f.severity === 'error')) {
        // --json promises one document on stdout, failures included.
        if (out.json) out.document({ ok: false, written: false, changes: [], findings: result.findings });
        else out.err.write('lock refused: fix the recipes above first (nothing was written)\n');
        ctx.failed('LOCK_REFUSED');
        return;
      }
      if (frozen && result.changes.length > 0) {
        for (const c of result.changes)
          out.err.write(`would ${c.change === 'added' ? 'add' : c.change === 'removed' ? 'remove' : 'update'} ${c.details.join('; ')}\n`);
        const { IntactError } = await import('../../errors.js');
        const names = result.changes.map((c) => c.name).join(', ');
        throw new IntactError('NOT_LOCKED', `intact.lock is not up to date for ${names}, and CI=true forbids writing it`, {
          file: 'intact.lock',
          hint: 'run `intact lock` on your machine and commit intact.lock',
        });
      }
      let outputs: { changes: { name: string; before?: string; after: string }[]; written: boolean } | undefined;
      if (opts.outputs) {
        const { makeBuildContext } = await import('../build-context.js');
        const { recordOutputs } = await import('../../project/record-outputs.js');
        const store = (await import('../../store/paths.js')).resolveStore(project, globals.store);
        const built = await makeBuildContext({ projectDir: project, store, fetch, mode: opts.sandbox, keepFailed: false, signal: ctx.signal });
        outputs = await recordOutputs(project, names, built.ctx, defaultJobs(globals, 'build'), !(opts.dryRun || frozen));
        if (frozen && outputs.changes.length > 0) {
          const { IntactError } = await import('../../errors.js');
          throw new IntactError(
            'NOT_LOCKED',
            `intact.lock does not record the current outputs of ${outputs.changes.map((c) => c.name).join(', ')}, and CI=true forbids writing it`,
            {
              file: 'intact.lock',
              hint: 'run `intact lock --outputs` on your machine and commit intact.lock',
            },
          );
        }
      }
      if (out.json) {
        out.document({
          ok: true,
          written: result.written || (outputs?.written ?? false),
          changes: result.changes,
          ...(outputs ? { outputs: outputs.changes } : {}),
        });
        return;
      }
      for (const c of outputs?.changes ?? [])
        out.info(`${opts.dryRun ? 'would record' : 'recorded'} output of ${c.name}: ${c.before ? `${c.before} -> ` : ''}${c.after}`);
      for (const c of result.changes) {
        const verb = opts.dryRun ? `would ${c.change === 'added' ? 'add' : c.change === 'removed' ? 'remove' : 'update'}` : c.change;
        out.info(`${verb} ${c.name}`);
        for (const d of c.details) out.info(`  ${d}`);
      }
      const same = result.changes.length === 0 && (outputs?.changes.length ?? 0) === 0;
      // Same pins, new format: an older lockfileVersion is rewritten as the current one.
      if (same && result.written) out.info('rewrote intact.lock in the current format (same pins)');
      else if (same) out.info('intact.lock is up to date');
      else if (result.written) out.info('wrote intact.lock');
    });
}
