// `intact review --base REV`: the merge request check CI runs. It fails (exit 1)
// when
// - a recipe changed but its lock entry did not (the lock is stale), or a lock
//   entry changed in a way no recipe change explains (a re-pin, edited hashes);
// - the change leaves a floating version in a recipe;
// - with a budget (`maxDeltas`), the change adds and removes more lines than
//   that, generated files (intact.lock and the like) counted apart.
// Broken recipes or an unreadable lock exit 2, as everywhere. Warnings: licenses
// that are not SPDX, output hashes recorded without a recipe change.
// It also returns the diff report, which CI posts as the summary.
import { canonicalCompact } from '../canonical-json.js';
import { exitStatusOf, finding, type Finding } from '../errors.js';
import { checkLock, LOCK_FILE, projectState, type LockEntry } from '../lock/index.js';
import type { Platform } from '../recipe/types.js';
import type { StoreLayout } from '../store/paths.js';
import { compareWithBase, type Comparison } from './compare.js';
import { measureDeltas, type Deltas } from './deltas.js';
import { checkLicense, licenseHint } from './license.js';
import type { SnapshotRecipe } from './snapshot.js';

export interface ReviewOptions {
  base: string;
  /** The budget of added + removed lines, generated files not counted. */
  maxDeltas?: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  store?: StoreLayout;
  platform?: Platform;
}

export interface ReviewReport extends Comparison {
  findings: Finding[];
  deltas?: Deltas;
  maxDeltas?: number;
  ok: boolean;
  exitCode: 0 | 1 | 2;
}

const FLOATING = new Set(['VERSION_FLOATING', 'NPM_SPEC_FLOATING', 'GIT_REV_FLOATING']);

export async function review(projectDir: string, opts: ReviewOptions): Promise<ReviewReport> {
  const cmp = await compareWithBase(projectDir, {
    base: opts.base,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.store && opts.platform ? { store: opts.store, platform: opts.platform } : {}),
  });
  const findings: Finding[] = [];
  const project = await projectState(projectDir);
  const { head, base } = cmp;

  // Recipes as they are now: floating versions fail the review; other problems are unusable input.
  for (const f of project.findings) {
    if (FLOATING.has(f.code)) {
      const name = /recipes\/([^/]+)\.yaml$/.exec(f.file ?? '')?.[1];
      const before = name ? base.recipes.get(name)?.findings.some((g) => g.code === f.code && g.field === f.field && g.found === f.found) : false;
      findings.push(finding('REVIEW_FLOATING', `${f.message}${before ? ' (already so at the base)' : ' (introduced by this change)'}`, { ...f, hint: f.hint }));
    } else {
      findings.push(f);
    }
  }

  // The lock must be current, and each recipe change paired with its lock entry.
  const changedWithoutLock = new Set<string>();
  if (head.lockProblem) findings.push(head.lockProblem);
  else if (!head.lock && head.recipes.size > 0)
    findings.push(finding('LOCK_MISSING', `there is no ${LOCK_FILE}`, { file: LOCK_FILE, hint: 'run `intact lock` and commit intact.lock' }));
  for (const r of cmp.report.recipes) {
    const a = base.recipes.get(r.name);
    const b = head.recipes.get(r.name);
    const ea = base.lock?.recipes[r.name];
    const eb = head.lock?.recipes[r.name];
    const recipeMoved = a && b ? semanticallyChanged(a, b) : false;
    if (recipeMoved && ea && eb && !r.lockChanged) {
      changedWithoutLock.add(r.name);
      findings.push(
        finding('REVIEW_LOCK_NOT_UPDATED', `${r.file} changed in this change, but its entry in ${LOCK_FILE} did not`, {
          file: r.file,
          hint: `run \`intact lock ${r.name}\` and commit intact.lock with the recipe`,
        }),
      );
    }
    if (a && b && !recipeMoved && ea && eb && r.lockChanged) findings.push(...unexplained(r.name, ea, eb));
  }
  if (head.lock) {
    for (const f of checkLock({ recipes: project.states, graph: project.graph, lock: head.lock, lockText: head.lockText ?? '' })) {
      if (f.recipe !== undefined && changedWithoutLock.has(f.recipe)) continue; // said above, more plainly
      findings.push(f);
    }
  }

  // Licenses of recipes this change adds or edits.
  for (const r of cmp.report.recipes) {
    if (r.status === 'removed' || r.status === 'relocked') continue;
    const recipe = head.recipes.get(r.name)?.loaded?.recipe;
    if (!recipe) continue;
    const place = { file: r.file, ...head.recipes.get(r.name)!.loaded!.locate(['license']), field: 'license' };
    if (recipe.license === undefined) {
      if (r.status === 'added')
        findings.push(
          finding('LICENSE_UNKNOWN', `${r.name} has no license`, { ...place, hint: 'add `license:` with an SPDX expression, so SBOMs and reviewers know it' }),
        );
    } else {
      const v = checkLicense(recipe.license);
      if (!v.ok)
        findings.push(finding('LICENSE_UNKNOWN', `license of ${r.name}: ${v.reason}`, { ...place, found: recipe.license, hint: licenseHint(recipe.license) }));
    }
  }

  const out: ReviewReport = { ...cmp, findings, ok: true, exitCode: 0 };
  if (opts.maxDeltas !== undefined) {
    const deltas = await measureDeltas(cmp.repo, cmp.baseRev);
    out.deltas = deltas;
    out.maxDeltas = opts.maxDeltas;
    if (deltas.counted > opts.maxDeltas) {
      const top = [...deltas.files].sort((x, y) => y.added + y.removed - (x.added + x.removed)).slice(0, 3);
      findings.push(
        finding('REVIEW_TOO_LARGE', `this change adds and removes ${deltas.counted} lines; the budget is ${opts.maxDeltas}`, {
          expected: `at most ${opts.maxDeltas}`,
          found: String(deltas.counted),
          hint: `split it into smaller merge requests (largest: ${top.map((d) => `${d.path} +${d.added} -${d.removed}`).join(', ')}); generated files such as ${LOCK_FILE} do not count`,
        }),
      );
    }
  }
  out.exitCode = exitStatusOf(findings);
  out.ok = out.exitCode === 0;
  return out;
}

