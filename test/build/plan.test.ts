// The build plan is pure: these tests pin down the key, the environment and the
// substitution rules without any I/O.
import { describe, expect, it } from 'vitest';
import { buildEnv, planBuild, stepVars, substitute, type BuildPaths, type BuildPlan } from '../../src/build/plan.js';
import type { LockEntry } from '../../src/lock/types.js';
import type { Recipe } from '../../src/recipe/types.js';
import { storeKey } from '../../src/store/key.js';
import { fakePin } from '../helpers/lock.js';

const ZIG: Recipe = { name: 'zig', version: '0.11.0', platforms: ['linux-x64'], sources: [{ npm: 'z@1.0.0' }], bin: ['zig'] };
const zigEntry: LockEntry = { version: '0.11.0', recipeHash: 'sha256-A', sources: [{ kind: 'npm', npm: 'z@1.0.0', integrity: fakePin('z') }], deps: [] };
const TOOL: Recipe = {
  name: 'tool',
  version: '1.0.0',
  platforms: ['linux-x64', 'linux-arm64'],
  sources: [{ npm: 'a@1.0.0', platforms: ['linux-x64'] }, { npm: 'b@1.0.0', platforms: ['linux-arm64'] }, { url: 'https://x.invalid/c' }],
  deps: ['zig@0.11.0'],
  build: [{ run: ['zig', 'cc'] }],
  bin: ['bin/tool'],
};
const toolEntry: LockEntry = {
  version: '1.0.0',
  recipeHash: 'sha256-B',
  deps: ['zig@0.11.0'],
  sources: [
    { kind: 'npm', npm: 'a@1.0.0', integrity: fakePin('a'), platforms: ['linux-x64'] },
    { kind: 'npm', npm: 'b@1.0.0', integrity: fakePin('b'), platforms: ['linux-arm64'] },
    { kind: 'url', url: 'https://x.invalid/c', integrity: fakePin('c') },
  ],
};

function plans(platform: 'linux-x64' | 'linux-arm64' = 'linux-x64', zigEntryOverride = zigEntry): { zig: BuildPlan; tool: BuildPlan } {
  const zig = planBuild(ZIG, zigEntryOverride, 'linux-x64', new Map());
  const tool = planBuild(TOOL, toolEntry, platform, new Map([['zig', zig]]));
  return { zig, tool };
}

describe('planBuild', () => {
  it('takes only the sources of the platform, with their pins', () => {
    const { tool } = plans();
    expect(tool.sources.map((s) => s.pin.integrity)).toEqual([fakePin('a'), fakePin('c')]);
  });

  it('names the entry <key>-<name>-<version> with a 32-character key', () => {
    const { tool } = plans();
    expect(tool.entry).toBe(`${tool.key}-tool-1.0.0`);
    expect(tool.key).toMatch(/^[0-9a-z]{32}$/);
  });

  it('is deterministic', () => {
    expect(plans().tool.key).toBe(plans().tool.key);
  });

  it.each([
    ['the recipe hash', () => storeKey({ recipeHash: 'sha256-X', sources: [], deps: {}, platform: 'linux-x64' })],
    ['a source pin', () => storeKey({ recipeHash: 'sha256-B', sources: [{ integrity: fakePin('other') }], deps: {}, platform: 'linux-x64' })],
    [
      'a nested archive pin',
      () => storeKey({ recipeHash: 'sha256-B', sources: [{ integrity: fakePin('a'), archiveIntegrity: fakePin('x') }], deps: {}, platform: 'linux-x64' }),
    ],
    ['a dependency key', () => storeKey({ recipeHash: 'sha256-B', sources: [], deps: { zig: 'other' }, platform: 'linux-x64' })],
    ['the platform', () => storeKey({ recipeHash: 'sha256-B', sources: [], deps: {}, platform: 'linux-arm64' })],
  ])('changes the key with %s', (_what, other) => {
    const base = storeKey({ recipeHash: 'sha256-B', sources: [], deps: {}, platform: 'linux-x64' });
    expect(other()).not.toBe(base);
  });

  it("changes a dependant's key when a dependency changes", () => {
    const a = plans().tool.key;
    const b = plans('linux-x64', { ...zigEntry, recipeHash: 'sha256-Z' }).tool.key;
    expect(a).not.toBe(b);
  });

  it('refuses a lock entry that records another store key for the platform, naming the recipe', () => {
    const key = plans().zig.key;
    expect(planBuild(ZIG, { ...zigEntry, keys: { 'linux-x64': key } }, 'linux-x64', new Map()).key).toBe(key);
    expect(() => planBuild(ZIG, { ...zigEntry, keys: { 'linux-x64': 'x'.repeat(32) } }, 'linux-x64', new Map())).toThrow(
      /^zig: the lock records another store key for linux-x64/,
    );
    expect(() => planBuild(ZIG, { ...zigEntry, keys: {} }, 'linux-x64', new Map())).toThrow(/^zig: the lock records no store key for linux-x64/);
  });

  it('refuses a platform the recipe does not declare', () => {
    expect(() => planBuild(ZIG, zigEntry, 'linux-arm64', new Map())).toThrow(/not declared for linux-arm64/);
  });
});

describe('buildEnv', () => {
  const paths: BuildPaths = { build: '/build', src: '/build/src', out: '/build/out', tmp: '/build/tmp', deps: { zig: '/store/k-zig-0.11.0' } };
  it('holds only what intact sets: nothing of the caller leaks in', () => {
    process.env['INTACT_CANARY'] = 'leak';
    const env = buildEnv(plans().tool, paths, 3);
    expect(Object.keys(env).sort()).toEqual([
      'HOME',
      'INTACT_BUILD_PLATFORM',
      'INTACT_PLATFORM',
      'JOBS',
      'LC_ALL',
      'MAKEFLAGS',
      'PATH',
      'SOURCE_DATE_EPOCH',
      'TEMP',
      'TERM',
      'TMP',
      'TMPDIR',
      'TZ',
      'XDG_CACHE_HOME',
      'out',
      'src',
    ]);
    expect(Object.values(env).join(' ')).not.toContain('leak');
    expect(env['PATH']).toBe('/store/k-zig-0.11.0');
    expect(env['HOME']).toBe('/homeless-shelter');
    expect(env['JOBS']).toBe('3');
  });
});

describe('substitute', () => {
  const vars = stepVars({
    build: '/build',
    src: '/build/src',
    out: '/build/out',
    tmp: '/build/tmp',
    deps: { libsqlite3: '/store/k-libsqlite3-3.44.2', 'foo-bar': '/store/k-foo' },
  });
  it.each([
    ['$out/bin/x', '/build/out/bin/x'],
    ['${out}/bin', '/build/out/bin'],
    ['-I$libsqlite3/include', '-I/store/k-libsqlite3-3.44.2/include'],
    ['$foo-bar/lib', '/store/k-foo/lib'],
    ['${TMPDIR}/x', '/build/tmp/x'],
    ['$unknown stays', '$unknown stays'],
    ['$1 and $$', '$1 and $$'],
    ['no vars', 'no vars'],
  ])('%s', (input, expected) => {
    expect(substitute(input, vars)).toBe(expected);
  });
});
