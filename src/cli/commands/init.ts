// `intact init`: make an existing folder an intact project.
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('create recipes/, an empty intact.lock, store/.gitkeep and .gitignore lines (never overwrites)')
    .action(async () => {
      const out = ctx.output();
      const { initProject } = await import('../../project/init.js');
      const done = await initProject(process.cwd());
      if (out.json) out.document({ ok: true, created: done.created, updated: done.updated });
      else {
        for (const c of done.created) out.info(`created ${c}`);
        for (const u of done.updated) out.info(`updated ${u}`);
        out.info('next: add a recipe with `intact add` or write recipes/<name>.yaml, then run `intact lock`');
      }
    });
}
