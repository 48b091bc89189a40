// Which of an install's builds go on .intact/bin: the recipes asked for (all
// of the set when none is named, except those only used as another recipe's
// tool) and what they run with, their `deps`. Never a recipe reached only as a
// tool: it ran during a build and is not the user's program (a bootstrap's
// seed busybox and the busybox built from it would both be "busybox"). Nix's
// profile holds a package's runtime closure, not its nativeBuildInputs, alike.
// Pure.
import type { BuildPlan } from '../build/plan.js';

export function profilePlans(plans: readonly BuildPlan[], names: readonly string[]): BuildPlan[] {
  const byName = new Map(plans.map((p) => [p.name, p]));
  const usedAsTool = new Set(plans.flatMap((p) => p.deps.filter((d) => d.tool).map((d) => d.name)));
  const roots = names.length > 0 ? names : plans.map((p) => p.name).filter((n) => !usedAsTool.has(n));
  const keep = new Set<string>();
  const visit = (name: string): void => {
    const plan = byName.get(name);
    if (!plan || keep.has(name)) return;
    keep.add(name);
    for (const d of plan.deps) if (!d.tool) visit(d.name);
  };
  for (const r of roots) visit(r);
  return plans.filter((p) => keep.has(p.name));
}
