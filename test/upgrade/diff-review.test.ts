// `diff` and `review` on real git repositories: a main branch and a feature
// branch that upgrades one recipe, adds another, and (in the failing cases)
// forgets the lock, edits the lock by hand, lets a version float or grows too big.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/canonical-json.js';
import type { Lockfile } from '../../src/lock/index.js';
import { layoutOf } from '../../src/store/paths.js';
import { compareWithBase, renderMarkdown, review } from '../../src/upgrade/index.js';
import { storeKeys } from '../../src/upgrade/sizes.js';
import { fakePin, lockFor } from '../helpers/lock.js';
import { cleanupProjects, makeProject } from '../helpers/project.js';
import { gitProject, type GitProject } from './fixtures.js';

afterAll(cleanupProjects);

const TOOL = (v: string, spec = `tool@${v}`) => `# prebuilt\nname: tool\nversion: ${v}\nlicense: MIT\nsources:\n  - npm: ${spec}\nbin: [bin/tool]\n`;
const APP = (toolVersion: string) =>
  `name: app\nversion: 0.1.0\nlicense: MIT\nsources:\n  - url: https://x.test/app-0.1.0.tar.gz\ndeps: [tool@${toolVersion}]\n`;
const ZLIB = 'name: zlib\nversion: "1.3"\nlicense: Zlib\nsources:\n  - url: https://x.test/zlib-1.3.tar.gz\n';

/** Write a lock for the project as it is, with pins that differ per version. */
async function relockFake(p: GitProject, edit: (l: Lockfile) => void = () => {}): Promise<void> {
  const lock = await lockFor(p.dir, (l) => {
    for (const [name, e] of Object.entries(l.recipes)) e.sources.forEach((s, i) => (s.integrity = fakePin(`${name}@${e.version}:${i}`)));
    edit(l);
  });
  await writeFile(join(p.dir, 'intact.lock'), canonicalJson(lock));
}

/** main: tool 1.0.0, app (needs tool), zlib; then a feature branch, checked out. */
async function repo(): Promise<GitProject> {
  const p = await gitProject({ 'recipes/tool.yaml': TOOL('1.0.0'), 'recipes/app.yaml': APP('1.0.0'), 'recipes/zlib.yaml': ZLIB }, { commit: false });
  await relockFake(p);
  await p.commit('main: three recipes');
  await p.git('checkout', '-q', '-b', 'feature');
  return p;
}

/** The feature: tool 1.0.0 → 1.1.0 (app follows), a new recipe with a non-SPDX license. */
async function upgradeOnFeature(p: GitProject, opts: { lock?: boolean } = {}): Promise<void> {
  await p.write({
    'recipes/tool.yaml': TOOL('1.1.0'),
    'recipes/app.yaml': APP('1.1.0'),
    'recipes/extra.yaml': 'name: extra\nversion: 2.0.0\nlicense: Apache 2.0\n',
  });
  if (opts.lock !== false) await relockFake(p);
  await p.commit('feature: upgrade tool');
}

