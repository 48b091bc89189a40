// `intact review --base REV`: the merge request check for CI. Prints the diff
// summary (stdout) and every finding (stderr); exit 1 when a check fails. The
// logic is src/upgrade/review.ts.
import type { Command } from 'commander';
import { IntactError } from '../../errors.js';
import { findProject } from '../../project/find.js';
import type { CliContext } from './context.js';
import { parseDiffFormat } from './diff.js';

function parseBudget(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n))
    throw new IntactError('USAGE', `--max-deltas takes a whole number of lines, not "${v}"`, { hint: 'e.g. --max-deltas 200' });
  return n;
}

export function registerReview(program: Command, ctx: CliContext): void {
  program
    .command('review')
    .description('CI check of a merge request: recipes and lock change together, nothing floats, the change stays small')
    .requiredOption('--base <rev>', 'the revision the change is reviewed against (e.g. origin/main)')
    .option(
      '--max-deltas <lines>',
      'fail when the change adds and removes more lines than this (intact.lock and other generated files not counted)',
      parseBudget,
    )
    .option('--format <format>', 'md | json: the summary on stdout', parseDiffFormat, 'md')
    .addHelpText(
      'after',
      `
Fails (exit 1) when a recipe changed without its lock entry or the other way
round, when a recipe floats, when the lock is stale or weakly pinned, and with
--max-deltas when the change is larger than the budget. Broken recipes or an
unreadable lock exit 2. A license that is not SPDX is a warning.
In CI: fetch the base first (e.g. \`git fetch origin main\`), then
\`intact review --base origin/main --max-deltas 400\`.`,
    )
    .action(async (opts: { base: string; maxDeltas?: number; format: 'md' | 'json' }) => {
      const out = ctx.output();
      const project = await findProject(process.cwd());
      const { review } = await import('../../upgrade/review.js');
      const { renderMarkdown } = await import('../../upgrade/diff-markdown.js');
      const r = await review(project, {
        base: opts.base,
        ...(opts.maxDeltas !== undefined ? { maxDeltas: opts.maxDeltas } : {}),
        env: process.env,
        signal: ctx.signal,
      });
      ctx.found(r.findings);
      const deltas = r.deltas && {
        counted: r.deltas.counted,
        max: r.maxDeltas,
        generated: r.deltas.generated.map((d) => ({ path: d.path, added: d.added, removed: d.removed })),
      };
      if (out.json || opts.format === 'json') {
        out.document({ ok: r.ok, ...r.report, findings: r.findings, deltas });
        return;
      }
      for (const f of r.findings) out.finding(f);
      let text = renderMarkdown(r.report, { title: 'intact review' });
      if (r.deltas) {
        const gen = r.deltas.generated.map((d) => `\`${d.path}\` +${d.added} −${d.removed}`).join(', ');
        text += `\nChanged lines: ${r.deltas.counted} of ${r.maxDeltas} allowed${gen ? `; generated, not counted: ${gen}` : ''}.\n`;
      }
      const errors = r.findings.filter((f) => f.severity === 'error').length;
      text += `\n${r.ok ? '**Review passed.**' : `**Review failed**: ${errors} problem(s); see the CI log.`}\n`;
      out.out.write(text);
    });
}
