#!/usr/bin/env node
// bench/c-build: each C recipe of examples/c built by intact (`intact build
// NAME`: a fresh folder, the full sandbox, unpacking, output checks, hashing)
// against the same build done by hand, bare: the same sources, busybox, make
// and zig from the store, no sandbox, a warm Zig cache. Paired runs, median
// ratio per recipe (aim: <= 1.3x). Run by hand after `npm run build`, with a
// store that already holds the set (e.g. after `npm run test:c`, or
// `intact install` in examples/c with the same --store):
//   node bench/c-build.mjs [--store DIR] [--runs N] [--cold]
// --cold also installs the set into a fresh store and prints each build's
// cold time (about 15 minutes on 2 cores).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const store = opt('--store', '/tmp/c-store');
const RUNS = Number(opt('--runs', 3));
const repo = fileURLToPath(new URL('..', import.meta.url));
const project = join(repo, 'examples/c');
const cli = join(repo, 'bin/intact.js');
const jobs = 2;

function timed(cmd, argv, opts = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`.slice(-4000));
  return s;
}
const intact = (argv, s = store) => timed(process.execPath, [cli, ...argv, '--store', s, '--jobs', String(jobs)], { cwd: project });

/** The store entry of a recipe for linux-x64 (the only platform built here). */
function entry(name) {
  // meta/ also holds each entry's file list (.files) and seal (.seal).
  for (const f of readdirSync(join(store, 'meta')).filter((n) => n.endsWith('.json'))) {
    const m = JSON.parse(readFileSync(join(store, 'meta', f), 'utf8'));
    const dir = join(store, `${m.key}-${m.name}-${m.version}`);
    if (m.name === name && m.platform === 'linux-x64' && existsSync(dir)) return dir;
  }
  throw new Error(`${name} is not in ${store}: install examples/c there first`);
}

/** The downloaded source of a recipe, from the store's download cache, by its lock pin. */
function sourceFile(name) {
  const lock = JSON.parse(readFileSync(join(project, 'intact.lock'), 'utf8'));
  const sri = lock.recipes[name].sources[0].integrity;
  const hex = Buffer.from(sri.slice('sha512-'.length), 'base64').toString('hex');
  return join(store, 'cache/sha512', hex.slice(0, 2), hex);
}

const zig = join(entry('zig'), 'zig');
const bin = join(entry('busybox'), 'bin');
const make = join(entry('make'), 'bin');
const work = mkdtempSync(join(tmpdir(), 'intact-bench-c-'));
// A warm cache for the bare builds, kept across their runs.
const zigCache = join(work, 'zig-cache');
// libtool's configure looks for an `ld` on PATH: Zig's lld, as the zig-cc
// wrappers give the sandboxed builds (those wrappers name Zig by its sandbox path).
const shims = join(work, 'bin');
mkdirSync(shims);
writeFileSync(join(shims, 'ld'), `#!/bin/sh\nexec ${zig} ld.lld "$@"\n`, { mode: 0o755 });

// The bare commands: what a person would type, with the same tools.
const bare = {
  zlib: { unpack: ['tar', 'xjf'], dir: 'zlib-1.2.13.dfsg', script: './configure --static --prefix="$PWD/../out" && make -j2 && make install' },
  xz: {
    unpack: ['tar', 'xJf'],
    dir: 'xz-5.4.1',
    script: './configure --disable-shared --disable-nls --disable-doc --prefix="$PWD/../out" && make -j2 && make install',
  },
};

function bareBuild(name, i) {
  const dir = join(work, `${name}-${i}`);
  mkdirSync(dir);
  const b = bare[name];
  const env = {
    PATH: `${make}:${bin}:${shims}`,
    HOME: work,
    TMPDIR: dir,
    LC_ALL: 'C',
    SOURCE_DATE_EPOCH: '315532800',
    ZIG_GLOBAL_CACHE_DIR: zigCache,
    ZIG_LOCAL_CACHE_DIR: join(dir, 'zig-local'),
    CC: `${zig} cc -target x86_64-linux-musl`,
    AR: `${zig} ar`,
    RANLIB: `${zig} ranlib`,
  };
  return timed(join(bin, 'sh'), ['-ec', `${b.unpack.join(' ')} "$1"; cd ${b.dir}; ${b.script}`, 'sh', sourceFile(name)], { cwd: dir, env });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Warm-up: the bare builds fill the cache with every runtime variant they link
// (outside the sandbox Zig's path differs, so zig-runtime's copy is not found).
for (const name of Object.keys(bare)) bareBuild(name, 'warm');
for (const name of Object.keys(bare)) {
  const ratios = [];
  const times = { intact: [], bare: [] };
  for (let i = 0; i < RUNS; i++) {
    // Alternate the order within each pair (docs/measured.md §6).
    const pair = i % 2 === 0 ? [() => intact(['build', name]), () => bareBuild(name, i)] : [() => bareBuild(name, i), () => intact(['build', name])];
    const [a, b] = pair.map((f) => f());
    const [t, u] = i % 2 === 0 ? [a, b] : [b, a];
    times.intact.push(t);
    times.bare.push(u);
    ratios.push(t / u);
  }
  console.log(
    `${name}: intact ${median(times.intact).toFixed(1)} s, bare ${median(times.bare).toFixed(1)} s, ratio ${median(ratios).toFixed(2)}x (median of ${RUNS} pairs)`,
  );
}

if (args.includes('--cold')) {
  // One install, as a user runs it (the bootstrap comes in as tools; naming each
  // stage would put both busyboxes on the profile), and each build's own time
  // from its "built NAME (N s)" line.
  const cold = join(work, 'cold-store');
  const stages = (argv) => {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, ...argv, '--store', cold, '--jobs', String(jobs)], { cwd: project, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`intact ${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`.slice(-4000));
    for (const m of `${r.stdout}\n${r.stderr}`.matchAll(/^built (\S+) \(([\d.]+) s\)$/gm)) console.log(`  cold ${m[1]}: ${m[2]} s`);
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  console.log(`cold install of xz, zlib, qemu-user for linux-x64: ${stages(['install', 'xz', 'zlib', 'qemu-user']).toFixed(0)} s`);
  console.log(`cold zlib+xz for linux-arm64: ${stages(['install', 'zlib', 'xz', '--platform', 'linux-arm64']).toFixed(0)} s`);
}
execFileSync('chmod', ['-R', 'u+w', work]);
rmSync(work, { recursive: true, force: true });
