// Public door of the recipe layer: formats, exact-version rules, loading, hashing, graph.
export * from './types.js';
export { classifyVersion, classifyGitRev, classifyNpmSpec, classifyDep, splitSpec, RECIPE_NAME, MOVING_WORDS, type Dialect, type VersionVerdict } from './exact.js';
export { classifyIntegrity, STRONG_ALGORITHMS, type StrongAlgorithm } from './integrity.js';
export { parseRecipe, loadRecipeFile, loadRecipes, RECIPES_DIR, MAX_RECIPE_BYTES } from './load.js';
export { recipeHash, hashReferencedFiles, sha256Sri, isContainedPath } from './hash.js';
export { buildGraph, closureOf, depEntries, topoOrder, type Graph } from './graph.js';
export { referencedFiles } from './rules.js';
export { SCHEMA_PATH, fieldName } from './schema.js';
