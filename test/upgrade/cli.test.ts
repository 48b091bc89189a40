// The six commands as processes (the real CLI, from dist/), against a fake npm
// registry on loopback and projects that are real git repositories: what they
// print, their exit statuses, and that --json gives one document on stdout.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relock } from '../../src/lock/relock.js';
import { sri, startNpmRegistry, type FakePackage, type FakeRegistry } from '../helpers/npm-registry.js';
import { cleanupProjects, runCli } from '../helpers/project.js';
import { gitProject, lockDeps, toolPackage, type GitProject } from './fixtures.js';

let registry: FakeRegistry;
let tool: FakePackage;

beforeAll(async () => {
  tool = await toolPackage();
  registry = await startNpmRegistry({ packages: [tool] });
});
afterAll(async () => {
  await registry.close();
  await cleanupProjects();
});

const TOOL = '# The tool.\nname: tool\nversion: 1.0.0\nlicense: MIT\nsources:\n  - npm: tool@1.0.0\nbin: [bin/tool]\n';

function env(p: GitProject, extra: Record<string, string | undefined> = {}) {
  return {
    cwd: p.dir,
    env: { ...p.env, npm_config_registry: registry.url, npm_config_userconfig: join(p.dir, 'no-npmrc'), CI: undefined, ...extra } as Record<
      string,
      string | undefined
    >,
  };
}

async function project(): Promise<GitProject> {
  const p = await gitProject({ 'recipes/tool.yaml': TOOL }, { commit: false });
  await relock(p.dir, lockDeps(p.dir, registry.url));
  await p.commit('tool 1.0.0');
  return p;
}

describe('intact outdated', () => {
  it('prints a table of newer versions and exits 0; --json is one document', async () => {
    const p = await project();
    const r = await runCli(['outdated'], env(p));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^recipe\s+current\s+latest\s+via\s+newer$/m);
    expect(r.stdout).toMatch(/^tool\s+1\.0\.0\s+2\.0\.0\s+npm\s+1\.1\.0 \(\d+ d\), 1\.2\.0 \(\d+ d\), 2\.0\.0 \(\d+ d\) deprecated$/m);
    expect(r.stdout).toContain('1 pre-release(s) hidden');
    const j = await runCli(['outdated', '--json', '--prereleases'], env(p));
    const doc = JSON.parse(j.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.recipes[0].newer.map((n: { version: string }) => n.version)).toEqual(['1.1.0', '1.2.0-rc.1', '1.2.0', '2.0.0']);
  });

  it('refuses a --min-age that is not a number', async () => {
    const p = await project();
    const r = await runCli(['outdated', '--min-age', 'soon'], env(p));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--min-age takes a whole number of days');
  });
});

