// The Debian source kinds end to end, as processes, against a Debian archive on
// loopback: what `lock` pins (no archive host in the lock), that the same lock
// works against any mirror, what happens when a point release removes a pinned
// file, and that floating specs and a missing archive are clear errors.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tgz } from '../helpers/archives.js';
import { makeDeb, startDebArchive, type BinaryPackage, type TestDebArchive } from '../helpers/deb-archive.js';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

const tool = (v: string): BinaryPackage => ({
  name: 'tool-static',
  source: 'tool',
  version: v,
  arch: 'amd64',
  deb: makeDeb([
    { name: './bin/', type: 'dir' },
    { name: './bin/tool', body: `#!/bin/sh\necho ${v}\n`, mode: 0o755 },
    { name: './usr/share/doc/tool/copyright', body: 'MIT\n' },
  ]),
});
const toolArm = (v: string): BinaryPackage => ({ ...tool(v), arch: 'arm64', deb: makeDeb([{ name: './bin/tool', body: `arm ${v}\n`, mode: 0o755 }]) });
const orig = tgz([
  { name: 'tool-1.0/', type: 'dir' },
  { name: 'tool-1.0/configure', body: '#!/bin/sh\n', mode: 0o755 },
]);

let archive: TestDebArchive;
let mirror: TestDebArchive;
beforeAll(async () => {
  archive = await startDebArchive(
    [tool('1:1.0-1'), toolArm('1:1.0-1')],
    [{ name: 'tool', version: '1:1.0-1', files: [{ name: 'tool_1.0.orig.tar.gz', data: orig }] }],
  );
  mirror = await startDebArchive([tool('1:1.0-1')]);
});
afterAll(async () => {
  await archive.close();
  await mirror.close();
});
afterEach(cleanupProjects);

const RECIPE = [
  'name: tool',
  'version: 1.0.0',
  'platforms: [linux-x64, linux-arm64]',
  'sources:',
  '  - deb: tool-static=1:1.0-1',
  '    platforms: [linux-x64]',
  '    strip: 2',
  '  - deb: tool-static=1:1.0-1',
  '    platforms: [linux-arm64]',
  '    strip: 2',
  'bin: [tool]',
  '',
].join('\n');
const SRC_RECIPE = 'name: toolsrc\nversion: 1.0.0\nsources:\n  - debSource: tool=1:1.0-1\n    debFile: tool_1.0.orig.tar.gz\n    strip: 1\n';

function env(dir: string, sources: string) {
  return { cwd: dir, env: { HOME: dir, INTACT_DEB_SOURCES: sources, INTACT_APT_DIR: join(dir, 'no-apt'), CI: undefined } };
}

