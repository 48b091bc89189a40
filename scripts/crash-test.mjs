#!/usr/bin/env node
// The crash test, long run: kill a cold `intact install` with SIGKILL at many
// points (download, unpack, build, publish), and `intact lock` at many points of
// its fetch and write, and check after each kill that `verify --store` finds
// nothing to report, that a rerun succeeds and that no temp file outlives it.
// Local only: a loopback server on port 0 serves the source slowly enough to be
// killed mid-download. Run: `node scripts/crash-test.mjs [POINTS]` (default 40
// kill times spread over one cold install, and as many over one lock; the short
// run is test/faults/crash.test.ts; docs/reliability.md).
import { checkAfterKill, crashProject, killDuring, run } from './crash-kit.mjs';

const points = Number(process.argv[2] ?? 40);
const project = await crashProject();
const { dir } = project;

/** Spread `points` kills over one run of `args`, timed cold first. */
async function series(name, args, reset, rerun, opts) {
  reset();
  const t0 = Date.now();
  const cold = await run(args, dir);
  if (cold.code !== 0) throw new Error(`cold ${name} failed: ${cold.out}`);
  const total = Date.now() - t0;
  let failures = 0;
  let leftovers = 0;
  for (let i = 0; i < points; i++) {
    reset();
    const at = Math.round((total * (i + 0.5)) / points);
    await killDuring(args, dir, { at });
    const r = await checkAfterKill(dir, rerun, opts);
    leftovers += r.left.length;
    if (!r.ok) failures++;
    console.log(
      `${name}: kill at ${at} ms: verify ${r.verify.code}${r.findings ? ` (${r.findings} findings)` : ''}, rerun ${r.again.code}, temps after rerun ${r.left.length}${r.ok ? '' : `  <-- ${`${r.verify.out}\n${r.again.out}`.trim().split('\n').slice(-3).join(' / ')} ${r.left.join(' ')}`}`,
    );
  }
  console.log(`${name}: ${points} kill points over a ${total} ms cold run: ${failures} failed, ${leftovers} temps outlived a rerun`);
  return failures;
}

const failures =
  (await series('install', ['install', '--sandbox=off'], () => project.reset(), ['install', '--sandbox=off'])) +
  (await series('lock', ['lock'], () => project.unlock(), ['lock'], { lockFirst: true }));
project.close();
process.exitCode = failures > 0 ? 1 : 0;
