// Locking named recipes inside a staged copy of the project (stage.ts), with the
// same logic as `intact lock NAME...` (src/lock/relock.ts): every source of the
// named recipes is fetched and hashed, every other entry is carried over as it
// is. Nothing is written, not even in the copy: the new lock comes back as data.
import { IntactError, type Finding } from '../errors.js';
import type { FetchContext } from '../fetch/context.js';
import { relock, type LockChange, type LockOptions } from '../lock/relock.js';
import type { Lockfile } from '../lock/types.js';
import type { Staged } from './stage.js';

/** What locking needs from the caller (the CLI builds it as for `intact lock`). */
export interface LockDeps {
  fetch: FetchContext;
  jobs: number;
  hashMember: LockOptions['hashMember'];
  /** Tree hash of an unpacked source, recorded in its pin as `intact lock` does. */
  treeOf?: LockOptions['treeOf'];
}

export type StagedLock = { ok: true; lock: Lockfile; changes: LockChange[]; findings: Finding[] } | { ok: false; findings: Finding[] };

/** `context` starts every error message, e.g. "upgrade zig to 0.12.0". */
export async function lockStaged(staged: Staged, names: readonly string[], deps: LockDeps, context: string): Promise<StagedLock> {
  let result;
  try {
    result = await relock(staged.dir, {
      names,
      fetch: deps.fetch,
      jobs: deps.jobs,
      hashMember: deps.hashMember,
      ...(deps.treeOf ? { treeOf: deps.treeOf } : {}),
      dryRun: true,
    });
  } catch (e) {
    if (!(e instanceof IntactError)) throw e;
    throw new IntactError(e.code, `${context}: ${e.message}`, {
      file: e.file,
      line: e.line,
      col: e.col,
      field: e.field,
      url: e.url,
      expected: e.expected,
      found: e.found,
      cause: e,
      hint: `${e.hint ?? 'see the message'}; nothing was changed`,
    });
  }
  if (result.findings.some((f) => f.severity === 'error') || result.lock === undefined) return { ok: false, findings: result.findings };
  return { ok: true, lock: result.lock, changes: result.changes, findings: result.findings };
}
