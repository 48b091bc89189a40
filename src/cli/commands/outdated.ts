// `intact outdated [NAME...]`: newer upstream versions, where the sources can
// tell. Read-only. The logic is src/upgrade/outdated.ts; this prints a table.
import type { Command } from 'commander';
import { exitStatusOf, IntactError } from '../../errors.js';
import { findProject } from '../../project/find.js';
import type { CliContext } from './context.js';
import { defaultJobs, makeFetchContext } from '../fetch-context.js';
import { checkRecipeNames } from '../recipe-names.js';

function parseDays(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n))
    throw new IntactError('USAGE', `--min-age takes a whole number of days, not "${v}"`, { hint: 'e.g. --min-age 7' });
  return n;
}

export function registerOutdated(program: Command, ctx: CliContext): void {
  program
    .command('outdated')
    .description('list newer upstream versions of the recipes (never edits anything)')
    .argument('[names...]', 'recipes to look up (default: all)')
    .option('--prereleases', 'show pre-releases (rc, beta, 1.2.3-next.1, ...) too', false)
    .option('--min-age <days>', 'hide releases published less than this many days ago (a cooling-off period)', parseDays)
    .addHelpText(
      'after',
      `
Where versions come from: a recipe's \`watch:\` section (an index page and a
pattern), else an npm source at the recipe's version (the registry's list, with
publish times), else a git source's tags (git ls-remote). --min-age applies where
publish times are known (npm); other releases show their age as unknown.
Exit 0 when every lookup worked (newer versions or not), 1 when one failed,
2 when a recipe cannot be read.
To move a recipe: \`intact upgrade NAME VERSION\`.`,
    )
    .action(async (names: string[], opts: { prereleases: boolean; minAge?: number }) => {
      const out = ctx.output();
      const globals = ctx.globals();
      const project = await findProject(process.cwd());
      await checkRecipeNames(project, names);
      const { ctx: fetch } = await makeFetchContext(project, globals, { offline: false, signal: ctx.signal });
      const { outdated } = await import('../../upgrade/outdated.js');
      const report = await outdated(project, {
        npmConfig: fetch.npmConfig,
        limits: fetch.limits,
        env: process.env,
        signal: ctx.signal,
        prereleases: opts.prereleases,
        ...(opts.minAge !== undefined ? { minAgeDays: opts.minAge } : {}),
        jobs: defaultJobs(globals),
        names,
      });
      const status = exitStatusOf(report.findings);
      const failed = status !== 0;
      ctx.found(report.findings);
      if (out.json) {
        out.document({ ok: !failed, recipes: report.rows, findings: report.findings });
        return;
      }
      for (const f of report.findings) out.finding(f);
      const rows = report.rows.map((r) => [
        r.name,
        r.current,
        r.latest ?? (r.via === 'none' || r.note ? '?' : '-'),
        r.via,
        r.newer.length > 0
          ? r.newer
              .slice(-5)
              .map((n) => `${n.version}${n.ageDays !== undefined ? ` (${n.ageDays} d)` : ''}${n.deprecated ? ' deprecated' : ''}`)
              .join(', ') + (r.newer.length > 5 ? ` and ${r.newer.length - 5} older` : '')
          : (r.note ?? 'up to date'),
      ]);
      table(out.info.bind(out), [['recipe', 'current', 'latest', 'via', 'newer'], ...rows]);
      const prereleases = report.rows.reduce((n, r) => n + r.hidden.prereleases, 0);
      const younger = report.rows.reduce((n, r) => n + r.hidden.younger, 0);
      if (prereleases > 0) out.info(`(${prereleases} pre-release(s) hidden; --prereleases shows them)`);
      if (younger > 0) out.info(`(${younger} release(s) younger than ${opts.minAge ?? 0} days hidden)`);
    });
}

function table(print: (line: string) => void, rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (i === r.length - 1 ? 0 : r[i]!.length))));
  for (const r of rows)
    print(
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    );
}
