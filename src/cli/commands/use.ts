// Using what is installed: `intact run`, `intact shell`, `intact env`. Each puts
// the project's profile (.intact/bin) first on PATH; nothing here builds.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { IntactError } from '../../errors.js';
import { findProject, PROFILE_DIR } from '../../project/find.js';
import type { CliContext } from './context.js';
import { checkRecipeNames } from '../recipe-names.js';

// Loaded when a command runs, not at start-up.
const profileModule = () => import('../../project/profile.js');

const nothingInstalled = (): IntactError =>
  new IntactError('NOT_INSTALLED', 'nothing is installed in this project yet', { hint: 'run `intact install` first' });

async function profileOf(project: string) {
  const { readProfile } = await profileModule();
  const p = await readProfile(project);
  if (!p) throw nothingInstalled();
  return p;
}

/**
 * Run a program to its end, passing signals on (SIGINT and SIGTERM through main,
 * which would otherwise abort the run), and return its exit status: the shell's
 * 128 + N when a signal ended it.
 */
function runToEnd(ctx: CliContext, cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    const unforward = ctx.forwardSignals(forward);
    process.on('SIGHUP', forward);
    const done = (): void => {
      unforward();
      process.off('SIGHUP', forward);
    };
    child.on('error', (e) => {
      done();
      reject(
        new IntactError('IO', `cannot start ${cmd}: ${e.message}`, { cause: e, hint: 'run `intact install` again; the profile may point at a removed entry' }),
      );
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(code ?? (signal ? 128 + constants.signals[signal] : 1));
    });
  });
}

export function registerUse(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run a program of an installed recipe: intact run NAME[:BIN] -- ARGS')
    .argument('<name>', 'recipe name, optionally :program when it has several')
    .argument('[args...]', 'arguments for the program (put them after --)')
    .action(async (spec: string, args: string[]) => {
      const project = await findProject(process.cwd());
      const { readProfile, binName } = await profileModule();
      const p = await readProfile(project);
      const [recipe, bin] = spec.split(':', 2) as [string, string | undefined];
      const item = p?.items.find((i) => i.recipe === recipe);
      if (!p || !item) {
        // What the profile holds runs even if its recipe is gone since; anything
        // else must at least be a recipe of the project.
        await checkRecipeNames(project, [recipe]);
        throw p
          ? new IntactError('NOT_INSTALLED', `${recipe} is not installed in this project`, { hint: `run \`intact install ${recipe}\`` })
          : nothingInstalled();
      }
      const names = item.bin.map(binName);
      const chosen = bin ?? (names.length === 1 ? names[0] : names.find((n) => n === recipe));
      if (!chosen || !names.includes(chosen)) {
        throw new IntactError(
          'USAGE',
          names.length === 0 ? `${recipe} has no programs (no \`bin\`)` : `which program of ${recipe}? it has ${names.join(', ')}`,
          { hint: names.length > 0 ? `e.g. intact run ${recipe}:${names[0]} -- ...` : 'add `bin:` to the recipe' },
        );
      }
      const binDir = join(project, PROFILE_DIR, 'bin');
      ctx.passStatus(await runToEnd(ctx, p.links[chosen]!, args, { ...process.env, PATH: `${binDir}:${process.env['PATH'] ?? ''}` }));
    });

  program
    .command('shell')
    .description("start a shell with the project's programs first on PATH")
    .option('--pure', 'with only the profile on PATH and a minimal environment (HOME, USER, TERM, LANG)', false)
    .action(async (opts: { pure: boolean }) => {
      const project = await findProject(process.cwd());
      await profileOf(project);
      const binDir = join(project, PROFILE_DIR, 'bin');
      const shell = process.env['SHELL'] || '/bin/sh';
      const keep = ['HOME', 'USER', 'LOGNAME', 'TERM', 'LANG', 'LC_ALL', 'TZ'];
      const base = opts.pure ? Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!])) : { ...process.env };
      const env = { ...base, PATH: opts.pure ? binDir : `${binDir}:${process.env['PATH'] ?? ''}`, INTACT_SHELL: project };
      ctx.passStatus(await runToEnd(ctx, shell, [], env));
    });

  program
    .command('env')
    .description("print the environment that puts the project's programs on PATH (eval it in your shell)")
    .option('--format <format>', 'sh | fish | json (default: sh; json with the global --json)')
    .action(async (opts: { format?: string }) => {
      const out = ctx.output();
      if (out.json && (opts.format === 'sh' || opts.format === 'fish')) {
        throw new IntactError('USAGE', `--json asks for JSON, but --format asks for ${opts.format}`, {
          hint: 'give one of them: `intact --json env` or `intact env --format json`',
        });
      }
      const format = opts.format ?? (out.json ? 'json' : 'sh');
      const project = await findProject(process.cwd());
      const binDir = join(project, PROFILE_DIR, 'bin');
      const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      switch (format) {
        case 'sh':
          out.out.write(`export PATH=${q(binDir)}:"$PATH"\n`);
          break;
        case 'fish':
          out.out.write(`set -gx PATH ${q(binDir)} $PATH\n`);
          break;
        case 'json':
          out.document({ PATH: `${binDir}:${process.env['PATH'] ?? ''}`, INTACT_BIN: binDir });
          break;
        default:
          throw new IntactError('USAGE', `--format takes sh, fish or json, not "${format}"`, { hint: 'e.g. eval "$(intact env)"' });
      }
    });
}
