// How commands talk to the user: human lines on stderr/stdout, or with --json
// JSON on stdout and nothing else there (NDJSON: progress events, then one result
// document; docs/errors.md). Colour only on a terminal and never with NO_COLOR.
import { formatPlace, type Finding, type IntactError } from '../errors.js';
import { redactUrls } from '../recipe/url-secrets.js';

export interface GlobalOptions {
  store?: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  jobs?: number;
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly #color: boolean;

  constructor(
    opts: GlobalOptions,
    readonly out: NodeJS.WritableStream = process.stdout,
    readonly err: NodeJS.WritableStream = process.stderr,
  ) {
    this.json = opts.json;
    this.quiet = opts.quiet;
    this.verbose = opts.verbose;
    this.#color = !process.env['NO_COLOR'] && Boolean((err as { isTTY?: boolean }).isTTY) && process.env['TERM'] !== 'dumb';
  }

  #paint(code: string, s: string): string {
    return this.#color ? `\u001b[${code}m${s}\u001b[0m` : s;
  }

  /** A result line (stdout), suppressed by --quiet and --json. */
  info(line: string): void {
    if (!this.quiet && !this.json) this.out.write(`${line}\n`);
  }

  /** A detail shown only with --verbose (stderr). */
  debug(line: string): void {
    if (this.verbose && !this.json) this.err.write(`${line}\n`);
  }

  /**
   * The result of a --json run: one line of JSON, the last on stdout. Commands
   * that stream progress print events before it, so stdout is always NDJSON.
   */
  document(value: unknown): void {
    this.out.write(`${JSON.stringify(value)}\n`);
  }

  finding(found: Finding): void {
    if (this.json) return;
    const f = redactFinding(found);
    if (this.quiet && f.severity === 'warning') return;
    const place = formatPlace(f);
    const label = f.severity === 'error' ? this.#paint('31', 'error') : this.#paint('33', 'warning');
    this.err.write(`${place ? `${place}: ` : ''}${label}[${f.code}]: ${f.message}\n`);
    if (f.expected !== undefined || f.found !== undefined) {
      if (f.expected !== undefined) this.err.write(`  expected: ${f.expected}\n`);
      if (f.found !== undefined) this.err.write(`  found:    ${f.found}\n`);
    }
    if (f.hint) this.err.write(`  ${this.#paint('36', 'hint')}: ${f.hint}\n`);
  }

  error(e: IntactError): void {
    if (this.json) {
      this.document({ ok: false, error: errorJson(e) });
      return;
    }
    this.finding(e.toFinding());
    if (this.verbose && e.stack) this.err.write(`${e.stack}\n`);
    if (this.verbose && e.cause instanceof Error && e.cause.stack) this.err.write(`caused by: ${e.cause.stack}\n`);
  }
}

export function errorJson(e: IntactError): Record<string, unknown> {
  const f = redactFinding(e.toFinding());
  return { ...f, severity: undefined };
}

/** Credentials never reach the terminal or a CI log, whatever an error quotes. */
function redactFinding(f: Finding): Finding {
  const out: Record<string, unknown> = { ...f };
  for (const k of ['message', 'url', 'found', 'expected', 'hint'] as const) if (typeof out[k] === 'string') out[k] = redactUrls(out[k] as string);
  return out as unknown as Finding;
}
