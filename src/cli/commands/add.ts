// `intact add <source>`: write recipes/<name>.yaml for a pinned npm package, git
// commit or URL, and lock it. The logic is src/upgrade/add.ts; this prints.
import type { Command } from 'commander';
import { IntactError } from '../../errors.js';
import { pinLabel } from '../../lock/types.js';
import { findProject } from '../../project/find.js';
import type { CliContext } from './context.js';
import { defaultJobs, lockHelpers, makeFetchContext } from '../fetch-context.js';
import { isCi, progressFor } from '../progress.js';

export function registerAdd(program: Command, ctx: CliContext): void {
  program
    .command('add')
    .description('write a new recipe for a pinned npm package, git commit, Debian package or URL, and lock it')
    .argument(
      '<source>',
      'npm:<package>@<version>, git:<url>#<full commit id>, deb:<package>=<Debian version>, debsource:<package>=<version>/<file>, or an http(s):// URL',
    )
    .option('--name <name>', 'the recipe name (default: from the package, repository or file name)')
    // Not --version: commander reads the program's own -V/--version anywhere on the line.
    .option('--recipe-version <version>', 'the exact upstream version (default: from the npm spec, the tag at the commit, or the file name)')
    .option('--platforms', 'npm: one source per platform package (linux-x64, linux-arm64) from its optionalDependencies', false)
    .addHelpText(
      'after',
      `
Floating sources are refused as everywhere in intact: npm:esbuild, npm:esbuild@^0.19,
git:<url> without a commit, git:<url>#main. The recipe is locked in a temporary
copy first; recipes/<name>.yaml and intact.lock are written only once every source
was fetched and pinned. Then write its build steps and \`bin\`, and commit both files.`,
    )
    .action(async (source: string, opts: { name?: string; recipeVersion?: string; platforms: boolean }) => {
      const out = ctx.output();
      const globals = ctx.globals();
      const project = await findProject(process.cwd());
      if (isCi(process.env)) {
        throw new IntactError('LOCK_REFUSED', 'CI=true: `intact add` writes a recipe and intact.lock, which never happens in CI', {
          hint: 'run it on your machine and commit the result (an upgrade bot that means to write may unset CI for this command)',
        });
      }
      const progress = progressFor(out);
      const { ctx: fetch } = await makeFetchContext(project, globals, { offline: false, onEvent: progress.onEvent, signal: ctx.signal });
      const { hashMember, treeOf } = await lockHelpers(fetch);
      const { add } = await import('../../upgrade/add.js');
      let result;
      try {
        result = await add(project, {
          spec: source,
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.recipeVersion !== undefined ? { version: opts.recipeVersion } : {}),
          platforms: opts.platforms,
          lock: {
            fetch,
            jobs: defaultJobs(globals),
            hashMember,
            treeOf,
          },
          env: process.env,
          signal: ctx.signal,
        });
      } finally {
        progress.stop();
      }
      for (const f of result.findings) out.finding(f);
      if (!result.ok) {
        out.err.write('add refused: fix the recipes above first (nothing was written)\n');
        ctx.failed('LOCK_REFUSED');
        return;
      }
      if (out.json) {
        out.document({ ok: true, name: result.name, version: result.version, file: result.file, entry: result.entry });
        return;
      }
      out.info(`wrote ${result.file} and locked ${result.name}@${result.version}:`);
      for (const s of result.entry?.sources ?? []) out.info(`  ${pinLabel(s)}${s.platforms ? ` [${s.platforms.join(', ')}]` : ''} ${s.integrity}`);
      out.info(`next: fill in its build steps and bin, \`intact install ${result.name}\`, then commit ${result.file} with intact.lock`);
    });
}
