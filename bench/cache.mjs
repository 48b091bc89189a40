// Benchmark: substituting a large entry from an OCI registry against a plain
// `curl` of the same blob from the same registry, as paired runs in one script.
//
//   npm run build && node bench/cache.mjs                       # synthetic ~300 MB / 13k files
//   node bench/cache.mjs --entry /path/store/<key>-zig-0.11.0   # a real store entry (copied first)
//   node bench/cache.mjs --rate 50                              # both through a 50 MB/s link
//   node bench/cache.mjs --dir /dev/shm                         # work (stores, registry) on tmpfs: less disk noise
//   BENCH_RUNS=5 by default; BENCH_NODE_FLAGS='--cpu-prof' profiles the substituting process;
//   BENCH_PART_MB sets the archive part size (MiB of tar; default src/cache/archive.ts's)
//
// A real registry (Debian's docker-registry) on loopback; the entry is pushed
// once with `pushEntries`. Then, per run, alternating the order:
// (a) curl: `curl -s -o FILE URL` of the archive blob (a fresh process);
// (b) intact: a fresh node process that substitutes the entry into an empty
//     store: manifest, metadata, signature, the archive parts' downloads
//     (sha256 while they stream), each part's safe extraction while the next
//     downloads, output checks, normalisation, tree hash, atomic add.
// (c) GNU: `curl -s URL... | tar -xzi -C DIR`, the same parts unpacked as they
//     stream (no verification): what unpacking the entry costs on this disk at
//     all, so that a disk-bound result can be told from a slow intact.
// Throughput is blob bytes per second of wall time; the ratio printed is
// curl's time / intact's time (1.0 = as fast as curl; the target is >= 0.8),
// and GNU's time / intact's time beside it.
// Nothing is deleted until every run is done (docs/measured.md §6).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const mod = (p) => import(pathToFileURL(join(dist, p)).href);

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]));
else await main();

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const rate = arg('--rate') ? Number(arg('--rate')) * 1024 * 1024 : undefined;
  const work = mkdtempSync(join(arg('--dir') ?? tmpdir(), 'intact-bench-cache-'));
  const stopRegistry = [];
  try {
    const { layoutOf } = await mod('store/paths.js');
    const { addEntry, readMeta } = await mod('store/entry.js');
    const { normaliseOutput } = await mod('build/checks/normalise.js');
    const { treeHash } = await mod('store/tree-hash.js');
    const { generateKeyPair, parseSecretKey, parseRef, RegistryClient, credentialLookup, pushEntries } = await mod('cache/index.js');
    const storeA = layoutOf(join(work, 'store-a'));
    mkdirSync(storeA.tmp, { recursive: true });
    mkdirSync(storeA.meta, { recursive: true });

    // The entry: a copy of a real one, or a synthetic tree like the Zig toolchain.
    let meta;
    const given = arg('--entry');
    if (given) {
      const name = basename(given);
      const key = name.slice(0, 32);
      cpSync(given, join(storeA.root, name), { recursive: true, preserveTimestamps: true });
      cpSync(join(dirname(given), 'meta', `${key}.json`), join(storeA.meta, `${key}.json`));
      meta = await readMeta(storeA, key);
    } else {
      const staged = join(storeA.tmp, 'synthetic');
      const { files, bytes } = synthesise(staged);
      await normaliseOutput(staged, 315532800);
      const output = await treeHash(staged);
      const key = createHash('sha256')
        .update(output)
        .digest('hex')
        .slice(0, 32)
        .replace(/[eotu]/g, '0');
      meta = {
        format: 1,
        key,
        name: 'synthetic',
        version: '1.0.0',
        platform: 'linux-x64',
        output,
        size: bytes,
        deps: [],
        sandbox: 'full',
        origin: 'built',
        bin: [],
      };
      await addEntry(storeA, staged, meta);
      console.log(`synthetic entry: ${files} files, ${(bytes / 1048576).toFixed(0)} MiB`);
    }
    const plan = {
      name: meta.name,
      version: meta.version,
      platform: meta.platform,
      key: meta.key,
      entry: `${meta.key}-${meta.name}-${meta.version}`,
      bin: meta.bin,
      deps: [],
    };

    const registry = await startRegistry(join(work, 'registry'));
    stopRegistry.push(registry.stop);
    const front = rate ? await throttle(registry.port, rate) : undefined;
    if (front) stopRegistry.push(front.stop);
    const port = front?.port ?? registry.port;
    const ref = `http://127.0.0.1:${port}/bench/intact`;
    const pair = generateKeyPair('bench-1');
    const key = parseSecretKey(pair.secretText, 'bench key');
    const client = new RegistryClient(parseRef(`http://127.0.0.1:${registry.port}/bench/intact`), { lookup: credentialLookup({}) });
    const t = Date.now();
    const partTarBytes = process.env.BENCH_PART_MB ? Number(process.env.BENCH_PART_MB) * 1048576 : undefined;
    const [report] = await pushEntries([plan], { client, store: storeA, key, ...(partTarBytes ? { partTarBytes } : {}) });
    await client.close();
    console.log(`pushed ${plan.name}@${plan.version}: ${report.archiveBytes} bytes archive in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const manifest = JSON.parse(
      execFileSync(
        'curl',
        ['-s', '-H', 'accept: application/vnd.oci.image.manifest.v1+json', `http://127.0.0.1:${registry.port}/v2/bench/intact/manifests/${plan.key}`],
        { encoding: 'utf8' },
      ),
    );
    // The archive is in parts (layers); curl fetches them all, in order, over one connection.
    const total = manifest.layers.reduce((n, l) => n + l.size, 0);
    const blobUrls = manifest.layers.map((l) => `http://127.0.0.1:${port}/v2/bench/intact/blobs/${l.digest}`);
    console.log(
      `archive: ${(total / 1048576).toFixed(1)} MiB in ${manifest.layers.length} part(s); ${rate ? `through a ${arg('--rate')} MB/s link` : 'loopback, unthrottled'}; ${runs} paired runs`,
    );

    const curlT = [];
    const oursT = [];
    const gnuT = [];
    const ratios = [];
    const gnuRatios = [];
    const phases = [];
    for (let i = 0; i < runs; i++) {
      const runCurl = async () => {
        const outs = blobUrls.map((_, j) => join(work, `curl-${i}-${j}.bin`));
        const s = process.hrtime.bigint();
        // Asynchronous: the throttling proxy runs in this process.
        await run('curl', ['-s', '-f', ...blobUrls.flatMap((u, j) => ['-o', outs[j], u])]);
        const secs = Number(process.hrtime.bigint() - s) / 1e9;
        if (outs.reduce((n, f) => n + statSync(f).size, 0) !== total) throw new Error('curl got a different size');
        return secs;
      };
      const runOurs = async () => {
        const store = join(work, `store-b-${i}`);
        const s = process.hrtime.bigint();
        const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
        const r = await node([...flags, fileURLToPath(import.meta.url), '--child', JSON.stringify({ store, ref, plan, trusted: pair.public.text })]);
        const secs = Number(process.hrtime.bigint() - s) / 1e9;
        phases.push(JSON.parse(r.trim().split('\n').pop()));
        return secs;
      };
      const runGnu = async () => {
        const dir = join(work, `gnu-${i}`);
        mkdirSync(dir);
        const s = process.hrtime.bigint();
        await run('bash', ['-o', 'pipefail', '-c', 'curl -s -f "$@" | tar -xzi -C "$0"', dir, ...blobUrls]);
        return Number(process.hrtime.bigint() - s) / 1e9;
      };
      let c, o, g;
      if (i % 2 === 0) {
        c = await runCurl();
        o = await runOurs();
        g = await runGnu();
      } else {
        g = await runGnu();
        o = await runOurs();
        c = await runCurl();
      }
      curlT.push(c);
      oursT.push(o);
      gnuT.push(g);
      ratios.push(c / o);
      gnuRatios.push(g / o);
      console.log(
        `run ${i + 1}: curl ${c.toFixed(2)} s (${mbps(total, c)}), GNU ${g.toFixed(2)} s, intact ${o.toFixed(2)} s (${mbps(total, o)}); ratio ${(c / o).toFixed(2)}x, vs GNU ${(g / o).toFixed(2)}x  [${fmtPhases(phases.at(-1))}]`,
      );
    }
    const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    console.log(`\nmedian: curl ${med(curlT).toFixed(2)} s, GNU ${med(gnuT).toFixed(2)} s, intact ${med(oursT).toFixed(2)} s`);
    console.log(
      `median of paired ratios: curl time / intact time ${med(ratios).toFixed(2)}x (target >= 0.8x); GNU time / intact time ${med(gnuRatios).toFixed(2)}x`,
    );
  } finally {
    for (const stop of stopRegistry.reverse()) await stop().catch(() => undefined);
    execFileSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  }
}

