// The intact command line. Only this file exits the process: commands return an
// exit status (or throw an IntactError), and the code → status mapping lives in
// errors.ts. Commands are loaded lazily so `intact --help` stays fast.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { errorExitStatus, exitStatus, exitStatusOf, interrupted, IntactError, isIntactError } from '../errors.js';
import { Output, type GlobalOptions } from './output.js';
import { registerCommands } from './commands/index.js';
import type { CliContext } from './commands/context.js';
import { hasFlag, rewriteVerifyArgv } from './argv.js';
import { systemErrorIn } from '../system-error.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function parseJobs(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new IntactError('USAGE', `--jobs takes a whole number from 1 to 256, not "${v}"`, { hint: 'e.g. --jobs 4' });
  }
  return n;
}

export async function buildProgram(ctx: CliContext, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('intact')
    .description('Reproducible, sudo-less dependencies: recipes pinned by a lockfile, fetched and built into a user-space store.')
    .version(version(), '-V, --version', 'print the version of intact')
    .addOption(new Option('--store <dir>', 'the store folder (default: ./store in the project)').env('INTACT_STORE'))
    .option('--json', 'machine-readable output on stdout (nothing else there)', false)
    .option('-q, --quiet', 'print only errors', false)
    .option('-v, --verbose', 'print details, and stack traces on errors', false)
    .option('-j, --jobs <n>', 'parallel jobs (default: the number of CPUs)', parseJobs)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (s, write) => write(s) })
    .exitOverride();
  await registerCommands(program, ctx, argv);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  let status = 0;
  let program: Command | undefined;
  // Build steps run in their own process groups (the sandbox kills whole trees),
  // so a Ctrl-C must reach them through this signal; a second one exits at once.
  const abort = new AbortController();
  // Not a count of process listeners: libraries add their own (signal-exit, loaded
  // with proper-lockfile, listens to both).
  let forward: ((sig: NodeJS.Signals) => void) | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (forward) return forward(sig);
    if (abort.signal.aborted) process.exit(errorExitStatus(interrupted(sig)));
    abort.abort(interrupted(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `ulimit -f`: by default SIGXFSZ kills the process with no word and its temps
  // left; handled, the write fails with EFBIG, which unwinds and cleans up like
  // any error and is reported as FILE_SIZE_LIMIT.
  process.on('SIGXFSZ', () => undefined);
  const ctx: CliContext = {
    signal: abort.signal,
    forwardSignals: (to) => {
      forward = to;
      return () => {
        forward = undefined;
      };
    },
    globals: () => program!.opts<GlobalOptions>(),
    output: () => new Output(program!.opts<GlobalOptions>()),
    failed: (code) => {
      status = Math.max(status, exitStatus(code));
    },
    found: (findings) => {
      status = Math.max(status, exitStatusOf(findings));
    },
    passStatus: (s) => {
      status = s;
    },
  };
  let failure: { error: unknown } | undefined;
  try {
    const args = rewriteVerifyArgv(argv);
    program = await buildProgram(ctx, args);
    await program.parseAsync(args);
  } catch (e) {
    failure = { error: e };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // Whatever a command made of the abort (a cancelled step, fetch or upload), the
  // run was interrupted: that is what it reports, with the signal's exit status.
  if (abort.signal.aborted) failure = { error: abort.signal.reason };
  process.exitCode = failure ? report(failure.error, argv, program) : status;
}

function report(e: unknown, argv: readonly string[], program: Command | undefined): number {
  // Commander may have failed before it parsed the global flags: argv says too.
  const opts = program?.opts<GlobalOptions>();
  const out = new Output({
    json: Boolean(opts?.json) || hasFlag(argv, '--json'),
    quiet: Boolean(opts?.quiet) || hasFlag(argv, '-q', '--quiet'),
    verbose: Boolean(opts?.verbose) || hasFlag(argv, '-v', '--verbose'),
  });
  if (e instanceof CommanderError) {
    // --help and --version end through here with exit code 0.
    if (e.exitCode === 0) return 0;
    // Commander printed its message (stderr); with --json it is a USAGE document too.
    if (out.json) out.error(commanderUsage(e));
    return exitStatus('USAGE');
  }
  // A full disk, a read-only store or `ulimit -f` is said as such, whatever layer met it.
  const system = !isIntactError(e) || e.code === 'IO' || e.code === 'BUILD_FAILED' || e.code === 'INTERNAL' ? systemErrorIn(e) : undefined;
  if (system) {
    out.error(system);
    return errorExitStatus(system);
  }
  if (isIntactError(e)) {
    out.error(e);
    return errorExitStatus(e);
  }
  const err = new IntactError('INTERNAL', `internal error: ${(e as Error)?.message ?? String(e)}`, {
    cause: e,
    hint: 'this is a bug in intact; run again with --verbose and report the output',
  });
  out.error(err);
  if (!out.verbose && e instanceof Error && e.stack) out.debug(e.stack);
  return exitStatus(err.code);
}

/** A commander parse error (unknown option or command, missing argument) as intact's USAGE error. */
function commanderUsage(e: CommanderError): IntactError {
  const message = e.code === 'commander.help' ? 'no command given' : e.message.replace(/^error: /, '');
  return new IntactError('USAGE', message, { hint: 'run with --help for usage' });
}
