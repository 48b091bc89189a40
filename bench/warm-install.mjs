#!/usr/bin/env node
// bench/warm-install: installing two prebuilt tools (esbuild 0.28.2 and biome
// 2.6.8, the platform packages the recipes pin) from warm caches, intact against
// the package managers a user would pick instead, as paired runs in one script:
//
// - intact: `intact install --offline` into a store holding the download cache
//   but no entries (the cache hard-linked into a fresh store per run);
// - npm: `npm install --offline` of the same two packages into a fresh folder,
//   npm's cache warm (npm comes with Node);
// - pnpm 9.15.9 (this repository's devDependency): `pnpm install --offline
//   --frozen-lockfile` into a fresh folder, its store warm.
//
// Then one more intact run under the CPU profiler, whose samples are sorted into
// start-up, decompression, hashing, checks, writes, syncs and the rest.
//
//   npm run build && node bench/warm-install.mjs [runs]      # 7 by default
//
// Warming the caches reaches the npm registry once. Every run installs into new
// folders; all are removed at the end (docs/measured.md §6).
// Target (issue 17): intact at most 1.0x pnpm.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.argv[2] ?? 7);
const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'bin/intact.js');
const pnpm = join(repo, 'node_modules/.bin/pnpm');
// The recipe pins biome's musl build; npm and pnpm refuse a musl package on this
// glibc machine, so they install the glibc build of the same release (the one
// `npm install @biomejs/biome` picks here; 1% apart in size).
const PACKAGES = { '@esbuild/linux-x64': '0.28.2', '@biomejs/cli-linux-x64': '2.6.8' };
const work = mkdtempSync(join(tmpdir(), 'intact-bench-warm-'));
const env = { ...process.env, NO_COLOR: '1', CI: '' };
const quiet = { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 };

function time(cmd, args, cwd) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, ...quiet });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return s;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  // intact: the two recipes and their lock, and a store with the download cache only.
  const proj = join(work, 'intact-project');
  mkdirSync(join(proj, 'recipes'), { recursive: true });
  for (const r of ['esbuild', 'biome']) cpSync(join(repo, 'recipes', `${r}.yaml`), join(proj, 'recipes', `${r}.yaml`));
  const warmStore = join(work, 'intact-warm');
  execFileSync(process.execPath, [cli, 'lock', '--store', warmStore], { cwd: proj, ...quiet });
  execFileSync(process.execPath, [cli, 'install', '--store', warmStore], { cwd: proj, ...quiet });
  let n = 0;
  /** A store with the warm download cache (hard links) and no entries. */
  const freshStore = () => {
    const s = join(work, `intact-store-${n++}`);
    mkdirSync(s);
    cpSync(join(warmStore, 'cache'), join(s, 'cache'), { recursive: true });
    return s;
  };
  const intact = () => time(process.execPath, [cli, 'install', '--offline', '--store', freshStore()], proj);

  // npm and pnpm: the same two packages, caches warmed once from the registry.
  const manifest = JSON.stringify({ name: 'bench', version: '1.0.0', private: true, dependencies: PACKAGES });
  const npmCache = join(work, 'npm-cache');
  const pnpmStore = join(work, 'pnpm-store');
  const seed = (tool) => {
    const d = join(work, `${tool}-seed`);
    mkdirSync(d);
    writeFileSync(join(d, 'package.json'), manifest);
    // The lock must name the tarballs (a user .npmrc may omit them): else even
    // --offline npm asks the registry where they are.
    if (tool === 'npm')
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--omit-lockfile-registry-resolved=false', '--cache', npmCache], { cwd: d, ...quiet });
    else execFileSync(pnpm, ['install', '--store-dir', pnpmStore], { cwd: d, ...quiet });
    return d;
  };
  const npmSeed = seed('npm');
  const pnpmSeed = seed('pnpm');
  const fresh = (tool, lockName, seedDir) => {
    const d = join(work, `${tool}-${n++}`);
    mkdirSync(d);
    writeFileSync(join(d, 'package.json'), manifest);
    cpSync(join(seedDir, lockName), join(d, lockName));
    return d;
  };
  const npm = () => time('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', npmCache], fresh('npm', 'package-lock.json', npmSeed));
  const pn = () => time(pnpm, ['install', '--offline', '--frozen-lockfile', '--store-dir', pnpmStore], fresh('pnpm', 'pnpm-lock.yaml', pnpmSeed));

  const t = { intact: [], npm: [], pnpm: [] };
  const order = [
    ['intact', intact],
    ['npm', npm],
    ['pnpm', pn],
  ];
  for (let i = 0; i < RUNS; i++) {
    // Rotate the order so no tool always runs first on a warmer machine.
    for (let j = 0; j < order.length; j++) {
      const [name, run] = order[(i + j) % order.length];
      t[name].push(run());
    }
  }
  const ratio = (a, b) => median(t[a].map((x, i) => x / t[b][i]));
  console.log(`esbuild 0.28.2 + biome 2.6.8 from warm caches, ${RUNS} rounds, order rotating`);
  for (const k of Object.keys(t)) console.log(`${k.padEnd(7)} median ${median(t[k]).toFixed(3)} s`);
  console.log(`intact / pnpm: median of paired ratios ${ratio('intact', 'pnpm').toFixed(2)}x (target <= 1.0x)`);
  console.log(`intact / npm:  median of paired ratios ${ratio('intact', 'npm').toFixed(2)}x`);

  // Where intact's time goes: one profiled run, its samples sorted by what they were doing.
  const prof = join(work, 'prof');
  spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', prof, cli, 'install', '--offline', '--store', freshStore()], { cwd: proj, ...quiet });
  const p = JSON.parse(readFileSync(join(prof, readdirSync(prof)[0]), 'utf8'));
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const buckets = {};
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const b = bucketOf(id, byId, parent);
    buckets[b] = (buckets[b] ?? 0) + dt;
  });
  console.log(`where intact's time goes (one profiled run, main thread, ${total.toFixed(0)} ms; "idle" is waiting on disk, threads and children):`);
  for (const [k, v] of Object.entries(buckets).sort((a, b) => b[1] - a[1]))
    console.log(`  ${k.padEnd(14)} ${v.toFixed(0).padStart(5)} ms  ${((100 * v) / total).toFixed(0)}%`);
} finally {
  spawnSync('chmod', ['-R', 'u+w', work]);
  rmSync(work, { recursive: true, force: true });
}

/** The category of one sample: its own function first, then what called it. */
function bucketOf(id, byId, parent) {
  const own = byId.get(id).callFrame;
  if (own.functionName === '(idle)') return 'idle';
  if (own.functionName === '(garbage collector)') return 'gc';
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const { functionName: f, url } = byId.get(at).callFrame;
    if (/fsync|fdatasync/i.test(f)) return 'syncs';
    if (/zlib|inflate|gunzip/i.test(url) || /inflate|zlib/i.test(f)) return 'decompression';
    if (/crypto\/hash|hash-files|tree-scan/.test(url) || f === 'update' || f === 'digest') return 'hashing';
    if (/build\/checks|seal\.js/.test(url)) return 'checks';
    if (/extract\/writer|no-follow|^write|^open|^close|mkdir|rename|chmod|utimes|futimes/i.test(url + f)) return 'writes';
    if (/modules\/esm|modules\/cjs|bootstrap|compileSourceTextModule|compileForInternalLoader/.test(url + f)) return 'start-up';
  }
  return 'other';
}
