// `intact gc`, `list` and `why` on real installs sharing one store, and gc run
// over and over while another `intact install` builds a chain of dependencies
// into that store: nothing the install needs is lost, while garbage from a
// project that is gone is collected meanwhile.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectPins } from '../../src/project/pins.js';
import { collectGarbage } from '../../src/store/gc.js';
import { layoutOf } from '../../src/store/paths.js';
import { removeTree } from '../../src/store/remove-tree.js';
import { verifyStore } from '../../src/store/verify-store.js';
import { fixtureProject } from '../helpers/fixture-project.js';
import { CLI, cleanupProjects, runCli } from '../helpers/project.js';
import { runStoreCli } from '../helpers/store-cli.js';

const stores: string[] = [];
afterEach(async () => {
  await cleanupProjects();
  for (const s of stores.splice(0)) await removeTree(s);
});

async function sharedStore(): Promise<string> {
  const s = await mkdtemp(join(tmpdir(), 'intact-shared-store-'));
  stores.push(s);
  return s;
}

const recipe = (name: string, deps: string[], script: string): string =>
  `name: ${name}\nversion: 1.0.0\ndeps: [${['bb@1.36.0', ...deps].join(', ')}]\nbin: [bin/${name}]\nbuild:\n  - script: |\n      ${script}\n      mkdir -p "$out/bin"; printf '#!/bin/sh\\necho ${name}\\n' > "$out/bin/${name}"; chmod +x "$out/bin/${name}"\n    shell: sh\n`;

async function entries(store: string): Promise<string[]> {
  return (await readdir(store))
    .filter((n) => /^[0-9a-z]{32}-/.test(n))
    .map((n) => n.slice(33))
    .sort();
}

describe('intact gc', () => {
  it("loses nothing a concurrent install needs while it collects a gone project's entries", async () => {
    const store = await sharedStore();
    const layout = layoutOf(store);
    const env = (dir: string) => ({ cwd: dir, env: { HOME: dir, INTACT_STORE: store, CI: undefined } });
    // A live project keeps bb; garbage: a project installed into the store, then deleted.
    const keeper = await fixtureProject({});
    expect((await runCli(['install'], env(keeper))).code).toBe(0);
    const gone = await fixtureProject({ junk: recipe('junk', [], 'echo junk > "$out/junk"') });
    expect((await runCli(['install'], env(gone))).code).toBe(0);
    await rm(gone, { recursive: true, force: true });
    // A chain: each link is built after the one before, and none is rooted until the end.
    const dir = await fixtureProject({
      one: recipe('one', [], 'sleep 0.6; echo 1 > "$out/one"'),
      two: recipe('two', ['one@1.0.0'], 'sleep 0.6; cat /store/*-one-1.0.0/one > "$out/two"'),
      three: recipe('three', ['two@1.0.0'], 'sleep 0.6; echo 3 > "$out/three"'),
    });
    const child = spawn(process.execPath, [CLI, 'install'], {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, INTACT_STORE: store, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    let done = false;
    void exited.then(() => (done = true));

    let runs = 0;
    let removed: string[] = [];
    while (!done) {
      const r = await collectGarbage(layout, { minAgeMs: 0, now: Date.now() + 1000, pinsOf: (p) => projectPins(layout, p) });
      expect(r.findings).toEqual([]);
      removed = [...removed, ...r.removed.map((e) => e.label)];
      runs++;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(await exited, stderr).toBe(0);
    expect(runs).toBeGreaterThan(10);
    expect(removed).toEqual(['junk@1.0.0']);
    expect(await entries(store)).toEqual(['bb-1.36.0', 'one-1.0.0', 'three-1.0.0', 'two-1.0.0']);
    expect((await verifyStore(layout)).findings).toEqual([]);
    const run = await runCli(['run', 'three'], env(dir));
    expect(run.stdout).toBe('three\n');
    // Once rooted by the profile, a final gc keeps it all.
    await collectGarbage(layout, { minAgeMs: 0, now: Date.now() + 1000, pinsOf: (p) => projectPins(layout, p) });
    expect(await entries(store)).toEqual(['bb-1.36.0', 'one-1.0.0', 'three-1.0.0', 'two-1.0.0']);
  }, 40_000);

  it('gc, list and why from the command line', async () => {
    const store = await sharedStore();
    const env = (dir: string) => ({ cwd: dir, env: { HOME: dir, INTACT_STORE: store, CI: undefined } });
    const dir = await fixtureProject({ hello: recipe('hello', [], 'echo hi > "$out/hi"') });
    expect((await runCli(['install'], env(dir))).code).toBe(0);
    const gone = await fixtureProject({ junk: recipe('junk', [], 'echo junk > "$out/junk"') });
    expect((await runCli(['install'], env(gone))).code).toBe(0);
    await rm(gone, { recursive: true, force: true });

    const list = await runStoreCli(['list', '--json'], env(dir));
    expect(list.code, list.stderr).toBe(0);
    const doc = JSON.parse(list.stdout) as {
      entries: { name: string; reachable: boolean; origin: string; sandbox: string; size: number; key: string; projects: string[] }[];
    };
    expect(doc.entries.map((e) => [e.name, e.reachable])).toEqual([
      ['bb', true],
      ['hello', true],
      ['junk', false],
    ]);
    expect(doc.entries[1]).toMatchObject({ origin: 'built', sandbox: 'full', projects: [dir] });
    expect(doc.entries[1]!.size).toBeGreaterThan(0);
    const table = await runStoreCli(['list'], env(dir));
    expect(table.stdout).toMatch(/^NAME +VERSION +KEY +SIZE +ORIGIN +SANDBOX +USED$/m);
    expect(table.stdout).toMatch(/^junk +1\.0\.0 .* no \(gc removes it\)$/m);

    const why = await runStoreCli(['why', 'bb'], env(dir));
    expect(why.code, why.stderr).toBe(0);
    expect(why.stdout).toContain(`${dir}: bb@1.36.0`);
    expect(why.stdout).toContain('a dependency of: hello@1.0.0, junk@1.0.0');
    expect(why.stdout).toContain('hello: hello -> bb');
    const whyJunk = await runStoreCli(['why', 'junk'], env(dir));
    expect(whyJunk.stdout).toContain('no project uses it');
    // Neither a recipe of the project nor in the store: bad input, as for every command.
    const whyNothing = await runStoreCli(['why', 'nothing'], env(dir));
    expect(whyNothing.code).toBe(2);
    expect(whyNothing.stderr).toContain('error[USAGE]: there is no recipe named "nothing"');

    const dry = await runStoreCli(['gc', '--dry-run', '--min-age', '0'], env(dir));
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`dropped the root of ${gone}: the project folder ${gone} is gone`);
    expect(dry.stdout).toMatch(/would remove junk@1\.0\.0 \(\d+ B\)/);
    expect(dry.stdout).toMatch(/would free \d+ B: 1 entry/);
    expect(await entries(store)).toEqual(['bb-1.36.0', 'hello-1.0.0', 'junk-1.0.0']);
    // The default minimum age keeps what was just built.
    expect((await runStoreCli(['gc'], env(dir))).stdout).toMatch(/freed 0 B: 0 entries/);
    const real = await runStoreCli(['--json', 'gc', '--min-age', '0'], env(dir));
    const report = JSON.parse(real.stdout) as { removed: { label: string }[]; freedBytes: number };
    expect(report.removed.map((e) => e.label)).toEqual(['junk@1.0.0']);
    expect(report.freedBytes).toBeGreaterThan(0);
    expect(await entries(store)).toEqual(['bb-1.36.0', 'hello-1.0.0']);
  });
});
