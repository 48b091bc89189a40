// The one error model of intact. Every failure, thrown or reported as a finding,
// carries a stable `code` from CODES, a `hint` that tells the user what to do, and
// the place at fault (file:line:col, field, URL). Exit statuses come from the code,
// in one place (exitStatus), so a command never picks a number by itself.
import { constants } from 'node:os';

/**
 * exit: 1 = the work failed or a check found something; 2 = the input is unusable;
 * 130 = stopped by a signal (128 + its number, the shell's convention: see errorExitStatus).
 */
export const CODES = {
  // usage and project
  USAGE: { exit: 2 },
  INTERRUPTED: { exit: 130 },
  PROJECT_NOT_FOUND: { exit: 2 },
  INIT_EXISTS: { exit: 2 },
  IO: { exit: 1 },
  SOURCE_DEAD: { exit: 1 },
  SOURCE_CHANGED: { exit: 1 },
  MIRROR_DISAGREES: { exit: 1 },
  NOT_REPRODUCIBLE: { exit: 1 },
  PLATFORM_UNSUPPORTED: { exit: 1 },
  BUILD_FAILED: { exit: 1 },
  BUILD_STEP: { exit: 2 },
  DEP_FAILED: { exit: 1 },
  BIN_MISSING: { exit: 1 },
  BIN_CONFLICT: { exit: 2 },
  NOT_INSTALLED: { exit: 1 },
  OUTPUT_MISMATCH: { exit: 1 },
  STORE_PATH: { exit: 2 },
  FOLDER_IS_LINK: { exit: 2 },
  OFFLINE_MISSING: { exit: 1 },
  LOCK_REFUSED: { exit: 2 },
  NOT_LOCKED: { exit: 1 },
  INTERNAL: { exit: 1 },

  // recipes: unusable input
  RECIPES_DIR_MISSING: { exit: 2 },
  RECIPES_EMPTY: { exit: 0 },
  RECIPE_FILE_NAME: { exit: 2 },
  RECIPE_UNREADABLE: { exit: 2 },
  RECIPE_TOO_LARGE: { exit: 2 },
  RECIPE_NOT_TEXT: { exit: 2 },
  RECIPE_YAML: { exit: 2 },
  RECIPE_SCHEMA: { exit: 2 },
  RECIPE_NAME_MISMATCH: { exit: 2 },
  VERSION_FLOATING: { exit: 2 },
  NPM_SPEC_FLOATING: { exit: 2 },
  GIT_REV_FLOATING: { exit: 2 },
  DEB_SPEC_FLOATING: { exit: 2 },
  DEB_ARCH_UNKNOWN: { exit: 2 },
  INTEGRITY_WEAK: { exit: 2 },
  INTEGRITY_MALFORMED: { exit: 2 },
  REPO_FILE_ESCAPES: { exit: 2 },
  REPO_FILE_MISSING: { exit: 2 },
  DEP_UNKNOWN: { exit: 2 },
  DEP_CYCLE: { exit: 2 },
  PLATFORM_UNDECLARED: { exit: 2 },
  PLATFORM_NO_SOURCE: { exit: 2 },

  // lockfile: unusable input
  LOCK_CORRUPT: { exit: 2 },
  LOCK_CONFLICT: { exit: 2 },
  LOCK_FOREIGN: { exit: 2 },
  LOCK_VERSION_NEWER: { exit: 2 },
  LOCK_INVALID: { exit: 2 },

  // lockfile: verification findings
  LOCK_MISSING: { exit: 1 },
  LOCK_STALE: { exit: 1 },
  LOCK_ENTRY_MISSING: { exit: 1 },
  LOCK_ENTRY_EXTRA: { exit: 1 },
  LOCK_UNPINNED: { exit: 1 },
  LOCK_WEAK_HASH: { exit: 1 },
  LOCK_INTEGRITY_DISAGREES: { exit: 1 },
  LOCK_CLOSURE: { exit: 1 },

  // fetch: downloads and the download cache. exit 1: the network or the bytes
  // failed us; exit 2: the URL itself is unusable input.
  URL_INVALID: { exit: 2 },
  FETCH_FAILED: { exit: 1 },
  FETCH_TIMEOUT: { exit: 1 },
  FETCH_TOO_SLOW: { exit: 1 },
  FETCH_ABORTED: { exit: 1 },
  HTTP_STATUS: { exit: 1 },
  TOO_LARGE: { exit: 1 },
  LENGTH_MISMATCH: { exit: 1 },
  REDIRECT_INSECURE: { exit: 1 },
  REDIRECT_LOOP: { exit: 1 },
  TOO_MANY_REDIRECTS: { exit: 1 },
  INTEGRITY_MISMATCH: { exit: 1 },

  // sources: npm, git and file sources, and the tree hash. exit 1: the registry,
  // the remote or the host failed us; exit 2: the input or configuration is unusable.
  NPM_REGISTRY_UNSET: { exit: 2 },
  NPM_REGISTRY_INVALID: { exit: 2 },
  NPM_CONFIG_INVALID: { exit: 2 },
  NPM_SPEC_INVALID: { exit: 2 },
  NPM_PACKAGE_NOT_FOUND: { exit: 1 },
  NPM_VERSION_NOT_FOUND: { exit: 1 },
  NPM_AUTH_FAILED: { exit: 1 },
  NPM_REGISTRY_ERROR: { exit: 1 },
  NPM_PACKUMENT_INVALID: { exit: 1 },
  NPM_INTEGRITY_CHANGED: { exit: 1 },
  GIT_URL_INVALID: { exit: 2 },
  GIT_NOT_FOUND: { exit: 1 },
  GIT_REV_NOT_FOUND: { exit: 1 },
  GIT_FETCH_FAILED: { exit: 1 },
  GIT_SUBMODULE: { exit: 2 },
  DEB_ARCHIVE_UNSET: { exit: 2 },
  DEB_SOURCES_INVALID: { exit: 2 },
  DEB_NOT_IN_INDEX: { exit: 1 },
  DEB_INDEX_INVALID: { exit: 1 },
  DEB_GONE: { exit: 1 },
  FILE_SOURCE_UNSUPPORTED: { exit: 2 },
  TREE_HASH_UNSUPPORTED: { exit: 1 },

  // extraction: a verified download could not be unpacked safely into a build folder
  EXTRACT_OPTIONS: { exit: 1 },
  EXTRACT_DEST_EXISTS: { exit: 1 },
  EXTRACT_UNSUPPORTED: { exit: 1 },
  EXTRACT_CORRUPT: { exit: 1 },
  EXTRACT_UNSAFE_PATH: { exit: 1 },
  EXTRACT_THROUGH_LINK: { exit: 1 },
  EXTRACT_LINK_ESCAPE: { exit: 1 },
  EXTRACT_BAD_HARDLINK: { exit: 1 },
  EXTRACT_SPECIAL_FILE: { exit: 1 },
  EXTRACT_DUPLICATE: { exit: 1 },
  EXTRACT_LIMIT: { exit: 1 },
  EXTRACT_STRIP: { exit: 1 },
  EXTRACT_ARCHIVE_MISSING: { exit: 1 },
  EXTRACT_ARCHIVE_INTEGRITY: { exit: 1 },
  EXTRACT_ABORTED: { exit: 1 },

  // output checks: what a build left in its output folder may not enter the store
  OUTPUT_SPECIAL_FILE: { exit: 1 },
  OUTPUT_MODE_BITS: { exit: 1 },
  OUTPUT_HARDLINK_OUTSIDE: { exit: 1 },
  OUTPUT_UNREADABLE: { exit: 1 },
  OUTPUT_LINK_ESCAPE: { exit: 1 },
  OUTPUT_LINK_LOOP: { exit: 1 },
  OUTPUT_PATH_LEAK: { exit: 1 },
  ELF_MALFORMED: { exit: 1 },
  OUTPUT_ELF_INTERP: { exit: 1 },
  OUTPUT_ELF_SEARCH_PATH: { exit: 1 },
  OUTPUT_ELF_NEEDED: { exit: 1 },

  // sandbox: isolating build steps. exit 1: this machine or the step failed us;
  // exit 2: the step as asked for cannot be run (bad mount layout, environment).
  SANDBOX_UNAVAILABLE: { exit: 1 },
  SANDBOX_SETUP_FAILED: { exit: 1 },
  SANDBOX_MOUNT_INVALID: { exit: 2 },
  SANDBOX_MOUNT_MISSING: { exit: 1 },
  STEP_TOOL_MISSING: { exit: 1 },
  STEP_CWD_MISSING: { exit: 1 },
  STEP_ENV_INVALID: { exit: 2 },
  STEP_TIMEOUT: { exit: 1 },
  BUILD_TIME_LIMIT: { exit: 1 },
  BUILD_SILENT_LIMIT: { exit: 1 },
  BUILD_LOG_LIMIT: { exit: 1 },
  BUILD_DISK_LIMIT: { exit: 1 },
  BUILD_PROCESS_LIMIT: { exit: 1 },
  STEP_ABORTED: { exit: 1 },

  // upgrades: add, outdated, upgrade, diff, review, sbom. exit 2: the argument,
  // revision or repository is unusable; exit 1: upstream or a review check says no;
  // exit 0: a warning that is reported but fails nothing.
  NOT_GIT_REPO: { exit: 2 },
  GIT_REVISION_UNKNOWN: { exit: 2 },
  GIT_DEFAULT_BRANCH_UNKNOWN: { exit: 2 },
  GIT_COMMAND_FAILED: { exit: 1 },
  ADD_SPEC_INVALID: { exit: 2 },
  RECIPE_EXISTS: { exit: 2 },
  ADD_NO_PLATFORM_PACKAGES: { exit: 2 },
  UPGRADE_SAME_VERSION: { exit: 2 },
  UPGRADE_DIRTY: { exit: 2 },
  UPGRADE_NOTHING_TO_EDIT: { exit: 2 },
  UPGRADE_REV_AMBIGUOUS: { exit: 2 },
  UPGRADE_LEFTOVER: { exit: 0 },
  UPGRADE_INTEGRITY_DROPPED: { exit: 0 },
  VERSION_NOT_FOUND: { exit: 1 },
  PROJECT_CHANGED: { exit: 1 },
  WATCH_INVALID: { exit: 2 },
  REVIEW_LOCK_NOT_UPDATED: { exit: 1 },
  REVIEW_RECIPE_NOT_UPDATED: { exit: 1 },
  REVIEW_FLOATING: { exit: 1 },
  REVIEW_TOO_LARGE: { exit: 1 },
  REVIEW_OUTPUT_CHANGED: { exit: 0 },
  LICENSE_UNKNOWN: { exit: 0 },

  // cache: the binary cache on an OCI registry, signing keys and trust. exit 2:
  // the configuration, a registry reference or a key file is unusable input;
  // exit 1: the registry, the network or an artifact failed us (install then
  // builds from source instead).
  CACHE_CONFIG: { exit: 2 },
  CACHE_REF_INVALID: { exit: 2 },
  CACHE_NOT_CONFIGURED: { exit: 2 },
  KEY_INVALID: { exit: 2 },
  KEY_FILE: { exit: 2 },
  KEY_EXISTS: { exit: 2 },
  CACHE_AUTH: { exit: 1 },
  CACHE_UNREACHABLE: { exit: 1 },
  CACHE_REGISTRY: { exit: 1 },
  CACHE_MISSING: { exit: 1 },
  CACHE_INVALID: { exit: 1 },
  CACHE_TOO_LARGE: { exit: 1 },
  CACHE_UNSIGNED: { exit: 1 },
  CACHE_UNTRUSTED: { exit: 1 },
  CACHE_BAD_SIGNATURE: { exit: 1 },
  CACHE_MISMATCH: { exit: 1 },
  CACHE_DIGEST_MISMATCH: { exit: 1 },
  CACHE_NOT_BUILT: { exit: 1 },
  CACHE_INCOMPLETE: { exit: 1 },

  // store integrity: `verify --store`, `repair` and `gc`. exit 1: the store is not
  // what its metadata says (tampering, damage) or the repair/gc could not finish;
  // exit 0: noted, harmless (metadata left without an entry, no file manifest).
  STORE_ENTRY_MODIFIED: { exit: 1 },
  STORE_FILE_MODIFIED: { exit: 1 },
  STORE_FILE_ADDED: { exit: 1 },
  STORE_FILE_MISSING: { exit: 1 },
  STORE_FILE_SYMLINKED: { exit: 1 },
  STORE_ENTRY_WRITABLE: { exit: 1 },
  STORE_ENTRY_UNREADABLE: { exit: 1 },
  STORE_ENTRY_MISSING: { exit: 1 },
  STORE_ENTRY_NO_META: { exit: 1 },
  STORE_META_INVALID: { exit: 1 },
  STORE_META_ORPHAN: { exit: 0 },
  STORE_MANIFEST_MISSING: { exit: 0 },
  STORE_MANIFEST_MISMATCH: { exit: 1 },
  STORE_UNKNOWN_FILE: { exit: 1 },
  STORE_CACHE_CORRUPT: { exit: 1 },
  STORE_REPAIR_FAILED: { exit: 1 },
  STORE_GC_INCOMPLETE: { exit: 1 },
  STORE_LOCK_TIMEOUT: { exit: 1 },
  STORE_LEFTOVER: { exit: 0 },
  STORE_READ_ONLY: { exit: 1 },
  DISK_FULL: { exit: 1 },
  FILE_SIZE_LIMIT: { exit: 1 },
} as const;

