// The static half of `intact verify`: everything that can be proven from the
// repository alone, without fetching or building. It collects every finding
// rather than stopping at the first, so one CI run shows the whole picture.
import { exitStatusOf, finding, isIntactError, type Finding } from '../errors.js';
import { checkLock } from './check.js';
import { readLock } from './io.js';
import { LOCK_FILE } from './parse.js';
import { projectState } from './state.js';

export interface VerifyReport {
  ok: boolean;
  exitCode: 0 | 1 | 2;
  recipes: number;
  lockEntries: number;
  findings: Finding[];
}

export async function verifyStatic(projectDir: string): Promise<VerifyReport> {
  const [project, lockRead] = await Promise.all([
    projectState(projectDir),
    readLock(projectDir).catch((e: unknown) => {
      if (isIntactError(e)) return e;
      throw e;
    }),
  ]);
  const { states, graph } = project;
  const findings: Finding[] = [...project.findings];

  let lockEntries = 0;
  if (lockRead === undefined) {
    if (states.length > 0) {
      findings.push(finding('LOCK_MISSING', `there is no ${LOCK_FILE}`, { file: LOCK_FILE, hint: 'run `intact lock` and commit intact.lock' }));
    }
  } else if (isIntactError(lockRead)) {
    findings.push(lockRead.toFinding());
  } else {
    lockEntries = Object.keys(lockRead.lock.recipes).length;
    findings.push(...checkLock({ recipes: states, graph, lock: lockRead.lock, lockText: lockRead.text }));
  }

  findings.sort(byPlace);
  const exitCode = exitStatusOf(findings);
  return { ok: exitCode === 0, exitCode, recipes: states.length, lockEntries, findings };
}

function byPlace(a: Finding, b: Finding): number {
  return (a.file ?? '').localeCompare(b.file ?? '', 'en') || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0);
}
