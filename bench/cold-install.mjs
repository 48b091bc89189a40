#!/usr/bin/env node
// bench/cold-install: a cold `intact install` of the default recipe set (this
// repository's recipes and lock, in a scratch project), once with a warm download
// cache and once with a cold one, each into a store without entries. It prints
// the wall time and the share of it in which neither a download nor a build was
// running (issue 17: fetching overlaps building), from the times at which the
// plain progress lines arrive:
//   download: `fetch SRC` to `fetched SRC` (a cached source takes no time);
//   build:    `build NAME@VERSION` to `built NAME` (unpacking, steps, checks, hashing).
//
//   npm run build && node bench/cold-install.mjs
//
// The cold run reaches the npm registry; both build SQLite with Zig (minutes).
// BENCH_CLI and BENCH_LOCK run another build of intact (e.g. one from before the
// overlap, with the lock it reads) for comparison; BENCH_ONLY=cold skips the warm run.
// The stores are removed at the end (docs/measured.md §6).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = process.env.BENCH_CLI ?? join(repo, 'bin/intact.js');
const work = mkdtempSync(join(tmpdir(), 'intact-bench-cold-'));
const proj = join(work, 'project');
mkdirSync(proj);
cpSync(join(repo, 'recipes'), join(proj, 'recipes'), { recursive: true });
cpSync(process.env.BENCH_LOCK ?? join(repo, 'intact.lock'), join(proj, 'intact.lock'));

/** One install; each progress line with the time it arrived (ms from the start). */
function install(store) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const lines = [];
    let rest = '';
    const p = spawn(process.execPath, [cli, 'install', '--store', store], {
      cwd: proj,
      env: { ...process.env, NO_COLOR: '1', CI: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const take = (chunk) => {
      const at = performance.now() - t0;
      const parts = (rest + chunk).split('\n');
      rest = parts.pop();
      for (const l of parts) lines.push({ at, line: l.trim() });
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0 ? resolve({ wall: performance.now() - t0, lines }) : reject(new Error(`install exited ${code}: ${lines.map((l) => l.line).join('\n')}`)),
    );
  });
}

/** Download and build intervals from the progress lines, and the share of wall time covered by none. */
function idleShare({ wall, lines }) {
  const open = new Map();
  const spans = [];
  const counts = { download: 0, build: 0 };
  for (const { at, line } of lines) {
    let m;
    if ((m = /^fetch (\S+)/.exec(line))) open.set(`d:${m[1]}`, at);
    else if ((m = /^fetched (\S+)/.exec(line))) close(`d:${m[1]}`, at, 'download');
    else if ((m = /^build (\S+)@\S+$/.exec(line))) open.set(`b:${m[1]}`, at);
    else if ((m = /^built (\S+)/.exec(line))) close(`b:${m[1]}`, at, 'build');
  }
  function close(key, at, kind) {
    if (!open.has(key)) return;
    spans.push([open.get(key), at]);
    open.delete(key);
    counts[kind]++;
  }
  spans.sort((a, b) => a[0] - b[0]);
  let busy = 0;
  let end = 0;
  for (const [s, e] of spans) {
    if (e <= end) continue;
    busy += e - Math.max(s, end);
    end = e;
  }
  return { idle: 1 - busy / wall, ...counts };
}

try {
  const warm = join(work, 'store-warm');
  const cold = join(work, 'store-cold');
  mkdirSync(warm);
  const cache = join(repo, 'store', 'cache');
  if (existsSync(cache)) cpSync(cache, join(warm, 'cache'), { recursive: true });
  else console.log('(no download cache in ./store: the "warm" run downloads too; run `intact install` here first)');
  const runs = [
    ['warm download cache', warm],
    ['cold download cache', cold],
  ].filter(([w]) => !process.env.BENCH_ONLY || w.startsWith(process.env.BENCH_ONLY));
  for (const [what, store] of runs) {
    const r = await install(store);
    const s = idleShare(r);
    console.log(
      `${what}: ${(r.wall / 1000).toFixed(1)} s wall, ${s.download} download(s), ${s.build} build(s); neither a download nor a build running: ${(100 * s.idle).toFixed(1)}% of the wall time`,
    );
  }
} finally {
  const { spawnSync } = await import('node:child_process');
  spawnSync('chmod', ['-R', 'u+w', work]);
  rmSync(work, { recursive: true, force: true });
}
