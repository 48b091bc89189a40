// The dependency graph between recipes: every `tools` and `deps` entry must name an existing
// recipe at its exact version, and the graph must be acyclic. Pure.
import { byCodePoint } from '../canonical-json.js';
import { finding, type Finding } from '../errors.js';
import { splitSpec } from './spec.js';
import type { LoadedRecipe, Recipe } from './types.js';

export interface Graph {
  /** name → direct dependency names (only those that resolved). */
  edges: Map<string, string[]>;
  byName: Map<string, LoadedRecipe>;
}

export function buildGraph(recipes: readonly LoadedRecipe[]): { graph: Graph; findings: Finding[] } {
  const byName = new Map(recipes.map((r) => [r.recipe.name, r]));
  const edges = new Map<string, string[]>();
  const findings: Finding[] = [];
  for (const r of recipes) {
    const out: string[] = [];
    for (const { field, i, spec: dep } of depEntries(r.recipe)) {
      const parts = splitSpec(dep);
      if (!parts) continue; // reported by the exact-version rules
      // Positions cost a full YAML parse: compute them only for a finding.
      const place = () => ({ file: r.file, ...r.locate([field, i]), field: `${field}[${i}]` });
      const target = byName.get(parts.name);
      if (!target) {
        findings.push(
          finding('DEP_UNKNOWN', `dependency ${dep}: there is no recipe named "${parts.name}"`, {
            ...place(),
            hint: `add recipes/${parts.name}.yaml, or fix the name`,
          }),
        );
      } else if (target.recipe.version !== parts.version) {
        findings.push(
          finding('DEP_UNKNOWN', `dependency ${dep}: recipes/${parts.name}.yaml is at version ${target.recipe.version}`, {
            ...place(),
            expected: parts.version,
            found: target.recipe.version,
            hint: `depend on ${parts.name}@${target.recipe.version}, or change that recipe's version (one recipe is one version)`,
          }),
        );
      } else if (parts.name === r.recipe.name) {
        findings.push(finding('DEP_CYCLE', `${r.recipe.name} depends on itself`, { ...place(), hint: 'remove this dependency' }));
      } else {
        out.push(parts.name);
      }
    }
    edges.set(r.recipe.name, out);
  }
  findings.push(...findCycles({ edges, byName }));
  return { graph: { edges, byName }, findings };
}

/** Every cycle, reported once at the recipe where the search closed it. */
function findCycles(graph: Graph): Finding[] {
  const findings: Finding[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'open');
    stack.push(name);
    for (const next of graph.edges.get(name) ?? []) {
      const s = state.get(next);
      if (s === 'open') {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        const r = graph.byName.get(name)!;
        const at = depEntries(r.recipe).find((d) => splitSpec(d.spec)?.name === next)!;
        findings.push(
          finding('DEP_CYCLE', `dependency cycle: ${cycle.join(' -> ')}`, {
            file: r.file,
            ...r.locate([at.field, at.i]),
            field: `${at.field}[${at.i}]`,
            hint: 'a recipe cannot need itself, directly or through others; remove one of these dependencies',
          }),
        );
      } else if (s === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of [...graph.edges.keys()].sort(byCodePoint)) if (!state.has(name)) visit(name);
  return findings;
}

/** The transitive dependencies of a recipe, as sorted `name@version`; assumes no cycles. */
export function closureOf(graph: Graph, name: string): string[] {
  const seen = new Set<string>();
  const walk = (n: string): void => {
    for (const d of graph.edges.get(n) ?? []) {
      if (!seen.has(d)) {
        seen.add(d);
        walk(d);
      }
    }
  };
  walk(name);
  return [...seen].map((n) => `${n}@${graph.byName.get(n)!.recipe.version}`).sort(byCodePoint);
}

/** Names in dependency order (dependencies first); assumes no cycles. */
export function topoOrder(graph: Graph, roots?: readonly string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const walk = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const d of graph.edges.get(n) ?? []) walk(d);
    order.push(n);
  };
  for (const n of roots ?? [...graph.edges.keys()].sort(byCodePoint)) walk(n);
  return order;
}

/** Each entry of `tools` and `deps`, with where it is written. */
export function depEntries(r: Recipe): { field: 'tools' | 'deps'; i: number; spec: string }[] {
  return [
    ...(r.tools ?? []).map((spec, i) => ({ field: 'tools' as const, i, spec })),
    ...(r.deps ?? []).map((spec, i) => ({ field: 'deps' as const, i, spec })),
  ];
}
