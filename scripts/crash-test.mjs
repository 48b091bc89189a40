#!/usr/bin/env node
// The crash test: kill a cold `intact install` with SIGKILL at many points
// (download, unpack, build, publish) and check, after each kill, that
// `verify --store` finds nothing to report, that a rerun succeeds and that no
// temp file outlives it. Local only: a loopback server on port 0 serves the
// source slowly enough to be killed mid-download. Run: `node scripts/crash-test.mjs [POINTS]`
// (default 40 kill times spread over one cold install; docs/reliability.md).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const CLI = new URL('../bin/intact.js', import.meta.url).pathname;
const points = Number(process.argv[2] ?? 40);

// A tarball: a 4 MiB file and 200 small ones, written with the system tar.
const src = mkdtempSync(join(tmpdir(), 'intact-crash-src-'));
mkdirSync(join(src, 'pkg/f'), { recursive: true });
writeFileSync(join(src, 'pkg/data.bin'), randomBytes(4 * 1024 * 1024));
for (let i = 0; i < 200; i++) writeFileSync(join(src, `pkg/f/${i}.txt`), `file ${i}\n`);
const tarball = gzipSync(spawnSync('tar', ['-C', src, '-cf', '-', 'pkg'], { maxBuffer: 64 * 1024 * 1024 }).stdout);
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-length': String(tarball.length) });
  let off = 0;
  const t = setInterval(() => {
    if (off >= tarball.length) return clearInterval(t), res.end();
    res.write(tarball.subarray(off, off + 256 * 1024));
    off += 256 * 1024;
  }, 20);
  res.on('close', () => clearInterval(t));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/pkg.tgz`;

const run = (args, cwd) => new Promise((resolve) => {
  const c = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH, NO_COLOR: '1', CI: '' } });
  let out = '';
  c.stdout.on('data', (b) => (out += b));
  c.stderr.on('data', (b) => (out += b));
  c.on('close', (code) => resolve({ code, out }));
});
const temps = (store) => {
  const ls = (d) => { try { return readdirSync(d); } catch { return []; } };
  return [...ls(join(store, 'tmp')).map((n) => `tmp/${n}`), ...ls(store).filter((n) => n.startsWith('publish-')),
    ...['logs', 'meta', 'roots', 'locks'].flatMap((d) => ls(join(store, d)).filter((n) => n.endsWith('.tmp') || n.endsWith('.lock')).map((n) => `${d}/${n}`))];
};

const dir = mkdtempSync(join(tmpdir(), 'intact-crash-'));
mkdirSync(join(dir, 'recipes'));
writeFileSync(join(dir, 'recipes/pkg.yaml'), `name: pkg\nversion: 1.0.0\nsources:\n  - url: ${url}\n    strip: 1\nbuild:\n  - copy: $src/f\n    to: $out/share/f\n  - copy: $src/data.bin\n    to: $out/share/data.bin\n  - write: $out/share/done\n    content: "done\\n"\n`);
writeFileSync(join(dir, 'intact.lock'), '{\n  "lockfileVersion": 1,\n  "recipes": {}\n}\n');
{ const l = await run(['lock'], dir); if (l.code !== 0) throw new Error(`lock failed: ${l.out}`); }

// How long a cold install takes, to spread the kill times over it.
const t0 = Date.now();
if ((await run(['install', '--sandbox=off'], dir)).code !== 0) throw new Error('cold install failed');
const total = Date.now() - t0;
let leftovers = 0;
let failures = 0;
for (let i = 0; i < points; i++) {
  rmSync(join(dir, 'store'), { recursive: true, force: true });
  rmSync(join(dir, '.intact'), { recursive: true, force: true });
  const at = Math.round((total * (i + 0.5)) / points);
  const c = spawn(process.execPath, [CLI, 'install', '--sandbox=off'], { cwd: dir, env: { PATH: process.env.PATH, NO_COLOR: '1', CI: '' }, stdio: 'ignore' });
  await new Promise((ok) => setTimeout(ok, at));
  c.kill('SIGKILL');
  await new Promise((ok) => c.on('close', ok));
  const verify = await run(['verify', '--store'], dir);
  const found = (verify.out.match(/error\[|STORE_ENTRY_WRITABLE|STORE_UNKNOWN_FILE/g) ?? []).length;
  const again = await run(['install', '--sandbox=off'], dir);
  const left = temps(join(dir, 'store'));
  leftovers += left.length;
  const bad = verify.code !== 0 || found > 0 || again.code !== 0 || left.length > 0;
  if (bad) failures++;
  console.log(`kill at ${at} ms: verify ${verify.code}${found ? ` (${found} findings)` : ''}, rerun ${again.code}, temps after rerun ${left.length}${bad ? `  <-- ${verify.out.trim().split('\n').slice(-3).join(' / ')} ${left.join(' ')}` : ''}`);
}
console.log(`${points} kill points over a ${total} ms cold install: ${failures} failed, ${leftovers} temps outlived a rerun`);
server.close();
rmSync(dir, { recursive: true, force: true });
rmSync(src, { recursive: true, force: true });
process.exitCode = failures > 0 ? 1 : 0;
