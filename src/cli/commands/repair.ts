// `intact repair [NAME...]`: rebuild or re-fetch what `verify --store` finds
// damaged, replacing each entry atomically. The work is src/project/repair.ts.
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { openBuildSession, parseSandboxMode } from '../build-context.js';
import { defaultJobs } from '../fetch-context.js';
import { checkStoreNames } from '../recipe-names.js';

export function registerRepair(program: Command, ctx: CliContext): void {
  program
    .command('repair')
    .description('rebuild damaged store entries (and fetch damaged downloads again), replacing each atomically')
    .argument('[names...]', 'recipes to check and repair (default: the whole store)')
    .option('--offline', 'use only the download cache', false)
    .option('--keep-failed', 'keep the build folder of a failed build and print its path', false)
    .option('--sandbox <mode>', 'require | auto | off: how strict the build sandbox must be', parseSandboxMode, 'auto')
    .addHelpText(
      'after',
      `
Per entry, the least that restores it: a fresh build swapped in for modified
content (only recipes of this project, at this lock); write bits dropped when
only the modes changed; the file manifest recorded again when only it is
missing. Entries this project's profile uses that are gone are built again.
Exit 0 when everything found was repaired, 1 otherwise.`,
    )
    .action(async (names: string[], opts: { offline: boolean; keepFailed: boolean; sandbox: 'require' | 'auto' | 'off' }) => {
      const { out, globals, project, progress, built, store } = await openBuildSession(ctx, opts);
      await checkStoreNames(project, store, names);
      const { repairStore } = await import('../../project/repair.js');
      let r;
      try {
        r = await repairStore(project, {
          names,
          jobs: defaultJobs(globals, 'build'),
          build: built.ctx,
          onEvent: (e) => {
            if (out.json || out.quiet) return;
            if (e.type === 'start') out.err.write(`${e.action === 'rebuilt' || e.action === 'built' ? 'building' : 'repairing'} ${e.label}\n`);
            else if (e.type === 'fail') out.err.write(`could not repair ${e.label}\n`);
          },
        });
      } finally {
        progress.stop();
      }
      if (out.json) {
        out.document({ ok: r.ok, found: r.before.findings, repaired: r.repaired, failed: r.failed, sandbox: built.sandbox()?.level ?? null });
      } else {
        for (const f of r.before.findings) out.debug(`found: [${f.code}] ${f.message}`);
        for (const x of r.repaired)
          out.info(
            `${x.action === 'cache-removed' ? 'removed' : x.action === 'manifest' ? 'recorded the manifest of' : x.action} ${x.label}${x.detail ? `: ${x.detail}` : ''}`,
          );
        for (const f of r.failed) out.finding(f);
        if (r.before.findings.length === 0) out.info('the store is whole: nothing to repair');
        else if (r.ok) out.info(`repaired ${r.repaired.length} item(s)`);
        else out.err.write(`repair incomplete: ${r.failed.length} item(s) could not be repaired\n`);
      }
      if (!r.ok) ctx.failed('STORE_REPAIR_FAILED');
    });
}