/** Did the recipe change in a way that matters to the lock? Comments and layout do not. */
function semanticallyChanged(a: SnapshotRecipe, b: SnapshotRecipe): boolean {
  if (!a.loaded || !b.loaded) return a.text !== b.text;
  return canonicalCompact(a.loaded.recipe) !== canonicalCompact(b.loaded.recipe);
}

/**
 * A lock entry that changed while its recipe did not. Moved deps (a
 * dependency was upgraded) and changed referenced files (a patch was edited) are
 * explained; recorded output hashes are reported; anything else — new pins, a new
 * recipe hash — is not. Store keys are not looked at: they follow from the rest
 * (a dependency's change moves them), and checkLock recomputes every one.
 */
function unexplained(name: string, a: LockEntry, b: LockEntry): Finding[] {
  const keys = (['version', 'recipeHash', 'files', 'sources', 'deps', 'output'] as const).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  const rest = keys.filter((k) => k !== 'output' && !(keys.includes('files') && k === 'recipeHash') && k !== 'files');
  if (rest.length > 0) {
    return [
      finding('REVIEW_RECIPE_NOT_UPDATED', `the ${LOCK_FILE} entry of ${name} changed (${rest.join(', ')}) but recipes/${name}.yaml did not`, {
        file: LOCK_FILE,
        field: `recipes.${name}`,
        hint: rest.includes('sources')
          ? 'pins change only with their recipe: if upstream bytes changed, find out why before re-pinning; otherwise restore the entry (`git checkout <base> -- intact.lock`, then `intact lock`)'
          : `restore the entry and run \`intact lock ${name}\`; the lock is written by intact, not by hand`,
      }),
    ];
  }
  if (keys.includes('output')) {
    return [
      finding('REVIEW_OUTPUT_CHANGED', `the recorded output hash of ${name} changed without a recipe change`, {
        file: LOCK_FILE,
        field: `recipes.${name}.output`,
        hint: 'a rebuild gave other bytes or the hash was recorded anew: check that the build is reproducible (`intact verify --rebuild`)',
      }),
    ];
  }
  return [];
}
