// The intact CLI (from dist/, like bin/intact.js) with the `cache` and `key`
// commands registered even where src/cli/commands/index.ts does not list them
// yet; once it does, this is the plain CLI. Mirrors src/cli/main.ts's error
// reporting so exit statuses and messages are the real ones.
import { CommanderError } from 'commander';

const dist = new URL('../../dist/', import.meta.url);
const { buildProgram } = await import(new URL('cli/main.js', dist).href);
const { registerCache } = await import(new URL('cli/commands/cache.js', dist).href);
const { registerKey } = await import(new URL('cli/commands/key.js', dist).href);
const { Output } = await import(new URL('cli/output.js', dist).href);
const { IntactError, exitStatus, isIntactError } = await import(new URL('errors.js', dist).href);

let status = 0;
let program;
const abort = new AbortController();
process.on('SIGTERM', () => abort.abort(new IntactError('USAGE', 'interrupted by SIGTERM')));
const ctx = {
  signal: abort.signal,
  globals: () => program.opts(),
  output: () => new Output(program.opts()),
  setExit: (code) => {
    status = code;
  },
};
try {
  program = buildProgram(ctx);
  for (const [name, register] of [['cache', registerCache], ['key', registerKey]]) {
    if (!program.commands.some((c) => c.name() === name)) {
      register(program, ctx);
      program.commands.at(-1).exitOverride();
    }
  }
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) status = e.exitCode === 0 ? 0 : 2;
  else {
    const out = program ? ctx.output() : new Output({ json: false, quiet: false, verbose: true });
    const err = isIntactError(e) ? e : new IntactError('INTERNAL', `internal error: ${e?.message ?? String(e)}`, { cause: e });
    out.error(err);
    if (!isIntactError(e) && e?.stack) process.stderr.write(`${e.stack}\n`);
    status = exitStatus(err.code);
  }
}
process.exitCode = status;
