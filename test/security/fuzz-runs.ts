// How long the property-based tests run: a short run in the quick suite, a long
// one from scripts/fuzz-long.mjs (INTACT_FUZZ_RUNS), with the seed printed by
// fast-check on failure so any counterexample can be replayed.
export const FUZZ_RUNS = Number(process.env['INTACT_FUZZ_RUNS'] ?? 40);
/** Resident memory may grow this much over one property's run (bytes). */
export const RSS_BUDGET = 384 * 1024 * 1024;
