// `intact verify --rebuild`: build each recipe again in a fresh sandbox, with the
// conditions deliberately varied from the first build (a different build folder
// path and time, job count, umask, locale variables and, in the full sandbox,
// the hostname), and compare the result
// with the store's entry and with the output the lock records. A difference
// names the recipe and lists the differing files with a useful diff.
import type { Platform } from '../platform.js';
import { join } from 'node:path';
import { finding, type Finding } from '../errors.js';
import { buildOne, forceRemove } from '../build/build-one.js';
import type { BuildContext, BuildServices } from '../build/context.js';
import { planProject, plansByName } from '../project/plan.js';
import { entryPath, readMeta } from '../store/entry.js';
import { diffRecords } from '../store/tree-diff.js';
import { scanTree } from '../store/tree-scan.js';
import { explainDiff } from './explain-diff.js';

export interface RebuildCheck {
  recipe: string;
  ok: boolean;
  output: string;
  store?: string;
  locked?: string;
  differences: { path: string; change: string; detail: string }[];
}

/** The conditions of the second build; the first ran with the defaults. */
export function variedConditions(jobs: number): NonNullable<BuildContext['vary']> {
  return {
    jobs: jobs > 1 ? 1 : 3,
    umask: 0o077,
    env: { LANG: 'fr_FR.UTF-8', LANGUAGE: 'fr', LC_CTYPE: 'fr_FR.UTF-8' },
    hostname: 'intact-rebuild',
  };
}

export async function verifyRebuild(
  projectDir: string,
  names: readonly string[],
  build: BuildServices,
  jobs: number,
  target?: Platform,
): Promise<{ findings: Finding[]; checks: RebuildCheck[] }> {
  const sel = await planProject(projectDir, names, target);
  const { platform } = sel;
  const plans = plansByName(sel.plans);
  const first: BuildContext = { ...build, plans, jobs, allowMismatch: true };
  const second: BuildContext = { ...first, vary: variedConditions(jobs) };
  const wanted = names.length > 0 ? new Set(names) : new Set(plans.keys());
  const findings: Finding[] = [];
  const checks: RebuildCheck[] = [];
  for (const plan of sel.plans) {
    // The first build is the store's entry (built now if missing).
    await buildOne(plan, first);
    if (!wanted.has(plan.name)) continue;
    const stored = (await readMeta(build.store, plan.key))?.output;
    const fresh = await buildOne(plan, second, { fresh: true });
    try {
      const output = fresh.meta!.output;
      const locked = plan.expectedOutput;
      const check: RebuildCheck = { recipe: plan.name, ok: true, output, ...(stored ? { store: stored } : {}), ...(locked ? { locked } : {}), differences: [] };
      if (stored !== undefined && stored !== output) {
        check.ok = false;
        check.differences = await differences(entryPath(build.store, plan.key, plan.name, plan.version), fresh.path);
        findings.push(
          finding(
            'NOT_REPRODUCIBLE',
            `${plan.name}: a second build differs from the store's entry in ${check.differences.length} file(s): ${check.differences
              .slice(0, 5)
              .map((d) => d.path)
              .join(', ')}`,
            {
              file: `recipes/${plan.name}.yaml`,
              expected: stored,
              found: output,
              recipe: plan.name,
              hint: 'the build lets something vary into its output (time, paths, job order, locale, umask); the report shows each difference',
            },
          ),
        );
      }
      if (locked !== undefined && locked !== output) {
        check.ok = false;
        findings.push(
          finding('OUTPUT_MISMATCH', `${plan.name}: the rebuild differs from the output intact.lock records for ${platform}`, {
            file: 'intact.lock',
            expected: locked,
            found: output,
            recipe: plan.name,
            hint: 'if the change is intended and reviewed, record it with `intact lock --outputs NAME`',
          }),
        );
      }
      checks.push(check);
    } finally {
      if (fresh.keptAt) await forceRemove(fresh.keptAt);
    }
  }
  return { findings, checks };
}

async function differences(before: string, after: string): Promise<RebuildCheck['differences']> {
  const [a, b] = await Promise.all([scanTree(before), scanTree(after)]);
  const out: RebuildCheck['differences'] = [];
  for (const c of diffRecords(a.records, b.records).slice(0, 50)) {
    let detail = c.detail;
    if (c.change === 'modified' && (c.was === 'f' || c.was === 'x') && (c.now === 'f' || c.now === 'x')) {
      detail = await explainDiff(c.path, join(before, c.path), join(after, c.path)).catch((e: Error) => `${c.detail} (${e.message})`);
    }
    out.push({ path: c.path, change: c.change, detail });
  }
  return out;
}
