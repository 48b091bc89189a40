// The CI gate beyond the static checks (issue 6): `verify --fetch` against a local
// server whose files change, `verify --rebuild` on a reproducible and a
// non-reproducible recipe, recorded outputs (`lock --outputs`) enforced by
// install, and the JUnit report.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixtureProject } from '../helpers/fixture-project.js';
import { serve, startServer, status, type TestServer, type Handler } from '../helpers/http-server.js';
import { makeTarball } from '../helpers/npm-registry.js';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

let server: TestServer;
let tgz: Buffer;
const routes: Record<string, Buffer> = {};
const dynamic =
  (path: string): Handler =>
  (req, res, hit) =>
    serve(routes[path]!)(req, res, hit);

beforeAll(async () => {
  tgz = await makeTarball({ README: 'hello\n', 'src/a.c': 'int a;\n' });
  server = await startServer({ '/a.tgz': dynamic('/a.tgz'), '/mirror/a.tgz': dynamic('/mirror/a.tgz'), '/dead/a.tgz': status(404) });
});
afterAll(async () => server.close());
afterEach(cleanupProjects);

const run = (dir: string, args: string[]) => runCli(args, { cwd: dir, env: { HOME: dir, CI: undefined } });
const recipe = (mirrors: string[]) =>
  `name: a\nversion: 1.0.0\nsources:\n  - url: ${server.url('/a.tgz')}\n    mirrors: [${mirrors.map((m) => server.url(m)).join(', ')}]\n    strip: 1\n`;

describe('intact verify --fetch', () => {
  it('passes when every location still serves the pinned bytes', async () => {
    routes['/a.tgz'] = tgz;
    routes['/mirror/a.tgz'] = tgz;
    const dir = await makeProject({ 'recipes/a.yaml': recipe(['/mirror/a.tgz']) });
    expect((await run(dir, ['lock'])).code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'intact.lock'), 'utf8')).recipes.a.sources[0].tree).toMatch(/^sha256-/);
    const r = await run(dir, ['verify', '--fetch']);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
  });

  it('reports a dead mirror, a mirror serving other bytes, and tells regenerated archives from changed content', async () => {
    routes['/a.tgz'] = tgz;
    routes['/mirror/a.tgz'] = tgz;
    const dir = await makeProject({ 'recipes/a.yaml': recipe(['/mirror/a.tgz', '/dead/a.tgz']) });
    expect((await run(dir, ['lock'])).code).toBe(0);
    // Upstream recompresses the same tar (same content, other bytes); the mirror's content changed.
    routes['/a.tgz'] = gzipSync(gunzipSync(tgz), { level: 1 });
    routes['/mirror/a.tgz'] = await makeTarball({ README: 'tampered\n', 'src/a.c': 'int a;\n' });
    const r = await run(dir, ['--json', 'verify', '--fetch', '--compare-content', '--junit', join(dir, 'report.xml')]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const byCode = (c: string) => doc.findings.filter((f: { code: string }) => f.code === c);
    expect(byCode('SOURCE_DEAD')[0].message).toContain('/dead/a.tgz');
    const changed = byCode('SOURCE_CHANGED')
      .map((f: { message: string }) => f.message)
      .sort();
    expect(changed[0]).toContain('/a.tgz now serves different bytes; but the unpacked content is the same');
    expect(changed[1]).toContain('/mirror/a.tgz now serves different bytes; the content changed too');
    expect(byCode('MIRROR_DISAGREES')).toHaveLength(1);
    const xml = await readFile(join(dir, 'report.xml'), 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0"/);
    expect(xml).toContain('<testsuite name="fetch"');
    expect(xml).toContain('<testcase classname="fetch" name="a">');
    expect(xml).toContain('<failure type=');
    expect(xml).toContain('<testcase classname="static" name="a"/>');
  });
});

const STABLE =
  'name: stable\nversion: 1.0.0\ndeps: [bb@1.36.0]\nbuild:\n  - script: "echo same > $out/file; printf \'a\\\\nb\\\\n\' > $out/list"\n    shell: sh\n';
// busybox date has no %N: the kernel's random uuid stands in for "the time of the build".
const UNSTABLE =
  'name: unstable\nversion: 1.0.0\ndeps: [bb@1.36.0]\nbuild:\n  - script: "echo built at $(date +%s) $(cat /proc/sys/kernel/random/uuid) > $out/stamp; echo fixed > $out/other"\n    shell: sh\n';

// The hostname is fixed in the full sandbox, but not at other levels: a build that records it is caught.
const HOSTNAME = 'name: named\nversion: 1.0.0\ndeps: [bb@1.36.0]\nbuild:\n  - script: "cat /proc/sys/kernel/hostname > $out/built-on"\n    shell: sh\n';

describe('intact verify --rebuild', () => {
  it('passes a reproducible recipe and names the file that differs in one that is not', async () => {
    const dir = await fixtureProject({ stable: STABLE, unstable: UNSTABLE });
    expect((await run(dir, ['install'])).code).toBe(0);
    const ok = await run(dir, ['verify', '--rebuild', 'stable']);
    expect(ok.stderr).not.toContain('error');
    expect(ok.code).toBe(0);
    const bad = await run(dir, ['verify', '--rebuild', 'unstable']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('NOT_REPRODUCIBLE');
    expect(bad.stderr).toContain("unstable: a second build differs from the store's entry in 1 file(s): stamp");
    expect(bad.stderr).toMatch(/-built at \d+/);
    expect(bad.stderr).toMatch(/\+built at \d+/);
  }, 60_000);

  it('varies the hostname of the full sandbox, so a build that records it is caught', async () => {
    const dir = await fixtureProject({ named: HOSTNAME });
    expect((await run(dir, ['install', '--sandbox=require'])).code).toBe(0);
    const r = await run(dir, ['verify', '--rebuild', '--sandbox=require', 'named']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("named: a second build differs from the store's entry in 1 file(s): built-on");
    expect(r.stderr).toMatch(/-intact$/m);
    expect(r.stderr).toMatch(/\+intact-rebuild$/m);
  }, 60_000);
});

describe('recorded outputs', () => {
  it('lock --outputs records each output; install refuses a build that differs, unless --allow-mismatch', async () => {
    const dir = await fixtureProject({ stable: STABLE });
    const r = await run(dir, ['lock', '--outputs']);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('recorded output of stable');
    const lock = JSON.parse(await readFile(join(dir, 'intact.lock'), 'utf8'));
    expect(lock.recipes.stable.output['linux-x64']).toMatch(/^sha256-/);
    expect((await run(dir, ['verify'])).code).toBe(0);
    expect((await run(dir, ['install'])).code).toBe(0);

    // Someone alters the recorded hash: an install that must build refuses, storing nothing.
    lock.recipes.stable.output['linux-x64'] = 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
    await writeFile(join(dir, 'intact.lock'), `${JSON.stringify(lock, null, 2)}\n`);
    const present = await run(dir, ['install']);
    expect(present.code).toBe(1);
    expect(present.stderr).toContain('OUTPUT_MISMATCH');
    const fresh = await run(dir, ['--store', join(dir, 'other-store'), 'install']);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toContain('stable: the output differs from the one intact.lock records');
    const allowed = await run(dir, ['--store', join(dir, 'other-store'), 'install', '--allow-mismatch']);
    expect(allowed.code).toBe(0);
  }, 60_000);
});