function mbps(bytes, secs) {
  return `${(bytes / secs / 1048576).toFixed(0)} MiB/s`;
}

function fmtPhases(p) {
  return Object.entries(p)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
}

/** The substitution, in a fresh process, as `intact install` would run it. */
async function child({ store: root, ref, plan, trusted }) {
  const t0 = performance.now();
  const { layoutOf } = await mod('store/paths.js');
  const { parseRef, parsePublicKey, makeSubstituter, credentialLookup } = await mod('cache/index.js');
  const { assertOutputOk } = await mod('build/checks/index.js');
  const { normaliseOutput } = await mod('build/checks/normalise.js');
  const { extract } = await mod('fetch/extract/index.js');
  const store = layoutOf(root);
  const times = {};
  const timed =
    (name, f) =>
    async (...a) => {
      const s = performance.now();
      try {
        return await f(...a);
      } finally {
        times[name] = (times[name] ?? 0) + (performance.now() - s) / 1000;
      }
    };
  let downloaded, started, lastByte;
  const sub = makeSubstituter({
    config: { substituters: [parseRef(ref)], trustedKeys: [parsePublicKey(trusted)] },
    checks: { store, extract: timed('extract', extract), checkOutput: timed('checks', assertOutputOk), normalise: timed('normalise', normaliseOutput) },
    plans: [plan],
    lookup: credentialLookup({}),
    onEvent: (e) => {
      if (e.type === 'start') started ??= performance.now();
      if (e.type === 'progress' && e.bytes === e.total) lastByte = performance.now();
      if (e.type === 'done') downloaded = performance.now();
    },
  });
  const s = performance.now();
  const r = await sub.substitute(plan);
  await sub.close();
  if (!r.ok) throw new Error(r.reason);
  // Parts are unpacked while later ones download: 'receive' is both, overlapped; 'extract' the sum of the parts' unpacking.
  // 'find': manifest, metadata and signature, until the first blob request; 'wire':
  // until the archive's last byte arrived; 'receive': until its last part was unpacked.
  times.load = (s - t0) / 1000;
  times.find = (started - s) / 1000;
  times.wire = (lastByte - s) / 1000;
  times.receive = (downloaded - s) / 1000;
  times.total = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify(times)}\n`);
}

function node(args) {
  return run(process.execPath, args);
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

/** ~300 MB in ~13k files of source-like text (gzip ratio ~4, like the Zig toolchain). */
function synthesise(dir) {
  const words =
    'const var fn pub return struct enum union if else while for break continue error try catch defer comptime usize u8 i32 void bool true false null undefined allocator self init deinit'.split(
      ' ',
    );
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const block = [];
  let len = 0;
  while (len < 4 * 1024 * 1024) {
    const line = `${'    '.repeat(Math.floor(rnd() * 4))}${Array.from({ length: 3 + Math.floor(rnd() * 9) }, () => words[Math.floor(rnd() * words.length)] + (rnd() < 0.2 ? Math.floor(rnd() * 1000) : '')).join(' ')};\n`;
    block.push(line);
    len += line.length;
  }
  const text = Buffer.from(block.join(''));
  let files = 0;
  let bytes = 0;
  for (let d = 0; d < 260; d++) {
    const sub = join(dir, `lib/std/mod${d}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 50; f++) {
      const size = Math.floor(2000 + rnd() * 44000);
      const at = Math.floor(rnd() * (text.length - size));
      writeFileSync(join(sub, `file${f}.zig`), text.subarray(at, at + size));
      files++;
      bytes += size;
    }
  }
  return { files, bytes };
}

async function startRegistry(dir) {
  mkdirSync(dir, { recursive: true });
  const port = await new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => ok(p));
    });
  });
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: bench\n`,
  );
  if (!existsSync('/usr/bin/docker-registry')) throw new Error('install docker-registry (apt-get install docker-registry)');
  const child = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`)).status === 200) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** A loopback proxy that paces response bodies to `rate` bytes per second (a network link). */
async function throttle(upstream, rate) {
  const server = http.createServer((req, res) => {
    const up = http.request({ host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode, ures.headers);
      const start = Date.now();
      let sent = 0;
      ures.on('data', (c) => {
        sent += c.length;
        const due = start + (sent / rate) * 1000;
        const wait = due - Date.now();
        res.write(c);
        if (wait > 0) {
          ures.pause();
          setTimeout(() => ures.resume(), wait);
        }
      });
      ures.on('end', () => res.end());
    });
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(r);
      }),
  };
}
