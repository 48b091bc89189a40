// What every command receives from cli/main.ts. It lives beside the commands, not
// in main.ts, so no command imports the file that loads it (no import circle).
import type { GlobalOptions, Output } from '../output.js';

export interface CliContext {
  globals(): GlobalOptions;
  output(): Output;
  /** Aborted on SIGINT/SIGTERM: fetches and build steps stop, temp files are cleaned. */
  signal: AbortSignal;
  /** Until the returned function is called, SIGINT and SIGTERM go to `to` (a child of `run` or `shell`) instead. */
  forwardSignals(to: (sig: NodeJS.Signals) => void): () => void;
  /** Set by a command: the exit status of its run. */
  setExit(code: number): void;
}
