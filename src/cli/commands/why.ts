// `intact why NAME`: which installed entries (of which projects) and which of the
// project's recipes need NAME. The work is src/project/why.ts.
import type { Command } from 'commander';
import { findProject } from '../../project/find.js';
import { resolveStore } from '../../store/paths.js';
import type { CliContext } from './context.js';

export function registerWhy(program: Command, ctx: CliContext): void {
  program
    .command('why')
    .description('say what needs a recipe: installed entries that depend on it, and recipes of the project that do')
    .argument('<name>', 'recipe name (or name@version, an entry folder name, a store key)')
    .action(async (name: string) => {
      const out = ctx.output();
      const opt = ctx.globals().store;
      const project = await findProject(process.cwd()).catch((e: unknown) => {
        if (opt) return undefined; // a shared store needs no project
        throw e;
      });
      const store = resolveStore(project ?? process.cwd(), opt);
      const { why } = await import('../../project/why.js');
      const r = await why(store, project, name);
      if (out.json) {
        out.document({ ok: true, ...r });
        return;
      }
      for (const e of r.store) {
        out.info(`${e.label} (${e.entry})`);
        if (e.chains.length === 0) out.info('  no project uses it: `intact gc` removes it');
        for (const c of e.chains) out.info(`  ${c.project}${c.pending ? ' (install running)' : ''}: ${c.path.join(' -> ')}`);
        if (e.neededBy.length > 0) out.info(`  a dependency of: ${e.neededBy.join(', ')}`);
      }
      if (project !== undefined) {
        if (r.recipes.length === 0) out.info(`no recipe of this project depends on ${name}`);
        else {
          out.info(`recipes of this project that need ${name}:`);
          for (const x of r.recipes) out.info(`  ${x.recipe}: ${x.path.join(' -> ')}`);
        }
      }
    });
}