describe('deb sources', () => {
  it("lock pins each platform's package by sha512, with its pool path and size and no host", async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': RECIPE, 'recipes/toolsrc.yaml': SRC_RECIPE });
    const r = await runCli(['lock'], env(dir, archive.sourcesLine));
    expect(r.stderr).not.toMatch(/error|warn/i);
    expect(r.code).toBe(0);
    const text = await readFile(join(dir, 'intact.lock'), 'utf8');
    const lock = JSON.parse(text);
    const [x64, arm] = lock.recipes.tool.sources;
    const sha512 = (b: Buffer) => `sha512-${createHash('sha512').update(b).digest('base64')}`;
    expect(x64).toMatchObject({
      kind: 'deb',
      deb: 'tool-static=1:1.0-1',
      debPath: 'pool/main/t/tool/tool-static_1.0-1_amd64.deb',
      integrity: sha512(tool('1:1.0-1').deb),
      size: tool('1:1.0-1').deb.length,
      platforms: ['linux-x64'],
    });
    expect(arm).toMatchObject({ debPath: 'pool/main/t/tool/tool-static_1.0-1_arm64.deb', integrity: sha512(toolArm('1:1.0-1').deb) });
    expect(lock.recipes.toolsrc.sources[0]).toMatchObject({
      kind: 'debSource',
      debSource: 'tool=1:1.0-1',
      debFile: 'tool_1.0.orig.tar.gz',
      debPath: 'pool/main/t/tool/tool_1.0.orig.tar.gz',
      integrity: sha512(orig),
    });
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain(archive.root);

    const v = await runCli(['verify'], env(dir, archive.sourcesLine));
    expect(v.code).toBe(0);
  });

  it("install unpacks the package's files; the same lock works against another mirror", async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': RECIPE });
    expect((await runCli(['lock'], env(dir, archive.sourcesLine))).code).toBe(0);
    const i = await runCli(['install', '--store', join(dir, 'other-store')], env(dir, mirror.sourcesLine));
    expect(i.stderr).not.toMatch(/error|warn/i);
    expect(i.code).toBe(0);
    expect(await readFile(join(dir, '.intact/bin/tool'), 'utf8')).toBe('#!/bin/sh\necho 1:1.0-1\n');
    expect(mirror.server.requests(`/debian/${mirror.poolPath(tool('1:1.0-1'))}`)).toHaveLength(1);
    // install reads no index: the lock holds the path.
    expect(mirror.server.requests('/debian/dists/bookworm/main/binary-amd64/Packages.gz')).toHaveLength(0);
  });

  it('a dead first mirror is skipped for the next', async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': RECIPE });
    expect((await runCli(['lock'], env(dir, archive.sourcesLine))).code).toBe(0);
    const dead = 'deb http://127.0.0.1:9/debian bookworm main';
    const i = await runCli(['fetch'], env(dir, `${dead}\n${mirror.sourcesLine}`));
    expect(i.code).toBe(0);
  });

  it('a pin that left the mirror (a point release) is DEB_GONE, naming the package and version and what to do', async () => {
    const moving = await startDebArchive([tool('1:1.0-1')]);
    try {
      const dir = await makeProject({
        'recipes/tool.yaml': RECIPE.replace(/ {2}- deb: tool-static=1:1.0-1\n {4}platforms: \[linux-arm64\]\n {4}strip: 2\n/, '').replace(
          'platforms: [linux-x64, linux-arm64]',
          'platforms: [linux-x64]',
        ),
      });
      expect((await runCli(['lock'], env(dir, moving.sourcesLine))).code).toBe(0);
      moving.publish([tool('1:1.0-1+deb12u1')]);
      // A fresh clone's store: nothing cached.
      const r = await runCli(['install', '--store', join(dir, 'fresh')], env(dir, moving.sourcesLine));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('DEB_GONE');
      expect(r.stderr).toContain('tool-static=1:1.0-1');
      expect(r.stderr).toMatch(/error\[DEB_GONE\]: tool: /);
      expect(r.stderr).toContain('intact outdated');
      expect(r.stderr).toMatch(/snapshot archive/);
      // outdated lists the version the archive has now, and edits nothing.
      const before = await readFile(join(dir, 'recipes/tool.yaml'), 'utf8');
      const o = await runCli(['outdated'], env(dir, moving.sourcesLine));
      expect(o.stdout).toContain('1:1.0-1+deb12u1');
      expect(await readFile(join(dir, 'recipes/tool.yaml'), 'utf8')).toBe(before);
      // An archive that keeps the old version serves the same pin.
      const i = await runCli(['install', '--store', join(dir, 'fresh')], env(dir, `${moving.sourcesLine}\n${archive.sourcesLine}`));
      expect(i.code).toBe(0);
    } finally {
      await moving.close();
    }
  });

  it('lock of a version the archive does not have names the versions it has', async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': RECIPE.replaceAll('1:1.0-1', '1:0.9-1') });
    const r = await runCli(['lock'], env(dir, archive.sourcesLine));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DEB_NOT_IN_INDEX');
    expect(r.stderr).toMatch(/recipes\/tool.yaml:(5|8):\d+: error\[DEB_NOT_IN_INDEX\]: tool-static:(amd|arm)64=1:0.9-1/);
    expect(r.stderr).toContain('it has 1:1.0-1');
  });

  it.each([
    ['a name alone', 'tool-static', /has no version/],
    ['a relation', 'tool-static>=1.0', /relation/],
    ['a suite', 'tool-static=stable', /suite/],
  ])('%s is refused like every floating version (exit 2)', async (_what, spec, why) => {
    const dir = await makeProject({ 'recipes/tool.yaml': `name: tool\nversion: 1.0.0\nsources:\n  - deb: "${spec}"\n    platforms: [linux-x64]\n` });
    const r = await runCli(['lock'], env(dir, archive.sourcesLine));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('recipes/tool.yaml:4');
    expect(r.stderr).toContain('DEB_SPEC_FLOATING');
    expect(r.stderr).toMatch(why);
  });

  it('a source for two platforms without an architecture is DEB_ARCH_UNKNOWN', async () => {
    const dir = await makeProject({
      'recipes/tool.yaml': 'name: tool\nversion: 1.0.0\nplatforms: [linux-x64, linux-arm64]\nsources:\n  - deb: tool-static=1:1.0-1\n',
    });
    const r = await runCli(['lock'], env(dir, archive.sourcesLine));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DEB_ARCH_UNKNOWN');
    expect(r.stderr).toContain('tool-static:amd64=1:1.0-1');
  });

  it('no configured archive: DEB_ARCHIVE_UNSET with how to set one, and nothing written', async () => {
    const dir = await makeProject({ 'recipes/tool.yaml': RECIPE });
    const r = await runCli(['lock'], env(dir, ''));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DEB_ARCHIVE_UNSET');
    expect(r.stderr).toContain('INTACT_DEB_SOURCES');
    await expect(readFile(join(dir, 'intact.lock'))).rejects.toThrow();
  });

  it('add deb: writes one pinned source per platform the index has, and locks it', async () => {
    const dir = await makeProject({ 'recipes/.keep': '' });
    const r = await runCli(['add', 'deb:tool-static=1:1.0-1'], env(dir, archive.sourcesLine));
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const text = await readFile(join(dir, 'recipes/tool.yaml'), 'utf8');
    expect(text).toContain('version: "1.0"');
    expect(text).toContain('platforms: [linux-x64, linux-arm64]');
    expect(text).toContain('  - deb: "tool-static=1:1.0-1"\n    platforms: [linux-x64]');
    expect(text).toContain('  - deb: "tool-static=1:1.0-1"\n    platforms: [linux-arm64]');
    expect(text).toContain('description: "a test package"');
    const lock = JSON.parse(await readFile(join(dir, 'intact.lock'), 'utf8'));
    expect(lock.recipes.tool.sources.map((s: { debPath: string }) => s.debPath)).toEqual([
      'pool/main/t/tool/tool-static_1.0-1_amd64.deb',
      'pool/main/t/tool/tool-static_1.0-1_arm64.deb',
    ]);
    const floating = await runCli(['add', 'deb:tool-static'], env(dir, archive.sourcesLine));
    expect(floating.code).toBe(2);
    expect(floating.stderr).toContain('DEB_SPEC_FLOATING');
  });

  it('add debsource: pins a file of a source package', async () => {
    const dir = await makeProject({ 'recipes/.keep': '' });
    const r = await runCli(['add', 'debsource:tool=1:1.0-1/tool_1.0.orig.tar.gz'], env(dir, archive.sourcesLine));
    expect(r.code).toBe(0);
    const text = await readFile(join(dir, 'recipes/tool.yaml'), 'utf8');
    expect(text).toContain('  - debSource: "tool=1:1.0-1"\n    debFile: "tool_1.0.orig.tar.gz"');
  });
});
