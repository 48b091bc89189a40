// The one planner every command calls: the host platform, the project's recipes
// and a current lock, then a build plan for each selected recipe and its closure,
// dependencies first. The first finding that stops planning is thrown, in one
// format, naming how many more there are.
import { byCodePoint } from '../canonical-json.js';
import { IntactError, exitStatusOf, type Finding } from '../errors.js';
import { requireRecipes } from '../recipe/names.js';
import { checkLock, LOCK_FILE, projectState, readLock, type Lockfile, type ProjectState } from '../lock/index.js';
import { requireHostPlatform, type Platform } from '../platform.js';
import { topoOrder } from '../recipe/graph.js';
import type { Recipe } from '../recipe/types.js';
import { depName } from '../lock/keys.js';
import { planBuild, recipePlatforms, type BuildPlan } from '../build/plan.js';

export interface ProjectPlan {
  /** The target platform of the selected recipes. */
  platform: Platform;
  /** The selected recipes and their closure, dependencies first. */
  plans: BuildPlan[];
  /** Recipes left out without names because they are not declared for the platform. */
  skipped: { name: string; reason: string }[];
}

/**
 * Plan the named recipes (every recipe declared for the platform when none is
 * named) and their closure. Throws when the names, the recipes or the lock stop it.
 */
export async function planProject(projectDir: string, names: readonly string[], platform: Platform = requireHostPlatform()): Promise<ProjectPlan> {
  const sel = await selectPlans(projectDir, names, platform, requireHostPlatform());
  if (sel.findings.length > 0) throw IntactError.fromFindings(sel.findings);
  return { platform, plans: sel.plans, skipped: sel.skipped };
}

/** A run's plans by name, as the build engine takes them. */
export function plansByName(plans: readonly BuildPlan[]): Map<string, BuildPlan> {
  return new Map(plans.map((p) => [p.name, p]));
}

async function selectPlans(
  projectDir: string,
  names: readonly string[],
  platform: Platform,
  buildPlatform: Platform,
): Promise<Omit<ProjectPlan, 'platform'> & { findings: Finding[] }> {
  const [project, read] = await Promise.all([projectState(projectDir), readLock(projectDir)]);
  const findings = project.findings.filter((f) => f.severity === 'error');
  if (exitStatusOf(findings) === 2) return { plans: [], skipped: [], findings };
  const byName = new Map(project.states.map((s) => [s.loaded.recipe.name, s]));
  requireRecipes(names, byName.keys());
  if (!read) throw new IntactError('LOCK_MISSING', `there is no ${LOCK_FILE}`, { file: LOCK_FILE, hint: 'run `intact lock` and commit intact.lock' });
  const stale = staleEntries(project, read.lock);
  if (stale.length > 0) {
    throw new IntactError('NOT_LOCKED', `intact.lock is not current for: ${stale.join(', ')}`, {
      file: LOCK_FILE,
      hint: `run \`intact lock\` and commit intact.lock (install never writes the lock); \`intact verify\` shows the details`,
    });
  }
  const skipped: { name: string; reason: string }[] = [];
  let roots = names.length > 0 ? [...names] : [...byName.keys()].sort(byCodePoint);
  if (names.length === 0) {
    roots = roots.filter((n) => {
      const ok = recipePlatforms(byName.get(n)!.loaded.recipe).includes(platform);
      if (!ok) skipped.push({ name: n, reason: `not declared for ${platform}` });
      return ok;
    });
  }
  const targets = platformsOf(roots, platform, buildPlatform, (n) => byName.get(n)!.loaded.recipe);
  const plans = new Map<string, BuildPlan>();
  for (const name of topoOrder(project.graph, roots)) {
    const s = byName.get(name)!;
    const on = targets.get(name)!;
    // Tools always run here: a recipe planned for the build machine builds natively.
    plans.set(name, planBuild(s.loaded.recipe, read.lock.recipes[name]!, on, plans, on === platform ? buildPlatform : on));
  }
  return { plans: [...plans.values()], skipped, findings };
}

/**
 * The platform each recipe of the closure is built for: the roots and their
 * deps for the target, tools (and all they need) for the build machine. A
 * recipe needed both ways is planned for the target; planBuild then names it.
 */
function platformsOf(roots: readonly string[], platform: Platform, buildPlatform: Platform, recipe: (name: string) => Recipe): Map<string, Platform> {
  const on = new Map<string, Platform>();
  const visit = (name: string, p: Platform): void => {
    if (on.has(name)) return;
    on.set(name, p);
    const r = recipe(name);
    for (const t of r.tools ?? []) visit(depName(t), buildPlatform);
    for (const d of r.deps ?? []) visit(depName(d), p);
  };
  for (const r of roots) visit(r, platform);
  return on;
}

/**
 * The names whose lock entry is not current: lock entries left without a recipe,
 * and recipes checkLock finds fault with. To name them from the data, never from
 * a finding's wording, a stale lock is checked again one recipe at a time (with
 * the whole lock, which keys and closures need; LOCK_ENTRY_EXTRA then concerns
 * the recipes left out of that call).
 */
function staleEntries(project: ProjectState, lock: Lockfile): string[] {
  const { states, graph } = project;
  const named = checkLock({ recipes: states, graph, lock }).flatMap((f) => (f.recipe === undefined ? [] : [f.recipe]));
  return [...new Set(named)].sort(byCodePoint);
}
