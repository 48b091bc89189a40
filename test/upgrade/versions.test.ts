// Ordering upstream versions (semver and not), pre-releases, version tags, and
// the one-capture-group rule of `watch:` patterns.
import { describe, expect, it } from 'vitest';
import { compareVersions, isPrerelease, tagCandidates, versionFromTag } from '../../src/upgrade/versions.js';
import { filterNewer } from '../../src/upgrade/outdated.js';
import { parseLsRemote } from '../../src/upgrade/ls-remote.js';
import { versionsInPage } from '../../src/upgrade/watch.js';

describe('compareVersions', () => {
  const ascending: [string, string][] = [
    ['1.2.3', '1.2.4'],
    ['1.2.3', '1.10.0'],
    ['1.2.3-rc.1', '1.2.3'],
    ['3.44.2', '3.45.0'],
    ['9.4p1', '9.5p1'],
    ['9.4', '9.4p1'],
    ['1.0rc1', '1.0'],
    ['1.0beta2', '1.0rc1'],
    ['2024.01.15', '2024.02.01'],
    ['5.2', '5.10'],
    ['1.0', '1.0.1'],
    ['0.11.0', '0.12.0'],
  ];
  it.each(ascending)('%s < %s', (a, b) => {
    expect(compareVersions(a, b)).toBeLessThan(0);
    expect(compareVersions(b, a)).toBeGreaterThan(0);
  });
  it('is 0 for the same version', () => {
    expect(compareVersions('1.2.3', '1.2.3')).toBe(0);
    expect(compareVersions('9.4p1', '9.4p1')).toBe(0);
  });
  it('sorts a mixed list', () => {
    expect(['1.10.0', '1.2.0', '1.2.0-rc.1', '1.9.9'].sort(compareVersions)).toEqual(['1.2.0-rc.1', '1.2.0', '1.9.9', '1.10.0']);
  });
});

describe('isPrerelease', () => {
  it.each([
    ['1.2.0-rc.1', true],
    ['1.2.0', false],
    ['2.0.0-next.3', true],
    ['1.0rc1', true],
    ['3.0beta', true],
    ['9.4p1', false],
    ['2024.01.15', false],
  ] as const)('%s → %s', (v, pre) => {
    expect(isPrerelease(v)).toBe(pre);
  });
});

describe('versionFromTag', () => {
  it.each([
    ['v1.2.3', '1.2.3'],
    ['1.2.3', '1.2.3'],
    ['refs/tags/v0.11.0', '0.11.0'],
    ['tool-1.4.0', '1.4.0'],
    ['release-2024.01.15', '2024.01.15'],
    ['v9.4p1', '9.4p1'],
  ])('%s → %s', (tag, v) => {
    expect(versionFromTag(tag, 'tool')).toBe(v);
  });
  it.each(['latest', 'stable', 'main', 'docs', 'v', 'other-1.0.0', 'v1.x'])('%s is not a version', (tag) => {
    expect(versionFromTag(tag, 'tool')).toBeUndefined();
  });
  it('looks for v<VERSION> first, then <VERSION>', () => {
    expect(tagCandidates('1.2.3')).toEqual(['v1.2.3', '1.2.3']);
  });
});

describe('filterNewer', () => {
  const releases = [
    { version: '1.0.0', prerelease: false, ageDays: 400 },
    { version: '1.1.0', prerelease: false, ageDays: 100 },
    { version: '1.2.0-rc.1', prerelease: true, ageDays: 20 },
    { version: '1.2.0', prerelease: false, ageDays: 3 },
    { version: '2.0.0', prerelease: false },
  ];
  it('keeps newer versions, oldest first, and hides pre-releases', () => {
    const r = filterNewer('1.0.0', releases, {});
    expect(r.newer.map((x) => x.version)).toEqual(['1.1.0', '1.2.0', '2.0.0']);
    expect(r.latest).toBe('2.0.0');
    expect(r.hidden).toEqual({ prereleases: 1, younger: 0 });
  });
  it('shows pre-releases when asked', () => {
    expect(filterNewer('1.1.0', releases, { prereleases: true }).newer.map((x) => x.version)).toEqual(['1.2.0-rc.1', '1.2.0', '2.0.0']);
  });
  it('hides releases younger than the cooling-off period; unknown ages stay', () => {
    const r = filterNewer('1.0.0', releases, { minAgeDays: 7 });
    expect(r.newer.map((x) => x.version)).toEqual(['1.1.0', '2.0.0']);
    expect(r.hidden.younger).toBe(1);
  });
});

describe('parseLsRemote', () => {
  it('peels annotated tags and ignores other refs', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const c = 'c'.repeat(40);
    const text = `${a}\trefs/tags/v1.0.0\n${b}\trefs/tags/v1.0.0^{}\n${c}\trefs/tags/v1.1.0\n${a}\trefs/heads/main\n`;
    expect(parseLsRemote(text)).toEqual([
      { name: 'v1.0.0', commit: b },
      { name: 'v1.1.0', commit: c },
    ]);
  });
});

describe('versionsInPage', () => {
  it('collects each exact version once, in page order', () => {
    const page = '<a href="foo-1.2.0.tar.gz">x</a> <a href="foo-1.10.0.tar.gz">y</a> foo-1.2.0.tar.gz foo-latest.tar.gz';
    expect(versionsInPage(page, /foo-([0-9][0-9.]*)\.tar\.gz/g)).toEqual(['1.2.0', '1.10.0']);
  });
});
