#!/usr/bin/env node
// bench/install-noop: `intact install` when all 50 recipes are already built (the
// command a developer runs after every pull), against `node -e 0`, as paired
// runs in the same script. Run by hand after `npm run build`:
//   node bench/install-noop.mjs [recipes] [runs]
//   node bench/install-noop.mjs --project DIR [runs]   # an installed project, e.g. this repository's default set
// Target (issue 17): the ratio stays at or under 2.5x.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT = process.argv[2] === '--project' ? process.argv[3] : undefined;
const args = PROJECT ? process.argv.slice(4) : process.argv.slice(2);
const N = PROJECT ? 0 : Number(args[0] ?? 50);
const RUNS = Number((PROJECT ? args[0] : args[1]) ?? 15);
const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'bin/intact.js');
const dir = PROJECT ?? mkdtempSync(join(tmpdir(), 'intact-bench-noop-'));
if (!PROJECT) mkdirSync(join(dir, 'recipes'));
for (let i = 0; i < N; i++) {
  // A chain of dependencies and a program each: the shape of a real toolchain set.
  const deps = i > 0 ? `deps: [pkg${i - 1}@1.${i - 1}.0]\n` : '';
  writeFileSync(
    join(dir, 'recipes', `pkg${i}.yaml`),
    `name: pkg${i}
version: 1.${i}.0
${deps}build:
  - write: $out/bin/pkg${i}
    content: "#!/bin/sh\\necho pkg${i}\\n"
    executable: true
  - write: $out/share/pkg${i}/README
    content: "generated package ${i}\\n"
bin: [bin/pkg${i}]
`,
  );
}
const env = { ...process.env, NO_COLOR: '1' };
if (!PROJECT) {
  execFileSync(process.execPath, [cli, 'lock'], { cwd: dir, env, stdio: 'ignore' });
  execFileSync(process.execPath, [cli, 'install'], { cwd: dir, env, stdio: 'ignore' });
}

function time(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, out: String(r.stdout) };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = [];
const noop = [];
const first = time([cli, 'install']);
if (!/0 built, \d+ reused, 0 download/.test(first.out)) throw new Error(`not a no-op: ${first.out}`);
for (let i = 0; i < RUNS; i++) {
  base.push(time(['-e', '0']).ms);
  noop.push(time([cli, 'install']).ms);
}
const b = median(base);
const v = median(noop);
const ratios = base.map((x, i) => noop[i] / x);
console.log(`${PROJECT ? `project ${PROJECT}` : `recipes: ${N}`} (all built), paired runs: ${RUNS}`);
console.log(`node -e 0:             ${b.toFixed(1)} ms (median)`);
console.log(`intact install (no-op): ${v.toFixed(1)} ms (median)`);
console.log(`ratio of medians: ${(v / b).toFixed(2)}x, median of paired ratios ${median(ratios).toFixed(2)}x (target <= 2.5x)`);
if (process.env.KEEP || PROJECT) {
  if (!PROJECT) console.log(`kept ${dir}`);
  process.exit(0);
}
execFileSync('chmod', ['-R', 'u+w', dir]);
rmSync(dir, { recursive: true, force: true });
