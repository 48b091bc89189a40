// What main.ts reads from the raw argv before (or instead of) commander: which
// command runs, whether --json was asked for (so that even commander's own
// errors come out as JSON), and the one rewrite `verify --store` needs.
import { IntactError } from '../errors.js';

/** Global options that take a value, so their value is not taken for the command. */
const VALUE_OPTIONS = new Set(['--store', '--jobs', '-j']);

/** Where the command word is in argv (after node and the script): the first non-option argument. */
function commandIndex(argv: readonly string[]): number | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    return i;
  }
  return undefined;
}

/** The command word in argv, if any. */
export function commandWord(argv: readonly string[]): string | undefined {
  const i = commandIndex(argv);
  return i === undefined ? undefined : argv[i];
}

/**
 * Whether a global flag is in argv anywhere before a `--`, before the command or
 * after it (commander reads it in both places): for errors met before commander
 * has parsed it, or when its parsing failed.
 */
export function hasFlag(argv: readonly string[], ...flags: string[]): boolean {
  const end = argv.indexOf('--', 2);
  return argv.slice(2, end < 0 ? undefined : end).some((a) => flags.includes(a));
}

/**
 * `--store` means two things: the global store folder, and the
 * check of `intact verify --store` (docs/verify.md). After the command word
 * `verify`, and before any `--`, a bare `--store` is the check; the folder goes
 * before the command (`intact --store DIR verify --store`) or in INTACT_STORE.
 * `--store=DIR` there would silently set the folder and check nothing: refused.
 */
export function rewriteVerifyArgv(argv: readonly string[]): string[] {
  const at = commandIndex(argv);
  if (at === undefined || argv[at] !== 'verify') return [...argv];
  const out = [...argv];
  for (let j = at + 1; j < out.length && out[j] !== '--'; j++) {
    if (out[j] === '--store') out[j] = '--store-check';
    else if (out[j]!.startsWith('--store=')) {
      throw new IntactError('USAGE', `after \`verify\`, --store is the store check and takes no value: "${out[j]}"`, {
        hint: 'to check another store, put the folder before the command (`intact --store DIR verify --store`) or set INTACT_STORE',
      });
    }
  }
  return out;
}