export type ErrorCode = keyof typeof CODES;
export type ExitStatus = (typeof CODES)[ErrorCode]['exit'];

/** Where a problem is. Lines and columns are 1-based, as editors show them. */
export interface Place {
  file?: string;
  line?: number;
  col?: number;
  /** Dotted path of the field at fault, e.g. `sources[0].npm`. */
  field?: string;
  url?: string;
}

export interface ProblemFields extends Place {
  hint?: string;
  expected?: string;
  found?: string;
  cause?: unknown;
  /** INTERRUPTED: the signal that stopped the run; it sets the exit status. */
  signal?: NodeJS.Signals;
  /** The recipe a finding is about (Finding.recipe). */
  recipe?: string;
}

/** A problem reported without throwing, so that a check can report all of them. */
export interface Finding extends Place {
  code: ErrorCode;
  message: string;
  hint?: string;
  expected?: string;
  found?: string;
  /** A warning is reported but does not fail the command. */
  severity: 'error' | 'warning';
  /** The recipe it is about, when it is about one (so callers never parse a message for it). */
  recipe?: string;
}

export class IntactError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly col: number | undefined;
  readonly field: string | undefined;
  readonly url: string | undefined;
  readonly expected: string | undefined;
  readonly found: string | undefined;
  readonly signal: NodeJS.Signals | undefined;

  constructor(code: ErrorCode, message: string, fields: ProblemFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'IntactError';
    this.code = code;
    this.hint = fields.hint;
    this.file = fields.file;
    this.line = fields.line;
    this.col = fields.col;
    this.field = fields.field;
    this.url = fields.url;
    this.expected = fields.expected;
    this.found = fields.found;
    this.signal = fields.signal;
  }

  toFinding(): Finding {
    return finding(this.code, this.message, this);
  }

  static fromFinding(f: Finding): IntactError {
    return new IntactError(f.code, f.message, f);
  }

  /** The first of several findings that stop a command, naming its file and how many more there are. */
  static fromFindings(findings: readonly Finding[]): IntactError {
    const f = findings[0]!;
    const more = findings.length > 1 ? ` (and ${findings.length - 1} more; run \`intact verify\`)` : '';
    return new IntactError(f.code, `${f.file ? `${f.file}: ` : ''}${f.message}${more}`, f);
  }
}

