// `intact upgrade NAME VERSION`: move one recipe to another exact version, lock
// it, optionally build it, and print a summary for the merge request. The logic
// is src/upgrade/upgrade.ts; this wires the lock and build contexts and prints.
import type { Command } from 'commander';
import { IntactError } from '../../errors.js';
import { findProject } from '../../project/find.js';
import type { CliContext } from './context.js';
import { parseSandboxMode } from '../build-context.js';
import { defaultJobs, lockHelpers, makeFetchContext } from '../fetch-context.js';
import { isCi, progressFor } from '../progress.js';
import { checkRecipeNames } from '../recipe-names.js';

export function registerUpgrade(program: Command, ctx: CliContext): void {
  program
    .command('upgrade')
    .description('move a recipe to another exact version: edit it, lock it, and print a merge request summary')
    .argument('<name>', 'the recipe')
    .argument('<version>', 'the exact upstream version to move to')
    .option('--rev <commit>', 'git source: the full commit id of the new version (default: the commit of tag v<VERSION> or <VERSION>)')
    .option('--build', 'build it once it is locked (as `intact install NAME`)', false)
    .option('--force', 'run over uncommitted edits of the recipe, or outside a git repository', false)
    .option('--sandbox <mode>', 'with --build: require | auto | off', parseSandboxMode, 'auto')
    .addHelpText(
      'after',
      `
Edits recipes/NAME.yaml: its version, npm specs at that version, URLs, mirrors and
archive paths that contain it, and git revs (from --rev or the version's tag).
Recipes that depend on NAME@old are moved to NAME@new and locked again too;
nothing else in intact.lock changes. Every new pin is fetched and checked in a
temporary copy before recipe and lock are written, so a failure leaves both as
they were. Comments and layout of the recipe are kept.`,
    )
    .action(async (name: string, version: string, opts: { rev?: string; build: boolean; force: boolean; sandbox: 'require' | 'auto' | 'off' }) => {
      const out = ctx.output();
      const globals = ctx.globals();
      const project = await findProject(process.cwd());
      await checkRecipeNames(project, [name]);
      if (isCi(process.env)) {
        throw new IntactError('LOCK_REFUSED', 'CI=true: `intact upgrade` writes a recipe and intact.lock, which never happens in CI', {
          hint: 'run it on your machine and commit the result (an upgrade bot that means to write may unset CI for this command)',
        });
      }
      const progress = progressFor(out);
      const { ctx: fetch, store } = await makeFetchContext(project, globals, { offline: false, onEvent: progress.onEvent, signal: ctx.signal });
      const { hashMember, treeOf } = await lockHelpers(fetch);
      const { upgrade } = await import('../../upgrade/upgrade.js');
      const { upgradeSummary } = await import('../../upgrade/summary.js');
      const build = opts.build
        ? async (n: string) => {
            const { makeBuildContext } = await import('../build-context.js');
            const { install } = await import('../../project/install.js');
            const { hostPlatform } = await import('../../platform.js');
            const built = await makeBuildContext({ projectDir: project, store, fetch, mode: opts.sandbox, keepFailed: false, signal: ctx.signal });
            const r = await install(project, { names: [n], jobs: defaultJobs(globals, 'build'), build: built.ctx });
            const o = r.outcomes[n];
            return {
              platform: hostPlatform() ?? 'unknown',
              status: `${o?.status ?? 'skipped'}${built.sandbox() ? ` (sandbox ${built.sandbox()!.level})` : ''}`,
              ...(o?.meta?.output ? { output: o.meta.output } : {}),
            };
          }
        : undefined;
      let result;
      try {
        result = await upgrade(project, {
          name,
          version,
          force: opts.force,
          ...(opts.rev !== undefined ? { rev: opts.rev } : {}),
          lock: {
            fetch,
            jobs: defaultJobs(globals),
            hashMember,
            treeOf,
          },
          env: process.env,
          signal: ctx.signal,
          ...(build ? { build } : {}),
        });
      } finally {
        progress.stop();
      }
      if (!result.ok) {
        for (const f of result.findings) out.finding(f);
        out.err.write('upgrade refused: fix the recipes above first (nothing was written)\n');
        ctx.failed('LOCK_REFUSED');
        return;
      }
      const buildError = result.build && 'error' in result.build ? result.build.error : undefined;
      if (out.json) {
        out.document({
          ok: buildError === undefined,
          name: result.name,
          from: result.from,
          to: result.to,
          changes: result.changes,
          tags: result.tags,
          dependents: result.dependents,
          relocked: result.relocked,
          diff: result.report,
          findings: result.findings,
          build: buildError ? { error: { code: buildError.code, message: buildError.message } } : result.build,
        });
      } else {
        for (const f of result.findings) out.finding(f);
        out.info(upgradeSummary(result).trimEnd());
      }
      if (buildError) {
        if (!out.json) out.error(buildError);
        out.err.write(`${result.file} and intact.lock were written; the build failed: fix the recipe's build steps, then \`intact install ${name}\`\n`);
        ctx.failed('BUILD_FAILED');
      }
    });
}
