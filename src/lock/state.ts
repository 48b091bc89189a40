// The project's recipes as the lock sees them: each loaded recipe with its recipe
// hash, plus the dependency graph, plus every finding met on the way. Shared by
// `verify` (which reports) and `lock` (which refuses to lock broken recipes).
import type { Finding } from '../errors.js';
// By file, not through recipe/index.ts: the parser loads only when the memo misses.
import { buildGraph, type Graph } from '../recipe/graph.js';
import { hashReferencedFiles, recipeHash } from '../recipe/hash.js';
import { loadRecipes } from '../recipe/load.js';
import type { RecipeState } from './check.js';

export interface ProjectState {
  states: RecipeState[];
  graph: Graph;
  findings: Finding[];
}

export async function projectState(projectDir: string): Promise<ProjectState> {
  const loaded = await loadRecipes(projectDir);
  const findings: Finding[] = [...loaded.findings];
  const states = await Promise.all(
    loaded.recipes.map(async (r): Promise<RecipeState> => {
      const refs = await hashReferencedFiles(projectDir, r);
      findings.push(...refs.findings);
      return { loaded: r, files: refs.files, hash: recipeHash(r.recipe, refs.files) };
    }),
  );
  const { graph, findings: graphFindings } = buildGraph(loaded.recipes);
  findings.push(...graphFindings);
  return { states, graph, findings };
}
