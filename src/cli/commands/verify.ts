// `intact verify`: the CI gate. Without flags, the static checks of recipes and
// lock; --fetch downloads every source again from every location; --rebuild
// builds again under varied conditions; --store re-hashes the store's entries.
// The checks live in src/lock/verify.ts, src/verify/ and src/store/; this prints.
import type { Command } from 'commander';
import { exitStatusOf, IntactError, type Finding } from '../../errors.js';
import { findProject } from '../../project/find.js';
import type { CliContext } from './context.js';
import { parsePlatform, parseSandboxMode } from '../build-context.js';
import type { Platform } from '../../platform.js';
import { checkRecipeNames, checkStoreNames, projectRecipes } from '../recipe-names.js';

interface VerifyOptions {
  fetch: boolean;
  rebuild: boolean;
  platform?: Platform;
  storeCheck: boolean;
  junit?: string;
  compareContent: boolean;
  sandbox: 'require' | 'auto' | 'off';
}

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('prove that recipes and lock are whole, exact and pinned; with flags, that sources, builds and the store still are')
    .argument('[names...]', 'with --fetch, --rebuild or --store: only these recipes (and what they need)')
    .option('--fetch', 'download every source again from every location (all mirrors) and check it against its pin', false)
    .option(
      '--compare-content',
      'with --fetch: unpack bytes that no longer match their pin (outside the store, under the archive caps) to tell a regenerated archive from changed content',
      false,
    )
    .option('--rebuild', 'build each recipe again under varied conditions and compare with the store and the lock', false)
    .option('--store-check', 're-hash every store entry against its recorded output (spelled --store after `verify`)', false)
    .option('--junit <file>', 'also write a JUnit XML report (one test case per recipe and check)')
    .option('--sandbox <mode>', 'with --rebuild: require | auto | off', parseSandboxMode, 'auto')
    .option('--platform <name>', 'with --rebuild: build for this platform (cross-building from this machine)', parsePlatform)
    .addHelpText(
      'after',
      `
Static checks (always): every recipe parses and validates; no floating versions;
the lock exists, parses, has an entry for every recipe and none extra; each
entry matches its recipe; every source is pinned by a strong hash; every
dependency exists at its exact version; no cycles.
  --store      after \`verify\`, the store check (the global --store DIR goes
               before the command, or in INTACT_STORE)
Exit 0 when clean, 1 on findings, 2 on unusable input. Never writes the lock.`,
    )
    .action(async (names: string[], opts: VerifyOptions) => {
      const out = ctx.output();
      const globals = ctx.globals();
      const project = await findProject(process.cwd());
      // Names are checked before any work. --store alone also takes entries of the
      // store (name@version, folders, keys, a shared store's other projects).
      if (opts.storeCheck && !opts.fetch && !opts.rebuild) {
        const { resolveStore } = await import('../../store/paths.js');
        await checkStoreNames(project, resolveStore(project, globals.store), names);
      } else {
        await checkRecipeNames(project, names);
      }
      // The static check is a whole-project gate; names would be silently ignored.
      if (names.length > 0 && !opts.fetch && !opts.rebuild && !opts.storeCheck) {
        throw new IntactError(
          'USAGE',
          `\`intact verify\` checks the whole project; the names ${names.join(', ')} only apply with --fetch, --rebuild or --store`,
          {
            hint: `e.g. \`intact verify --fetch ${names.join(' ')}\`, or \`intact verify\` alone for the static gate`,
          },
        );
      }
      const { verifyStatic } = await import('../../lock/index.js');
      const report = await verifyStatic(project);
      const findings: Finding[] = [...report.findings];
      // JUnit cases only when a report is asked for (start-up cost of the plain gate).
      const junit = opts.junit ? await import('../../verify/junit.js') : undefined;
      const recipeNames = junit ? await projectRecipes(project) : [];
      const casesFor = junit?.casesFor ?? (() => []);
      const cases = casesFor('static', recipeNames, report.findings);
      const extra: Record<string, unknown> = {};
      const usable = report.exitCode !== 2;

      if (usable && (opts.fetch || opts.rebuild || opts.storeCheck)) {
        const { defaultJobs, makeFetchContext } = await import('../fetch-context.js');
        const { progressFor } = await import('../progress.js');
        const progress = progressFor(out);
        const { ctx: fetch, store } = await makeFetchContext(project, globals, {
          offline: false,
          onEvent: progress.onEvent,
          signal: ctx.signal,
          readOnly: true,
        });
        try {
          if (opts.fetch) {
            const { verifyFetch } = await import('../../verify/fetch-check.js');
            const r = await verifyFetch(project, { names, fetch, tmpDir: store.tmp, jobs: defaultJobs(globals), compareContent: opts.compareContent });
            findings.push(...r.findings);
            cases.push(...casesFor('fetch', recipeNames, r.findings));
            extra['fetch'] = r.checked;
          }
          if (opts.rebuild) {
            const { makeBuildContext } = await import('../build-context.js');
            const { verifyRebuild } = await import('../../verify/rebuild-check.js');
            const built = await makeBuildContext({ projectDir: project, store, fetch, mode: opts.sandbox, keepFailed: false, signal: ctx.signal });
            const r = await verifyRebuild(project, names, built.ctx, defaultJobs(globals, 'build'), opts.platform);
            findings.push(...r.findings);
            cases.push(
              ...casesFor(
                'rebuild',
                recipeNames.filter((n) => r.checks.some((c) => c.recipe === n)),
                r.findings,
              ),
            );
            extra['rebuild'] = r.checks;
            if (!out.json) {
              for (const c of r.checks.filter((x) => !x.ok)) {
                out.err.write(`${c.recipe}: rebuilt output ${c.output}${c.store ? `, store ${c.store}` : ''}${c.locked ? `, lock ${c.locked}` : ''}\n`);
                for (const d of c.differences) out.err.write(`  ${d.change} ${d.path}: ${d.detail.split('\n').join('\n    ')}\n`);
              }
            }
          }
          if (opts.storeCheck) {
            const { verifyStore } = await import('../../store/verify-store.js');
            const r = await verifyStore(store, { names });
            findings.push(...r.findings);
            cases.push(...casesFor('store', recipeNames, r.findings));
            extra['store'] = { entries: r.entries, bytes: r.bytes, cacheFiles: r.cacheFiles };
          }
        } finally {
          progress.stop();
        }
      }

      const exitCode = exitStatusOf(findings);
      if (opts.junit && junit) await junit.writeJunit(opts.junit, cases);
      if (out.json) {
        out.document({ ok: exitCode === 0, recipes: report.recipes, lockEntries: report.lockEntries, findings, ...extra });
      } else {
        for (const f of findings) out.finding(f);
        const errors = findings.filter((f) => f.severity === 'error').length;
        const what = ['static', opts.fetch && 'fetch', opts.rebuild && 'rebuild', opts.storeCheck && 'store'].filter(Boolean).join(', ');
        if (exitCode === 0) out.info(`verified ${report.recipes} recipe(s) against intact.lock (${what}): all pinned and current`);
        else out.err.write(`verify failed: ${errors} finding(s) in ${report.recipes} recipe(s) (${what})\n`);
      }
      ctx.found(findings);
    });
}
