// What every command receives from cli/main.ts. It lives beside the commands, not
// in main.ts, so no command imports the file that loads it (no import circle).
import type { ErrorCode, Finding } from '../../errors.js';
import type { GlobalOptions, Output } from '../output.js';

export interface CliContext {
  globals(): GlobalOptions;
  output(): Output;
  /** Aborted on SIGINT/SIGTERM: fetches and build steps stop, temp files are cleaned. */
  signal: AbortSignal;
  /** Until the returned function is called, SIGINT and SIGTERM go to `to` (a child of `run` or `shell`) instead. */
  forwardSignals(to: (sig: NodeJS.Signals) => void): () => void;
  /**
   * A run that failed without throwing (it printed what went wrong): its exit
   * status is the code's, as for a thrown error (errors.ts). A command never
   * picks a number itself.
   */
  failed(code: ErrorCode): void;
  /** A run whose findings decide its exit status: the worst of their codes' (exitStatusOf). */
  found(findings: readonly Finding[]): void;
  /** `run` and `shell` only: the exit status of the program they ran, passed through. */
  passStatus(status: number): void;
}
