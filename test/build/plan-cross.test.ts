// Cross-building in the plan (pure): `tools` are planned for the build machine
// and `deps` for the target; only a cross build names the build machine in its
// key, so every native key stays what the lock records.
import { describe, expect, it } from 'vitest';
import { buildEnv, planBuild, type BuildPaths, type BuildPlan } from '../../src/build/plan.js';
import type { LockEntry } from '../../src/lock/types.js';
import type { Recipe } from '../../src/recipe/types.js';
import { fakePin } from '../helpers/lock.js';

const both = ['linux-x64', 'linux-arm64'] as const;
const MAKE: Recipe = {
  name: 'make',
  version: '4.3',
  platforms: [...both],
  sources: [{ url: 'https://x.invalid/make' }],
  build: [{ mkdir: '$out/bin' }],
  bin: ['bin/make'],
};
const ZLIB: Recipe = {
  name: 'zlib',
  version: '1.3',
  platforms: [...both],
  sources: [{ url: 'https://x.invalid/zlib' }],
  tools: ['make@4.3'],
  build: [{ run: ['make'] }],
  bin: ['bin/zpipe'],
};
const XZ: Recipe = {
  name: 'xz',
  version: '5.4.1',
  platforms: [...both],
  sources: [{ url: 'https://x.invalid/xz' }],
  tools: ['make@4.3'],
  deps: ['zlib@1.3'],
  sandboxBin: 'make',
  build: [{ run: ['make'] }],
  bin: ['bin/xz'],
};
const entry = (r: Recipe): LockEntry => ({
  version: r.version,
  recipeHash: `sha256-${r.name}`,
  deps: [...(r.tools ?? []), ...(r.deps ?? [])],
  sources: [{ kind: 'url', url: `https://x.invalid/${r.name}`, integrity: fakePin(r.name) }],
});

/** xz for `target`, built on `build`: make for the build machine, zlib for the target. */
function planXz(target: 'linux-x64' | 'linux-arm64', build: 'linux-x64' | 'linux-arm64' = 'linux-x64'): { make: BuildPlan; zlib: BuildPlan; xz: BuildPlan } {
  const make = planBuild(MAKE, entry(MAKE), build, new Map());
  const zlib = planBuild(ZLIB, entry(ZLIB), target, new Map([['make', make]]), build);
  const xz = planBuild(
    XZ,
    entry(XZ),
    target,
    new Map([
      ['make', make],
      ['zlib', zlib],
    ]),
    build,
  );
  return { make, zlib, xz };
}

const paths: BuildPaths = { build: '/build', src: '/build/src', out: '/build/out', tmp: '/build/tmp', deps: { make: '/store/m', zlib: '/store/z' } };

describe('cross planning', () => {
  it('plans tools for the build machine and deps for the target', () => {
    const { make, zlib, xz } = planXz('linux-arm64');
    expect([make.platform, zlib.platform, xz.platform]).toEqual(['linux-x64', 'linux-arm64', 'linux-arm64']);
    expect(xz.buildPlatform).toBe('linux-x64');
    expect(xz.deps.map((d) => [d.name, d.tool])).toEqual([
      ['make', true],
      ['zlib', false],
    ]);
    expect(xz.sandboxBin).toBe('make');
  });

  it('keeps native keys as they were and gives a cross build a key of its own', () => {
    const native = planXz('linux-arm64', 'linux-arm64').xz.key;
    const cross = planXz('linux-arm64', 'linux-x64').xz.key;
    expect(cross).not.toBe(native);
    // A native build's key is the one the lock computes without a build platform.
    const withLockKey = planBuild(MAKE, { ...entry(MAKE), keys: { 'linux-x64': planXz('linux-x64').make.key } }, 'linux-x64', new Map());
    expect(withLockKey.key).toBe(planXz('linux-x64').make.key);
  });

  it('does not hold a cross build to the native key or output the lock records', () => {
    const make = planBuild(MAKE, entry(MAKE), 'linux-x64', new Map());
    const zlib = planBuild(
      ZLIB,
      { ...entry(ZLIB), keys: { 'linux-arm64': 'native-key' }, output: { 'linux-arm64': 'sha256-native' } },
      'linux-arm64',
      new Map([['make', make]]),
      'linux-x64',
    );
    expect(zlib.expectedOutput).toBeUndefined();
    expect(() =>
      planBuild(
        ZLIB,
        { ...entry(ZLIB), keys: { 'linux-arm64': 'native-key' } },
        'linux-arm64',
        new Map([['make', planBuild(MAKE, entry(MAKE), 'linux-arm64', new Map())]]),
      ),
    ).toThrow(/store key/);
  });

  it('refuses a tool planned for the target, naming both', () => {
    const armMake = planBuild(MAKE, entry(MAKE), 'linux-arm64', new Map());
    expect(() => planBuild(ZLIB, entry(ZLIB), 'linux-arm64', new Map([['make', armMake]]), 'linux-x64')).toThrow(/make as a tool for linux-x64/);
  });

  it('puts only the tools on PATH when cross-building, and names both platforms', () => {
    const { xz } = planXz('linux-arm64');
    const env = buildEnv(xz, paths, 2);
    expect(env['PATH']).toBe('/store/m/bin');
    expect(env['INTACT_PLATFORM']).toBe('linux-arm64');
    expect(env['INTACT_BUILD_PLATFORM']).toBe('linux-x64');
    const native = buildEnv(planXz('linux-x64').xz, paths, 2);
    expect(native['PATH']).toBe('/store/m/bin:/store/z/bin');
    expect(native['INTACT_BUILD_PLATFORM']).toBe('linux-x64');
  });
});