describe('intact upgrade, diff and review', () => {
  it('upgrade prints a merge request summary; diff and review show the change on a feature branch', async () => {
    const p = await project();
    await p.git('checkout', '-q', '-b', 'feature');
    const u = await runCli(['upgrade', 'tool', '1.1.0'], env(p));
    expect(u.stderr).not.toContain('error');
    expect(u.code).toBe(0);
    expect(u.stdout).toContain('## Upgrade `tool` 1.0.0 → 1.1.0');
    expect(u.stdout).toContain('| `tool` | upgraded | 1.0.0 → **1.1.0** |');
    expect(await readFile(join(p.dir, 'recipes/tool.yaml'), 'utf8')).toBe(TOOL.replace(/1\.0\.0/g, '1.1.0'));
    expect(JSON.parse(await readFile(join(p.dir, 'intact.lock'), 'utf8')).recipes.tool.sources[0].integrity).toBe(
      sri('sha512', tool.versions['1.1.0']!.tarball),
    );

    // Uncommitted now: a second upgrade refuses to run over it.
    const again = await runCli(['upgrade', 'tool', '1.2.0'], env(p));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('error[UPGRADE_DIRTY]');
    await p.commit('upgrade tool');

    const d = await runCli(['diff'], env(p));
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/^### intact: 1 upgraded$/m);
    expect(d.stdout).toContain('Compared the work tree with `main` (merge base');
    const dj = JSON.parse((await runCli(['diff', 'main', '--format', 'json'], env(p))).stdout);
    expect(dj.recipes[0]).toMatchObject({ name: 'tool', status: 'upgraded', version: { before: '1.0.0', after: '1.1.0' } });

    const ok = await runCli(['review', '--base', 'main', '--max-deltas', '10'], env(p, { CI: 'true' }));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('### intact review: 1 upgraded');
    expect(ok.stdout).toMatch(/Changed lines: 4 of 10 allowed; generated, not counted: `intact\.lock` \+\d+ −\d+\./);
    expect(ok.stdout).toContain('**Review passed.**');

    const tight = await runCli(['review', '--base', 'main', '--max-deltas', '1'], env(p, { CI: 'true' }));
    expect(tight.code).toBe(1);
    expect(tight.stderr).toContain('error[REVIEW_TOO_LARGE]');
    expect(tight.stdout).toContain('**Review failed**');
  });

  it('review fails a recipe edited without its lock, and names a base that does not exist', async () => {
    const p = await project();
    await p.git('checkout', '-q', '-b', 'feature');
    await p.write({ 'recipes/tool.yaml': TOOL.replace('license: MIT', 'license: MIT\ndescription: edited') });
    await p.commit('edit without lock');
    const r = await runCli(['review', '--base', 'main'], env(p, { CI: 'true' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('recipes/tool.yaml: error[REVIEW_LOCK_NOT_UPDATED]');
    const bad = await runCli(['review', '--base', 'nope'], env(p));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error[GIT_REVISION_UNKNOWN]: "nope" is not a commit');
    const json = await runCli(['diff', 'nope', '--json'], env(p));
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'GIT_REVISION_UNKNOWN' } });
  });

  it('upgrade refuses to write in CI and names a floating version', async () => {
    const p = await project();
    const ci = await runCli(['upgrade', 'tool', '1.1.0'], env(p, { CI: 'true' }));
    expect(ci.code).toBe(2);
    expect(ci.stderr).toContain('error[LOCK_REFUSED]');
    const floating = await runCli(['upgrade', 'tool', '^1.1.0'], env(p));
    expect(floating.code).toBe(2);
    expect(floating.stderr).toContain('error[VERSION_FLOATING]');
    const missing = await runCli(['upgrade', 'tool', '7.0.0'], env(p));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error[NPM_VERSION_NOT_FOUND]: upgrade tool to 7.0.0: tool@7.0.0 is not published');
    expect(await readFile(join(p.dir, 'recipes/tool.yaml'), 'utf8')).toBe(TOOL);
  });
});

describe('intact add and sbom', () => {
  it('add writes and locks a recipe; sbom describes it', async () => {
    const p = await project();
    const a = await runCli(['add', 'npm:tool@1.2.0', '--name', 'tool2'], env(p));
    expect(a.stderr).not.toContain('error');
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('wrote recipes/tool2.yaml and locked tool2@1.2.0:');
    expect(a.stdout).toContain(`tool@1.2.0 ${sri('sha512', tool.versions['1.2.0']!.tarball)}`);
    const floating = await runCli(['add', 'npm:tool@^1'], env(p));
    expect(floating.code).toBe(2);
    expect(floating.stderr).toContain('error[NPM_SPEC_FLOATING]');

    const s = await runCli(['sbom', '--format', 'spdx'], env(p, { SOURCE_DATE_EPOCH: '0' }));
    expect(s.code).toBe(0);
    const doc = JSON.parse(s.stdout);
    expect(doc.spdxVersion).toBe('SPDX-2.3');
    expect(doc.packages.map((x: { name: string }) => x.name)).toEqual(['tool', 'tool', 'tool2', 'tool']);
    const out = await runCli(['sbom', '--output', 'bom.json'], env(p));
    expect(out.code).toBe(0);
    expect(JSON.parse(await readFile(join(p.dir, 'bom.json'), 'utf8')).specVersion).toBe('1.5');
    const bad = await runCli(['sbom', '--format', 'xml'], env(p));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format takes cyclonedx or spdx');
  });
});
