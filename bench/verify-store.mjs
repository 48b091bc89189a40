#!/usr/bin/env node
// bench/verify-store: `intact verify --store` against a baseline that reads and
// hashes the same entries once, as whole processes, in paired runs whose order
// alternates; prints the median of the paired time ratios (intact / baseline:
// 1.0 is as fast, below is faster), both CPU times, intact's peak RSS, and the
// hashing limit: the entries' bytes over `openssl speed sha256` on every core.
// Target (issue 17): at most 1.0x the baseline, peak RSS under 150 MB.
//
//   npm run build && node bench/verify-store.mjs [runs]        # BENCH_RUNS=7 by default
//
// Baseline: `nix-hash --type sha256` of each entry, one after another, when
// Debian's nix-bin is installed; else `find ENTRIES -type f -print0 | sort -z |
// xargs -0 sha256sum` (single-threaded C, as nix-hash is). The bench says which.
//
// The entries: every entry of the project's own store (./store, after `intact
// install` of the default set) or of BENCH_STORE; else the unpacked Zig 0.11.0 of
// /tmp/real/store; else a synthetic entry of the Zig package's shape (13,500
// files, ~330 MB: many small sources, a few large binaries), made once in
// BENCH_DIR (default $TMPDIR/intact-bench-verify-store) and kept between runs
// (docs/measured.md §6: no deleting and re-creating inside a measurement); it is
// removed at the end unless BENCH_KEEP=1.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const RUNS = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 7);
const repo = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => pathToFileURL(join(repo, 'dist', p)).href;

const ENTRY = /^[0-9a-z]{32}-.+-[^-]+$/;

async function pickEntry() {
  const own = process.env.BENCH_STORE ?? join(repo, 'store');
  const all = existsSync(own) ? readdirSync(own).filter((n) => ENTRY.test(n)) : [];
  if (all.length > 0) return { store: own, names: all, made: false, what: `${all.length} entries of ${own} (${all.map((n) => n.slice(33)).join(', ')})` };
  const real = '/tmp/real/store';
  const zig = existsSync(real) ? readdirSync(real).find((n) => /^[0-9a-z]{32}-zig-0\.11\.0$/.test(n)) : undefined;
  if (zig) return { store: real, names: [zig], made: false, what: `the Zig 0.11.0 entry of ${real}` };
  const root = process.env.BENCH_DIR ?? join(tmpdir(), 'intact-bench-verify-store');
  const { layoutOf } = await import(dist('store/paths.js'));
  const store = layoutOf(root);
  const existing = existsSync(root) ? readdirSync(root).find((n) => n.endsWith('-synthetic-1.0.0')) : undefined;
  if (existing) return { store: root, names: [existing], made: true, what: `a synthetic entry in ${root} (kept from an earlier run)` };
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
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
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
  for (const [n, mb] of [
    ['zig', 150],
    ['tool-a', 20],
    ['tool-b', 5],
  ]) {
    const parts = [];
    for (let j = 0; j < mb; j++) parts.push(blob);
    writeFileSync(join(staged, 'bin', n), Buffer.concat(parts), { mode: 0o755 });
    total += mb * blob.length;
  }
  await normaliseOutput(staged, 315532800);
  const output = await treeHash(staged);
  const key = storeKey({ recipeHash: 'sha256-bench', sources: [], deps: {}, platform: 'linux-x64' });
  await addEntry(store, staged, {
    format: 1,
    key,
    name: 'synthetic',
    version: '1.0.0',
    platform: 'linux-x64',
    output,
    size: total,
    deps: [],
    sandbox: 'none',
    origin: 'built',
    bin: [],
  });
  return { store: root, names: [`${key}-synthetic-1.0.0`], made: true, what: `a synthetic entry in ${root} (${(total / 1e6).toFixed(0)} MB)` };
}