/**
 * DEP_FAILED: a recipe was not built because a dependency failed. It carries the
 * dependency and the recipe whose own failure started the chain, so a caller
 * names the root cause from data, never from this message.
 */
export class DependencyFailed extends IntactError {
  readonly dependency: string;
  readonly rootCause: string;

  constructor(name: string, dependency: string, cause: IntactError) {
    const rootCause = cause instanceof DependencyFailed ? cause.rootCause : dependency;
    super('DEP_FAILED', `${name} was not built: its dependency ${dependency} failed`, { hint: `fix ${rootCause} first`, cause });
    this.dependency = dependency;
    this.rootCause = rootCause;
  }
}

export function finding(code: ErrorCode, message: string, fields: ProblemFields = {}): Finding {
  const f: Finding = { code, message, severity: CODES[code].exit === 0 ? 'warning' : 'error' };
  for (const k of ['file', 'line', 'col', 'field', 'url', 'hint', 'expected', 'found', 'recipe'] as const) {
    const v = fields[k];
    if (v !== undefined) (f as unknown as Record<string, unknown>)[k] = v;
  }
  return f;
}

export function isIntactError(e: unknown): e is IntactError {
  return e instanceof IntactError;
}

/** The exit status for one error code. */
export function exitStatus(code: ErrorCode): ExitStatus {
  return CODES[code].exit;
}

