#!/usr/bin/env node
// bench/verify-static: `intact verify` on 200 generated recipes, against the bare
// cost of starting Node (`node -e 0`), measured in the same script as paired runs.
// Run by hand after `npm run build`:  node bench/verify-static.mjs [recipes] [runs]
// Target (issue 17): the ratio stays at or under 2.5x.
// With --scale: 200, 1,000 and 4,000 recipes in a deep and a shallow graph,
// printing the marginal time per recipe (issue 17: linear in the project's size):
//   node bench/verify-static.mjs --scale [runs]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCALE = process.argv[2] === '--scale';
const N = SCALE ? 200 : Number(process.argv[2] ?? 200);
const RUNS = Number(process.argv[3] ?? (SCALE ? 5 : 15));
const repo = fileURLToPath(new URL('..', import.meta.url));
const { LOCKFILE_VERSION, makeEntry, projectState, withKeys, writeLock } = await import(join(repo, 'dist/lock/index.js'));
const pin = (s) => `sha512-${createHash('sha512').update(s).digest('base64')}`;
const spec = (j) => `pkg${j}@1.${j}.0`;

/**
 * The dependencies of recipe i. deep: the one before it and one halfway down
 * (closures grow with i); shallow: two among the first 20 recipes.
 */
function depsOf(i, shape) {
  if (i === 0) return [];
  if (shape === 'deep' || i < 20) return i > 2 ? [i - 1, Math.floor(i / 2)] : [i - 1];
  return [i % 20, (i + 7) % 20];
}

/** A project of n generated recipes and the lock `intact lock` would write for it. */
async function makeProject(n, shape) {
  const dir = mkdtempSync(join(tmpdir(), 'intact-bench-verify-'));
  mkdirSync(join(dir, 'recipes'));
  for (let i = 0; i < n; i++) {
    const d = depsOf(i, shape);
    const deps = d.length > 0 ? `deps: [${d.map(spec).join(', ')}]\n` : '';
    writeFileSync(
      join(dir, 'recipes', `pkg${i}.yaml`),
      `# generated recipe ${i}
name: pkg${i}
version: 1.${i}.0
description: generated package ${i}
license: MIT
platforms: [linux-x64, linux-arm64]
sources:
  - url: https://example.invalid/pkg${i}-1.${i}.0.tar.gz
    mirrors: [https://mirror.invalid/pkg${i}-1.${i}.0.tar.gz]
    strip: 1
  - npm: "@scope/pkg${i}@1.${i}.0"
    platforms: [linux-arm64]
${deps}build:
  - run: [zig, cc, -O2, -o, "$out/bin/pkg${i}", main.c]
  - chmod: bin/pkg${i}
    mode: "0755"
bin: [bin/pkg${i}]
`,
    );
  }
  const { states, graph } = await projectState(dir);
  const lock = { lockfileVersion: LOCKFILE_VERSION, recipes: {} };
  for (const s of states) {
    const sources = s.loaded.recipe.sources.map((src, j) => {
      const { strip, ...rest } = src;
      return { kind: 'url' in src ? 'url' : 'npm', ...rest, integrity: pin(`${s.loaded.recipe.name}${j}`) };
    });
    lock.recipes[s.loaded.recipe.name] = makeEntry(s, sources);
  }
  // Store keys as `intact lock` records them.
  await writeLock(dir, withKeys(lock, graph));
  return dir;
}

function time(args, cwd) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const verify = (dir) => time([join(repo, 'bin/intact.js'), 'verify'], dir);

if (SCALE) {
  // Cost per recipe as the project grows: the marginal time per recipe between
  // 200 and 1,000 and between 1,000 and 4,000 must stay within 1.5x (linear).
  const SIZES = [200, 1000, 4000];
  for (const shape of ['deep', 'shallow']) {
    const ms = [];
    for (const n of SIZES) {
      const dir = await makeProject(n, shape);
      verify(dir); // warm the file cache
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(verify(dir));
      ms.push(median(runs));
      const lockBytes = statSync(join(dir, 'intact.lock')).size;
      console.log(`${shape} ${n} recipes: intact verify ${median(runs).toFixed(0)} ms (median of ${RUNS}), intact.lock ${(lockBytes / 1e6).toFixed(2)} MB`);
      rmSync(dir, { recursive: true, force: true });
    }
    const m1 = (ms[1] - ms[0]) / (SIZES[1] - SIZES[0]);
    const m2 = (ms[2] - ms[1]) / (SIZES[2] - SIZES[1]);
    console.log(
      `${shape}: marginal ${m1.toFixed(3)} ms/recipe (200-1,000), ${m2.toFixed(3)} ms/recipe (1,000-4,000): ${(m2 / m1).toFixed(2)}x (target <= 1.5x)`,
    );
  }
  process.exit(0);
}

const dir = await makeProject(N, 'deep');
const base = [];
const intact = [];
verify(dir); // warm the file cache
for (let i = 0; i < RUNS; i++) {
  base.push(time(['-e', '0'], dir));
  intact.push(verify(dir));
}
const b = median(base);
const v = median(intact);
const ratios = base.map((x, i) => intact[i] / x);
console.log(`recipes: ${N}, paired runs: ${RUNS}`);
console.log(`node -e 0:      ${b.toFixed(1)} ms (median)`);
console.log(`intact verify:  ${v.toFixed(1)} ms (median)`);
console.log(`ratio of medians: ${(v / b).toFixed(2)}x, median of paired ratios ${median(ratios).toFixed(2)}x (target <= 2.5x)`);
if (process.env.KEEP) console.log(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
