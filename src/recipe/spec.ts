// Recipe names and `name@version` specs: the part of the exact-version rules
// (exact.ts) that loading, hashing and the graph need, without semver, so a run
// that takes every recipe from the memo (memo.ts) never loads it.
/** Recipe names: also file names, so a safe, portable alphabet. */
export const RECIPE_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** `name@version` split at the last `@` that is not the first character (npm scopes). */
export function splitSpec(spec: string): { name: string; version: string } | undefined {
  const at = spec.lastIndexOf('@');
  if (at <= 0) return undefined;
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}
