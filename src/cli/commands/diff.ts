// `intact diff [BASE]`: recipes and lock at a revision against the work tree, as
// Markdown for a merge request or as JSON. The logic is src/upgrade/compare.ts.
import type { Command } from 'commander';
import { IntactError } from '../../errors.js';
import { findProject } from '../../project/find.js';
import type { CliContext } from './context.js';

export function parseDiffFormat(v: string): 'md' | 'json' {
  if (v === 'md' || v === 'markdown' || v === 'json') return v === 'json' ? 'json' : 'md';
  throw new IntactError('USAGE', `--format takes md or json, not "${v}"`, { hint: 'e.g. --format md' });
}

export function registerDiff(program: Command, ctx: CliContext): void {
  program
    .command('diff')
    .description('compare recipes and intact.lock at a git revision with the work tree (Markdown for a merge request)')
    .argument('[base]', 'a branch, tag or commit (default: the merge base of HEAD with the default branch)')
    .option('--format <format>', 'md | json', parseDiffFormat, 'md')
    .addHelpText(
      'after',
      `
Lists recipes added, removed, upgraded, downgraded, changed and relocked; for each,
changed sources and pins, dependency closure, recorded output hashes, license, and
the size of the built output where the store has both sides. The default base is
origin/HEAD's branch, else main, else master. Read-only.`,
    )
    .action(async (base: string | undefined, opts: { format: 'md' | 'json' }) => {
      const out = ctx.output();
      const project = await findProject(process.cwd());
      const { compareWithBase } = await import('../../upgrade/compare.js');
      const { renderMarkdown } = await import('../../upgrade/diff-markdown.js');
      const { resolveStore } = await import('../../store/paths.js');
      const { hostPlatform } = await import('../../platform.js');
      const platform = hostPlatform();
      const cmp = await compareWithBase(project, {
        ...(base !== undefined ? { base } : {}),
        env: process.env,
        signal: ctx.signal,
        store: resolveStore(project, ctx.globals().store),
        ...(platform ? { platform } : {}),
      });
      if (out.json || opts.format === 'json') out.document({ ok: true, ...cmp.report });
      else out.out.write(renderMarkdown(cmp.report));
    });
}
