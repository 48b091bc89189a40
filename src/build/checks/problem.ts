// What the output checks report: one OutputProblem per thing wrong, each naming
// the file (relative to the output folder) and saying what to do, so a recipe
// author fixes every problem of a build in one round instead of one per rebuild.
import type { ErrorCode } from '../../errors.js';

export interface OutputProblem {
  code: ErrorCode;
  /** Path relative to the output folder, '/'-separated; '' for the folder itself. */
  file: string;
  message: string;
  hint: string;
  /** OUTPUT_PATH_LEAK: byte offset of the first match in the file (or the link target). */
  offset?: number;
}

const ELF_HINT =
  'Link it statically (e.g. `zig cc -target x86_64-linux-musl -static`), or ship its loader and libraries in this entry ' +
  'or a declared dependency and point PT_INTERP and RUNPATH at them (RUNPATH `$ORIGIN/../lib`).';

const HINTS: Partial<Record<ErrorCode, string>> = {
  OUTPUT_SPECIAL_FILE: 'A store entry holds only folders, files and symlinks. Remove it in a build step (or do not install it).',
  OUTPUT_MODE_BITS: 'Store entries never carry setuid, setgid or sticky bits. Drop them in the build (e.g. install with mode 0755).',
  OUTPUT_HARDLINK_OUTSIDE:
    'The file shares its inode with a file outside the output, so changing that file would change the entry. Copy it instead of hard-linking it.',
  OUTPUT_UNREADABLE: 'intact must read every file it stores. Make it readable in a build step (chmod u+r).',
  OUTPUT_LINK_ESCAPE:
    'A symlink may point only inside the entry or into a declared dependency. Make it relative and inside the entry, ' +
    'copy what it points to into the output, or declare the dependency it points into.',
  OUTPUT_LINK_LOOP: 'The symlinks form a loop or a chain too long to follow. Fix or remove them.',
  OUTPUT_PATH_LEAK:
    "Outputs must be relocatable. Use relative paths (e.g. `$ORIGIN`, or paths found from the program's own location) " +
    'instead of the build folder or the store path, or build with the sandbox, whose fixed paths do not depend on where the store is.',
  ELF_MALFORMED: 'The file starts with the ELF magic bytes but cannot be read as ELF. Rebuild it; if it is data, compress or rename it in a build step.',
  OUTPUT_ELF_INTERP: ELF_HINT,
  OUTPUT_ELF_SEARCH_PATH:
    'Every RPATH/RUNPATH folder must lie inside the entry or a declared dependency: a host folder would let the loader pick host libraries. ' +
    "Use `$ORIGIN`-relative paths (e.g. link with -Wl,-rpath,'$ORIGIN/../lib').",
  OUTPUT_ELF_NEEDED: ELF_HINT,
};

export function problem(code: ErrorCode, file: string, message: string, extra: { offset?: number; hint?: string } = {}): OutputProblem {
  const p: OutputProblem = { code, file, message, hint: extra.hint ?? HINTS[code] ?? '' };
  if (extra.offset !== undefined) p.offset = extra.offset;
  return p;
}

/** Raw path bytes are carried as latin1 strings (one char per byte); this is how a user reads them. */
export function show(raw: string): string {
  return Buffer.from(raw, 'latin1').toString('utf8');
}

/** A path or name in a message: quoted, so spaces and odd bytes stay visible. */
export function q(raw: string): string {
  return JSON.stringify(show(raw));
}
