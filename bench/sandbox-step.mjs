#!/usr/bin/env node
// bench/sandbox-step: what the sandbox costs per build step, at each level,
// against a plain spawn of the same static program, measured as interleaved
// runs in this one process and quoted as ratios of medians. A step mounts
// twenty dependencies, as a larger build does: per-mount host commands or
// per-step copying would show here.
// Run by hand after `npm run build` and one `npm test` (which brings the static
// `inspect` program into the per-user test cache, docs/testing.md):
//   node bench/sandbox-step.mjs [runs]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.argv[2] ?? 30);
const repo = fileURLToPath(new URL('..', import.meta.url));
const cache = process.env.INTACT_TEST_CACHE || join(process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir(), '.cache'), 'intact-test');
const T = realpathSync(join(cache, 'toolchain/.intact/bin/inspect'));
const { runStep, probeSandbox } = await import(join(repo, 'dist/build/sandbox/index.js'));

const dir = mkdtempSync(join(tmpdir(), 'intact-bench-step-'));
const mounts = [
  { real: dir, inside: '/build', writable: true },
  { real: dirname(T), inside: '/store/tools', writable: false },
];
for (let i = 0; i < 20; i++) {
  mkdirSync(join(dir, `dep${i}`));
  mounts.push({ real: join(dir, `dep${i}`), inside: `/store/dep${i}`, writable: false });
}

const plain = () => new Promise((ok, fail) => spawn(T, ['true'], { stdio: 'ignore' }).on('exit', (c) => (c === 0 ? ok() : fail(new Error(`exit ${c}`)))));
const step = (level) => async () => {
  const full = level === 'full';
  const r = await runStep(
    { argv: full ? ['/store/tools/inspect', 'true'] : [T, 'true'], env: {}, cwd: full ? '/build' : dir, mounts, log: () => undefined },
    level,
  );
  if (r.exitCode !== 0) throw new Error(`${level}: exit ${r.exitCode}`);
};
const { level: best } = await probeSandbox();
const levels = ['none', ...(best === 'full' ? ['partial', 'full'] : best === 'partial' ? ['partial'] : [])];
const cases = { plain, ...Object.fromEntries(levels.map((l) => [l, step(l)])) };
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [k, f] of Object.entries(cases)) {
    const t0 = performance.now();
    await f();
    times[k].push(performance.now() - t0);
  }
}
rmSync(dir, { recursive: true, force: true });
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const base = median(times.plain);
console.log(`sandbox step, ${RUNS} interleaved runs, 20 dependency mounts (best level here: ${best})`);
for (const k of Object.keys(cases))
  console.log(`  ${k.padEnd(8)} median ${median(times[k]).toFixed(1)} ms  ${(median(times[k]) / base).toFixed(1)}x plain spawn`);