const entry = await pickEntry();
const dirs = entry.names.map((n) => join(entry.store, n));
const intactScript = `
const { verifyStore } = await import(${JSON.stringify(dist('store/verify-store.js'))});
const { layoutOf } = await import(${JSON.stringify(dist('store/paths.js'))});
const r = await verifyStore(layoutOf(${JSON.stringify(entry.store)}), { names: ${JSON.stringify(entry.names)} });
if (r.exitCode !== 0) { console.error(JSON.stringify(r.findings)); process.exit(1); }
console.log(r.bytes);
`;

const which = (cmd) => spawnSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const nixHash = which('nix-hash');
const quoted = dirs.map((d) => JSON.stringify(d)).join(' ');
const baseline = nixHash
  ? { name: 'nix-hash --type sha256 (each entry in turn)', script: `for d in ${quoted}; do ${nixHash} --type sha256 "$d" > /dev/null; done` }
  : { name: 'find | sort | xargs sha256sum (nix-hash is not installed)', script: `find ${quoted} -type f -print0 | sort -z | xargs -0 sha256sum > /dev/null` };

/** Wall and CPU seconds of a whole process, and its peak RSS, through GNU time. */
function time(cmd, args) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  const [u, sys, kb] = r.stderr.toString().trim().split('\n').pop().split(' ').map(Number);
  return { s, cpu: u + sys, rssMB: kb / 1024, out: r.stdout.toString() };
}
const intact = () => time(process.execPath, ['--input-type=module', '-e', intactScript]);
const base = () => time('bash', ['-c', baseline.script]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** sha256 bytes per second of one core, as `openssl speed` measures it on 1 MiB blocks. */
function opensslRate() {
  const r = spawnSync('openssl', ['speed', '-seconds', '2', '-bytes', '1048576', 'sha256'], { encoding: 'utf8' });
  const m = /^sha256\s+([\d.]+)k/m.exec(r.stdout ?? '');
  return m ? Number(m[1]) * 1000 : undefined;
}

// Warm the page cache for both (the comparison is hashing, not the disk).
const bytes = Number(intact().out.trim());
base();
const rate = opensslRate();
const ratios = [];
const ti = [];
const tb = [];
const ci = [];
const cb = [];
const rss = [];
for (let i = 0; i < RUNS; i++) {
  const pair = i % 2 === 0 ? [intact(), base()] : [base(), intact()].reverse();
  const [a, b] = pair;
  ti.push(a.s);
  tb.push(b.s);
  ci.push(a.cpu);
  cb.push(b.cpu);
  rss.push(a.rssMB);
  ratios.push(a.s / b.s);
}
const cores = availableParallelism();
console.log(`entries: ${entry.what}`);
console.log(`bytes hashed: ${(bytes / 1e6).toFixed(0)} MB; ${RUNS} paired runs, order alternating; ${cores} cores`);
console.log(`intact verify --store (whole process): median ${median(ti).toFixed(3)} s wall, ${median(ci).toFixed(3)} s CPU`);
console.log(`baseline ${baseline.name}: median ${median(tb).toFixed(3)} s wall, ${median(cb).toFixed(3)} s CPU`);
if (rate) console.log(`hashing limit: ${(bytes / rate / cores).toFixed(3)} s (openssl speed sha256: ${(rate / 1e9).toFixed(2)} GB/s per core, ${cores} cores)`);
console.log(
  `ratio intact / baseline: median of paired wall ratios ${median(ratios).toFixed(2)}x (min ${Math.min(...ratios).toFixed(2)}x, max ${Math.max(...ratios).toFixed(2)}x); CPU ${(median(ci) / median(cb)).toFixed(2)}x; target <= 1.0x`,
);
console.log(`intact peak RSS: ${Math.max(...rss).toFixed(0)} MB (max over runs; target < 150 MB)`);
if (entry.made && process.env.BENCH_KEEP !== '1') {
  const { removeTree } = await import(dist('store/remove-tree.js'));
  await removeTree(entry.store);
}
if (median(ratios) > 1.0) process.exitCode = 1;
