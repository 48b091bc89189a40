// Whether this machine gives the full sandbox (unprivileged user, mount, net and
// PID namespaces), as probed once by the suite's set-up. Tests that need it are
// skipped with this reason where it is not, never passed silently.
import { inject } from 'vitest';

export function fullSandboxSkip(): string | undefined {
  return inject('fixtures').sandboxSkip;
}

/** The suffix of a suite's name that says why it is skipped, or nothing. */
export function skippedBecause(why: string | undefined): string {
  return why === undefined ? '' : ` (skipped: ${why})`;
}