describe('diff', () => {
  it('compares with the merge base of the default branch: upgraded, relocked, added', async () => {
    const p = await repo();
    await upgradeOnFeature(p);
    // main moves on after the branch point; the diff must not show it.
    await p.git('checkout', '-q', 'main');
    await p.write({ 'recipes/late.yaml': 'name: late\nversion: 1.0.0\n' });
    await relockFake(p);
    await p.commit('main: later work');
    await p.git('checkout', '-q', 'feature');

    const { report, base } = await compareWithBase(p.dir, { env: p.env });
    expect(base.label).toMatch(/^`main` \(merge base [0-9a-f]{10}\)$/);
    expect(report.recipes.map((r) => [r.name, r.status])).toEqual([
      ['app', 'changed'],
      ['extra', 'added'],
      ['tool', 'upgraded'],
    ]);
    const tool = report.recipes.find((r) => r.name === 'tool')!;
    expect(tool.version).toEqual({ before: '1.0.0', after: '1.1.0' });
    expect(tool.sources).toEqual([
      {
        index: 0,
        location: { before: 'npm:tool@1.0.0', after: 'npm:tool@1.1.0' },
        integrity: { before: fakePin('tool@1.0.0:0'), after: fakePin('tool@1.1.0:0') },
        archiveIntegrity: {},
      },
    ]);
    const app = report.recipes.find((r) => r.name === 'app')!;
    expect(app.deps).toEqual({ added: ['tool@1.1.0'], removed: ['tool@1.0.0'] });
    expect(app.closure).toEqual({ added: ['tool@1.1.0'], removed: ['tool@1.0.0'] });
    expect(report.counts).toMatchObject({ upgraded: 1, added: 1, changed: 1, removed: 0 });

    const md = renderMarkdown(report);
    expect(md).toContain('### intact: 1 upgraded, 1 added, 1 changed');
    expect(md).toContain('| `tool` | upgraded | 1.0.0 → **1.1.0** |');
    expect(md).toContain('| `extra` | added | 2.0.0 |');
    expect(md).toContain('- `sources[0]`: `npm:tool@1.0.0` → `npm:tool@1.1.0`');
    expect(md).toMatch(/ {2}- integrity: `sha512-.{12}…` → `sha512-.{12}…`/);
    expect(md).toContain('- closure: +`tool@1.1.0`, −`tool@1.0.0`');
    expect(md).toMatch(/#### `app` 0\.1\.0\n[^#]*- rebuilds on `linux-x64` \(new store key\)/);
  });

  it("says which dependants a dependency's change rebuilds, and when keys are first recorded", async () => {
    const p = await repo();
    await p.write({ 'recipes/tool.yaml': TOOL('1.0.0').replace('license: MIT', 'license: MIT\ndescription: the tool') });
    await relockFake(p);
    const { report } = await compareWithBase(p.dir, { env: p.env });
    expect(report.recipes.map((r) => [r.name, r.status])).toEqual([
      ['app', 'relocked'],
      ['tool', 'changed'],
    ]);
    const app = report.recipes.find((r) => r.name === 'app')!;
    expect(app.keys).toEqual([{ platform: 'linux-x64', before: expect.any(String), after: expect.any(String) }]);
    const md = renderMarkdown(report);
    expect(md).toMatch(/#### `app` 0\.1\.0\n\n- rebuilds on `linux-x64` \(new store key\)\n(\n|$)/);
    expect(md).not.toContain('only the lock entry changed');

    // A lock written before keys existed: the first relock records them, and says only that.
    const keyed = JSON.parse(await readFile(join(p.dir, 'intact.lock'), 'utf8')) as Lockfile;
    for (const e of Object.values(keyed.recipes)) delete e.keys;
    await writeFile(join(p.dir, 'intact.lock'), canonicalJson(keyed));
    await p.commit('a lock without keys');
    await relockFake(p);
    const first = renderMarkdown((await compareWithBase(p.dir, { env: p.env, base: 'HEAD' })).report);
    expect(first).toContain('- store key recorded for `linux-x64`');
    expect(first).not.toContain('rebuilds');
  });

  it('takes an explicit base, and compares the work tree (uncommitted edits count)', async () => {
    const p = await repo();
    await p.write({ 'recipes/zlib.yaml': ZLIB.replace('Zlib', 'MIT') });
    const { report } = await compareWithBase(p.dir, { env: p.env, base: 'main' });
    expect(report.recipes.map((r) => [r.name, r.status, r.license])).toEqual([['zlib', 'changed', { before: 'Zlib', after: 'MIT' }]]);
    expect(renderMarkdown(report)).toContain('**the lock entry did not change**');
  });

  it('reports the size of built outputs where the store has them', async () => {
    const p = await repo();
    await upgradeOnFeature(p);
    const { head, base } = await compareWithBase(p.dir, { env: p.env });
    const store = layoutOf(join(p.dir, 'store'));
    await mkdir(store.meta, { recursive: true });
    for (const [snap, size] of [
      [base, 1_000_000],
      [head, 1_500_000],
    ] as const) {
      const key = storeKeys(snap, 'linux-x64').get('tool')!;
      await writeFile(join(store.meta, `${key}.json`), JSON.stringify({ key, size }));
    }
    const { report } = await compareWithBase(p.dir, { env: p.env, store, platform: 'linux-x64' });
    expect(report.recipes.find((r) => r.name === 'tool')!.size).toEqual({ before: 1_000_000, after: 1_500_000 });
    expect(renderMarkdown(report)).toContain('977 KiB → 1.4 MiB (+488 KiB)');
  });

  it('names a base that is not a revision, a repository that is not git, and a missing default branch', async () => {
    const p = await repo();
    await expect(compareWithBase(p.dir, { env: p.env, base: 'no-such-branch' })).rejects.toMatchObject({
      code: 'GIT_REVISION_UNKNOWN',
      found: 'no-such-branch',
    });
    await expect(compareWithBase(p.dir, { env: p.env, base: '--output=/tmp/x' })).rejects.toMatchObject({ code: 'GIT_REVISION_UNKNOWN' });
    const plain = await makeProject({ 'recipes/x.yaml': 'name: x\nversion: 1.0.0\n' });
    await expect(compareWithBase(plain, { env: { PATH: process.env.PATH, GIT_CEILING_DIRECTORIES: join(plain, '..') } })).rejects.toMatchObject({
      code: 'NOT_GIT_REPO',
    });
    await p.git('branch', '-q', '-m', 'main', 'trunk');
    await expect(compareWithBase(p.dir, { env: p.env })).rejects.toMatchObject({ code: 'GIT_DEFAULT_BRANCH_UNKNOWN' });
  });
});

describe('review', () => {
  const codes = (r: { findings: { code: string }[] }) => r.findings.map((f) => f.code).sort();

  it('passes a paired change; a license that is not SPDX is a warning', async () => {
    const p = await repo();
    await upgradeOnFeature(p);
    const r = await review(p.dir, { base: 'main', env: p.env });
    expect(codes(r)).toEqual(['LICENSE_UNKNOWN']);
    expect(r.findings[0]).toMatchObject({ file: 'recipes/extra.yaml', line: 3, severity: 'warning' });
    expect(r.exitCode).toBe(0);
    expect(r.ok).toBe(true);
  });

  it('fails a recipe change without its lock entry', async () => {
    const p = await repo();
    await upgradeOnFeature(p, { lock: false });
    const r = await review(p.dir, { base: 'main', env: p.env });
    expect(r.findings.filter((f) => f.code === 'REVIEW_LOCK_NOT_UPDATED').map((f) => f.file)).toEqual(['recipes/app.yaml', 'recipes/tool.yaml']);
    // The added recipe has no entry at all: the lock's own check says so.
    expect(r.findings.find((f) => f.code === 'LOCK_ENTRY_MISSING')).toMatchObject({ file: 'recipes/extra.yaml' });
    expect(r.exitCode).toBe(1);
  });

  it('fails a lock entry re-pinned without a recipe change', async () => {
    const p = await repo();
    await relockFake(p, (l) => (l.recipes.zlib!.sources[0]!.integrity = fakePin('other bytes')));
    await p.commit('re-pin zlib');
    const r = await review(p.dir, { base: 'main', env: p.env });
    expect(codes(r)).toEqual(['REVIEW_RECIPE_NOT_UPDATED']);
    expect(r.findings[0]!.message).toContain('(sources)');
    expect(r.exitCode).toBe(1);
  });

  it('reports an output hash recorded without a recipe change, without failing', async () => {
    const p = await repo();
    await relockFake(p, (l) => (l.recipes.zlib!.output = { 'linux-x64': `sha256-${'A'.repeat(43)}=` }));
    await p.commit('record output');
    const r = await review(p.dir, { base: 'main', env: p.env });
    expect(codes(r)).toEqual(['REVIEW_OUTPUT_CHANGED']);
    expect(r.exitCode).toBe(0);
  });

  it('fails a floating version the change introduces', async () => {
    const p = await repo();
    await p.write({ 'recipes/tool.yaml': TOOL('1.0.0', 'tool@^1.0.0') });
    await relockFake(p);
    await p.commit('float');
    const r = await review(p.dir, { base: 'main', env: p.env });
    const f = r.findings.find((x) => x.code === 'REVIEW_FLOATING')!;
    expect(f).toMatchObject({ file: 'recipes/tool.yaml', line: 6, field: 'sources[0].npm' });
    expect(f.message).toContain('introduced by this change');
    expect(r.exitCode).toBe(1);
  });

  it('holds the change to a line budget, not counting intact.lock', async () => {
    const p = await repo();
    await upgradeOnFeature(p);
    const r = await review(p.dir, { base: 'main', env: p.env, maxDeltas: 100 });
    expect(r.ok).toBe(true);
    expect(r.deltas!.generated.map((d) => d.path)).toEqual(['intact.lock']);
    expect(r.deltas!.generated[0]!.added).toBeGreaterThan(0);
    // tool.yaml: 2 lines changed (+2 -2), app.yaml +1 -1, extra.yaml +3.
    expect(r.deltas!.counted).toBe(9);
    await p.write({ 'notes.txt': 'one\ntwo\n' }); // untracked files count too
    const tight = await review(p.dir, { base: 'main', env: p.env, maxDeltas: 10 });
    expect(codes(tight)).toEqual(['LICENSE_UNKNOWN', 'REVIEW_TOO_LARGE']);
    expect(tight.findings.find((f) => f.code === 'REVIEW_TOO_LARGE')).toMatchObject({ found: '11', expected: 'at most 10' });
    expect(tight.exitCode).toBe(1);
  });

  it('files marked linguist-generated do not count either', async () => {
    const p = await repo();
    await p.write({ '.gitattributes': 'gen/** linguist-generated\n', 'gen/big.txt': 'x\n'.repeat(50) });
    await p.commit('generated');
    const r = await review(p.dir, { base: 'main', env: p.env, maxDeltas: 5 });
    expect(r.deltas!.counted).toBe(1);
    expect(r.deltas!.generated.map((d) => d.path)).toEqual(['gen/big.txt']);
    expect(r.ok).toBe(true);
  });
});
