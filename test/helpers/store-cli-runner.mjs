// Runs the built CLI (dist/) with the store commands (gc, list, why, repair)
// registered even before src/cli/commands/index.ts lists them: the same program,
// the same context and the same error reporting as bin/intact.js.
import { exitStatus, IntactError, isIntactError } from '../../dist/errors.js';
import { buildProgram } from '../../dist/cli/main.js';
import { Output } from '../../dist/cli/output.js';
import { CommanderError } from 'commander';

let status = 0;
let program;
const abort = new AbortController();
const ctx = {
  signal: abort.signal,
  globals: () => program.opts(),
  output: () => new Output(program.opts()),
  setExit: (code) => { status = code; },
};
try {
  program = buildProgram(ctx);
  const have = new Set(program.commands.map((c) => c.name()));
  for (const [file, fn] of [['gc', 'registerGc'], ['list', 'registerList'], ['why', 'registerWhy'], ['repair', 'registerRepair']]) {
    if (have.has(file)) continue;
    const m = await import(`../../dist/cli/commands/${file}.js`);
    m[fn](program, ctx);
    program.commands.at(-1).exitOverride();
  }
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) status = e.exitCode === 0 ? 0 : 2;
  else {
    const out = program ? ctx.output() : new Output({ json: false, quiet: false, verbose: true });
    const err = isIntactError(e) ? e : new IntactError('INTERNAL', `internal error: ${e?.message ?? e}`, { cause: e });
    if (!isIntactError(e)) process.stderr.write(`${e?.stack}\n`);
    out.error(err);
    status = exitStatus(err.code);
  }
}
process.exitCode = status;
