#!/usr/bin/env node
// The long run of the property-based security tests (test/security/fuzz-*.test.ts):
// the same properties as the quick suite, with many more generated cases.
//
//   node scripts/fuzz-long.mjs [runs]     # default 5000 per property (x5 for the cheap readers)
//
// A failure prints fast-check's counterexample and seed; replay it by putting
// `seed` and `path` in that property's fc.assert options. The quick suite runs
// 40 per property. Measured 2026-12-07 (2 shared cores): 600 runs of the
// extractor properties take ~15 s, so the default takes a few minutes.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 5000);
const repo = fileURLToPath(new URL('..', import.meta.url));
const r = spawnSync('npx', ['vitest', 'run', 'test/security/fuzz-extract.test.ts', 'test/security/fuzz-lock-recipe.test.ts', '--testTimeout', '0'], {
  cwd: repo,
  stdio: 'inherit',
  env: { ...process.env, INTACT_FUZZ_RUNS: String(runs) },
});
process.exit(r.status ?? 1);