/** The exit status for a thrown error: its code's, or 128 + the signal that interrupted the run. */
export function errorExitStatus(e: IntactError): number {
  if (e.code === 'INTERRUPTED' && e.signal !== undefined) return 128 + constants.signals[e.signal];
  return exitStatus(e.code);
}

/** The error a run ends with when a signal stops it (SIGINT: 130, SIGTERM: 143). */
export function interrupted(signal: NodeJS.Signals): IntactError {
  return new IntactError('INTERRUPTED', `interrupted by ${signal}`, { signal, hint: 'nothing partial was kept; run the command again' });
}

/**
 * The exit status for a set of findings: the worst of them; 0 when none fail.
 * An interruption is thrown, never reported as a finding; were one a finding, it
 * would count as failed work.
 */
export function exitStatusOf(findings: readonly Finding[]): 0 | 1 | 2 {
  let worst: 0 | 1 | 2 = 0;
  for (const f of findings) {
    const s = exitStatus(f.code);
    if (s === 2) return 2;
    if (s !== 0) worst = 1;
  }
  return worst;
}

/** `file:line:col` as editors and terminals link it; empty when nothing is known. */
export function formatPlace(p: Place): string {
  if (p.file === undefined) return p.url ?? '';
  let s = p.file;
  if (p.line !== undefined) {
    s += `:${p.line}`;
    if (p.col !== undefined) s += `:${p.col}`;
  }
  return s;
}
