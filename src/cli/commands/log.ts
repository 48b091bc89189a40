// `intact log NAME`: the log of a recipe's last build, kept in the store.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { IntactError } from '../../errors.js';
import { findProject } from '../../project/find.js';
import { resolveStore } from '../../store/paths.js';
import type { CliContext } from './context.js';
import { checkRecipeNames } from '../recipe-names.js';

export function registerLog(program: Command, ctx: CliContext): void {
  program
    .command('log')
    .description('print the log of the last build of a recipe')
    .argument('<name>', 'recipe name')
    .action(async (name: string) => {
      const project = await findProject(process.cwd());
      const store = resolveStore(project, ctx.globals().store);
      const keys = await readFile(join(store.logs, `${name}.last`), 'utf8').catch(() => '');
      const key = keys.trim().split('\n').filter(Boolean).pop();
      const text = key ? await readFile(join(store.logs, `${key}.log`), 'utf8').catch(() => undefined) : undefined;
      // A log the store keeps is shown even for a recipe this project no longer has.
      if (text === undefined) await checkRecipeNames(project, [name]);
      if (text === undefined)
        throw new IntactError('NOT_INSTALLED', `no build log for ${name} in ${store.root}`, {
          hint: `build it with \`intact install ${name}\` or \`intact build ${name}\``,
        });
      ctx.output().out.write(text);
    });
}
