#!/usr/bin/env node
// bench/verify-store: `verify --store` on one large entry against
// `find -type f -print0 | xargs -0 sha256sum`, as whole processes, in paired runs
// whose order alternates; prints the median of the paired throughput ratios
// (find's time / intact's time: 1.0 is as fast, above is faster).
// Target (issue 6): at least 0.8x.
//
//   npm run build && node bench/verify-store.mjs [runs]        # BENCH_RUNS=7 by default
//
// The entry: the unpacked Zig 0.11.0 from a store that has one (read-only; set
// BENCH_STORE, default /tmp/real/store), else a synthetic entry of the same
// shape (13,500 files, ~330 MB: many small sources, a few large binaries), made
// once in BENCH_DIR (default $TMPDIR/intact-bench-verify-store) and kept between
// runs (docs/measured.md §6: no deleting and re-creating inside a measurement);
// it is removed at the end unless BENCH_KEEP=1.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const RUNS = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 7);
const repo = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => pathToFileURL(join(repo, 'dist', p)).href;

async function pickEntry() {
  const real = process.env.BENCH_STORE ?? '/tmp/real/store';
  const zig = existsSync(real) ? readdirSync(real).find((n) => /^[0-9a-z]{32}-zig-0\.11\.0$/.test(n)) : undefined;
  if (zig) return { store: real, name: zig, made: false, what: `the Zig 0.11.0 entry of ${real}` };
  const root = process.env.BENCH_DIR ?? join(tmpdir(), 'intact-bench-verify-store');
  const { layoutOf } = await import(dist('store/paths.js'));
  const store = layoutOf(root);
  const existing = existsSync(root) ? readdirSync(root).find((n) => n.endsWith('-synthetic-1.0.0')) : undefined;
  if (existing) return { store: root, name: existing, made: true, what: `a synthetic entry in ${root} (kept from an earlier run)` };
  process.stderr.write(`making a synthetic entry of 13,500 files in ${root} ...\n`);
  const { addEntry } = await import(dist('store/entry.js'));
  const { storeKey } = await import(dist('store/key.js'));
  const { treeHash } = await import(dist('store/tree-hash.js'));
  const { normaliseOutput } = await import(dist('build/checks/normalise.js'));
  mkdirSync(store.tmp, { recursive: true });
  const staged = join(store.tmp, 'stage');
  // Shape of the Zig package: ~13,500 library sources in ~700 folders (mostly
  // 1-40 KB, median ~8 KB), plus a few binaries of 1-150 MB.
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const blob = randomBytes(1024 * 1024);
  let total = 0;
  for (let i = 0; i < 13_500; i++) {
    const dir = join(staged, 'lib', `d${i % 700}`, `s${i % 7}`);
    mkdirSync(dir, { recursive: true });
    const size = Math.floor(200 + rand() * rand() * 40_000);
    const off = Math.floor(rand() * (blob.length - size));
    writeFileSync(join(dir, `f${i}.zig`), blob.subarray(off, off + size));
    total += size;
  }
  mkdirSync(join(staged, 'bin'), { recursive: true });
  for (const [n, mb] of [['zig', 150], ['tool-a', 20], ['tool-b', 5]]) {
    const parts = [];
    for (let j = 0; j < mb; j++) parts.push(blob);
    writeFileSync(join(staged, 'bin', n), Buffer.concat(parts), { mode: 0o755 });
    total += mb * blob.length;
  }
  await normaliseOutput(staged, 315532800);
  const output = await treeHash(staged);
  const key = storeKey({ recipeHash: 'sha256-bench', sources: [], deps: {}, platform: 'linux-x64' });
  await addEntry(store, staged, { format: 1, key, name: 'synthetic', version: '1.0.0', platform: 'linux-x64', output, size: total, deps: [], sandbox: 'none', origin: 'built', bin: [] });
  return { store: root, name: `${key}-synthetic-1.0.0`, made: true, what: `a synthetic entry in ${root} (${(total / 1e6).toFixed(0)} MB)` };
}

const entry = await pickEntry();
const dir = join(entry.store, entry.name);
const intactScript = `
const { verifyStore } = await import(${JSON.stringify(dist('store/verify-store.js'))});
const { layoutOf } = await import(${JSON.stringify(dist('store/paths.js'))});
const r = await verifyStore(layoutOf(${JSON.stringify(entry.store)}), { names: [${JSON.stringify(entry.name)}] });
if (r.exitCode !== 0) { console.error(JSON.stringify(r.findings)); process.exit(1); }
console.log(r.bytes);
`;

function time(cmd, args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  return { s, out: r.stdout.toString() };
}
const intact = () => time(process.execPath, ['--input-type=module', '-e', intactScript]);
const gnu = () => time('bash', ['-c', `find ${JSON.stringify(dir)} -type f -print0 | xargs -0 sha256sum > /dev/null`]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Warm the page cache for both (the comparison is hashing, not the disk).
const bytes = Number(intact().out.trim());
gnu();
const ratios = [];
const ti = [];
const tg = [];
for (let i = 0; i < RUNS; i++) {
  let a;
  let b;
  if (i % 2 === 0) {
    a = intact().s;
    b = gnu().s;
  } else {
    b = gnu().s;
    a = intact().s;
  }
  ti.push(a);
  tg.push(b);
  ratios.push(b / a);
}
console.log(`entry: ${entry.what}`);
console.log(`bytes hashed: ${(bytes / 1e6).toFixed(0)} MB; ${RUNS} paired runs, order alternating`);
console.log(`intact verifyStore (whole process): median ${median(ti).toFixed(3)} s (${(bytes / 1e6 / median(ti)).toFixed(0)} MB/s)`);
console.log(`find | xargs sha256sum:            median ${median(tg).toFixed(3)} s (${(bytes / 1e6 / median(tg)).toFixed(0)} MB/s)`);
console.log(`throughput ratio intact / sha256sum: median ${median(ratios).toFixed(2)}x (min ${Math.min(...ratios).toFixed(2)}x, max ${Math.max(...ratios).toFixed(2)}x); target >= 0.8x`);
if (existsSync('/usr/bin/time')) {
  const peak = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '--input-type=module', '-e', intactScript], { encoding: 'utf8' });
  const kb = Number(peak.stderr.trim().split('\n').pop());
  if (kb > 0) console.log(`intact peak RSS: ${(kb / 1024).toFixed(0)} MB`);
}
if (entry.made && process.env.BENCH_KEEP !== '1') {
  const { removeTree } = await import(dist('store/remove-tree.js'));
  await removeTree(entry.store);
}
if (median(ratios) < 0.8) process.exitCode = 1;
