// Public door of the recipe layer: formats, exact-version rules, loading, hashing, graph.
export * from './types.js';
export { classifyVersion, classifyGitRev, classifyNpmSpec, classifyDep, MOVING_WORDS, type Dialect, type VersionVerdict } from './exact.js';
export { classifyIntegrity, STRONG_ALGORITHMS, type StrongAlgorithm } from './integrity.js';
export { loadRecipes, RECIPES_DIR, MAX_RECIPE_BYTES } from './load.js';
export { parseRecipe } from './parse.js';
export { recipeHash, hashReferencedFiles, sha256Sri, isContainedPath } from './hash.js';
export { buildGraph, closureOf, depEntries, topoOrder, type Graph } from './graph.js';
export { referencedFiles } from './references.js';
export { RECIPE_NAME, splitSpec } from './spec.js';
export { SCHEMA_PATH, fieldName } from './schema.js';
