import { execFileSync } from 'node:child_process';
// What the crash tests share (scripts/crash-test.mjs, the long run, and
// test/faults/crash.test.ts, the short one in the quick suite): a local project
// whose one recipe downloads a tarball from a loopback server on port 0 (slowly
// enough to be killed mid-download), unpacks and builds it; a way to SIGKILL an
// intact command at a moment or when something appears on disk; and the checks
// after each kill (docs/reliability.md): `verify --store` finds nothing, a rerun
// succeeds, and no temp file outlives it. Plain JS so both can import it.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const CLI = new URL('../bin/intact.js', import.meta.url).pathname;
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', CI: '' };

/** A project with a recipe `pkg` whose tarball (a 4 MiB file, 200 small ones) a local server sends in 256 KiB steps every 20 ms. */
export async function crashProject() {
  const src = mkdtempSync(join(tmpdir(), 'intact-crash-src-'));
  mkdirSync(join(src, 'pkg/f'), { recursive: true });
  writeFileSync(join(src, 'pkg/data.bin'), randomBytes(4 * 1024 * 1024));
  for (let i = 0; i < 200; i++) writeFileSync(join(src, `pkg/f/${i}.txt`), `file ${i}\n`);
  const tarball = gzipSync(spawnSync('tar', ['-C', src, '-cf', '-', 'pkg'], { maxBuffer: 64 * 1024 * 1024 }).stdout);
  rmSync(src, { recursive: true, force: true });
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(tarball.length) });
    let off = 0;
    const t = setInterval(() => {
      if (off >= tarball.length) return (clearInterval(t), res.end());
      res.write(tarball.subarray(off, off + 256 * 1024));
      off += 256 * 1024;
    }, 20);
    res.on('close', () => clearInterval(t));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${server.address().port}/pkg.tgz`;
  const dir = mkdtempSync(join(tmpdir(), 'intact-crash-'));
  mkdirSync(join(dir, 'recipes'));
  writeFileSync(
    join(dir, 'recipes/pkg.yaml'),
    `name: pkg\nversion: 1.0.0\nsources:\n  - url: ${url}\n    strip: 1\nbuild:\n  - copy: $src/f\n    to: $out/share/f\n  - copy: $src/data.bin\n    to: $out/share/data.bin\n  - write: $out/share/done\n    content: "done\\n"\n`,
  );
  const project = {
    dir,
    /** Back to a cold start: no store, no profile. */
    reset() {
      removeTree(join(dir, 'store'));
      removeTree(join(dir, '.intact'));
    },
    /** An empty lock, so the next `intact lock` fetches and writes it again. */
    unlock() {
      writeFileSync(join(dir, 'intact.lock'), '{\n  "lockfileVersion": 1,\n  "recipes": {}\n}\n');
    },
    close() {
      server.close();
      removeTree(dir);
    },
  };
  project.unlock();
  const l = await run(['lock'], dir);
  if (l.code !== 0) throw new Error(`lock failed: ${l.out}`);
  return project;
}

export function run(args, cwd) {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { cwd, env: ENV });
    let out = '';
    c.stdout.on('data', (b) => (out += b));
    c.stderr.on('data', (b) => (out += b));
    c.on('close', (code) => resolve({ code, out }));
  });
}

const ls = (d) => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};

/** Every temp intact may leave in a project and its store, as paths relative to the project. */
export function temps(dir) {
  const store = join(dir, 'store');
  return [
    ...ls(join(store, 'tmp')).map((n) => `store/tmp/${n}`),
    ...ls(store)
      .filter((n) => n.startsWith('publish-'))
      .map((n) => `store/${n}`),
    ...['logs', 'meta', 'roots', 'locks'].flatMap((d) =>
      ls(join(store, d))
        .filter((n) => n.endsWith('.tmp') || n.endsWith('.lock'))
        .map((n) => `store/${d}/${n}`),
    ),
    ...ls(dir).filter((n) => n.startsWith('.intact.lock.') && n.endsWith('.tmp')),
  ];
}

/**
 * Run `intact ARGS` and SIGKILL it `at` ms after it started, or as soon as
 * `when(dir)` holds (polled every 2 ms), whichever comes first; `at` alone
 * when `when` is not given. Resolves with whether the kill came before the end.
 */
export async function killDuring(args, dir, { at, when }) {
  const c = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: ENV, stdio: 'ignore' });
  let ended = false;
  const closed = new Promise((ok) => c.on('close', () => ((ended = true), ok())));
  const t0 = Date.now();
  while (!ended && Date.now() - t0 < at && !(when?.(dir) ?? false)) await new Promise((ok) => setTimeout(ok, 2));
  const killed = !ended;
  c.kill('SIGKILL');
  await closed;
  return killed;
}

/**
 * The checks after a kill: `verify --store` clean, then `rerun` succeeds and
 * leaves no temp. A killed `intact lock` leaves the lock stale, which verify
 * rightly reports: there (`lockFirst`) the rerun comes first, then verify.
 */
export async function checkAfterKill(dir, rerun = ['install', '--sandbox=off'], { lockFirst = false } = {}) {
  const verifyNow = async () => (ls(join(dir, 'store')).length > 0 || lockFirst ? await run(['verify', '--store'], dir) : { code: 0, out: '' });
  const before = lockFirst ? undefined : await verifyNow();
  const again = await run(rerun, dir);
  const left = temps(dir);
  const verify = before ?? (await verifyNow());
  const findings = (verify.out.match(/error\[|STORE_ENTRY_WRITABLE|STORE_UNKNOWN_FILE/g) ?? []).length;
  return { ok: verify.code === 0 && findings === 0 && again.code === 0 && left.length === 0, verify, findings, again, left };
}

/** Store entries are read-only: give their folders u+w first (root alone removes them anyway). */
function removeTree(p) {
  try {
    execFileSync('chmod', ['-R', 'u+w', p], { stdio: 'ignore' });
  } catch {
    // nothing there, or not ours: rmSync says what matters
  }
  rmSync(p, { recursive: true, force: true });
}
