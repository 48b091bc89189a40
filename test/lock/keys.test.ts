// The store keys a lock records (src/lock/keys.ts) are pure: which platforms get
// one, that they are the keys a build plans, and that a dependency's change
// reaches every dependant.
import { describe, expect, it } from 'vitest';
import { planBuild, type BuildPlan } from '../../src/build/plan.js';
import { lockKeys, withKeys, type LockEntry, type Lockfile } from '../../src/lock/index.js';
import { buildGraph, type Platform, type Recipe } from '../../src/recipe/index.js';
import { fakePin } from '../helpers/lock.js';

const ZIG: Recipe = { name: 'zig', version: '0.11.0', sources: [{ npm: 'z@1.0.0' }] };
// Declared for two platforms, with a source for each.
const TOOL: Recipe = {
  name: 'tool',
  version: '1.0.0',
  platforms: ['linux-x64', 'linux-arm64'],
  sources: [{ npm: 'a@1.0.0', platforms: ['linux-x64'] }, { npm: 'b@1.0.0', platforms: ['linux-arm64'] }, { url: 'https://x.invalid/c' }],
};
// Declared for two platforms, but needs zig, which is for linux-x64 only.
const APP: Recipe = { name: 'app', version: '2.0.0', platforms: ['linux-x64', 'linux-arm64'], deps: ['tool@1.0.0', 'zig@0.11.0'] };

function entry(r: Recipe, seed = ''): LockEntry {
  return {
    version: r.version,
    recipeHash: `sha256-${r.name}${seed}`,
    sources: (r.sources ?? []).map((s, i) => ({
      kind: 'npm',
      npm: 'npm' in s ? s.npm : `u${i}`,
      integrity: fakePin(`${r.name}:${i}${seed}`),
      ...(s.platforms ? { platforms: s.platforms } : {}),
    })),
    deps: r.deps ?? [],
  };
}

const graphOf = (...rs: Recipe[]) => buildGraph(rs.map((recipe) => ({ recipe, file: `recipes/${recipe.name}.yaml`, locate: () => undefined }))).graph;
const lockOf = (...es: [string, LockEntry][]): Lockfile => ({ lockfileVersion: 1, recipes: Object.fromEntries(es) });

const graph = graphOf(ZIG, TOOL, APP);
const lock = lockOf(['zig', entry(ZIG)], ['tool', entry(TOOL)], ['app', entry(APP)]);

describe('lockKeys', () => {
  it('keys each platform a recipe and its closure can be planned for, and no other', () => {
    const keys = lockKeys(graph, lock);
    expect(Object.keys(keys.get('zig')!)).toEqual(['linux-x64']);
    expect(Object.keys(keys.get('tool')!).sort()).toEqual(['linux-arm64', 'linux-x64']);
    expect(keys.get('tool')!['linux-x64']).not.toBe(keys.get('tool')!['linux-arm64']);
    // app declares linux-arm64, but zig cannot be planned there.
    expect(Object.keys(keys.get('app')!)).toEqual(['linux-x64']);
  });

  it('gives no key for a platform whose source has no pin in the lock', () => {
    const tool: Recipe = { ...TOOL, sources: [TOOL.sources![2]!, TOOL.sources![0]!, TOOL.sources![1]!] };
    const pinned = entry(tool);
    // The linux-arm64 source (the last) is not pinned; linux-x64 has all of its own.
    const keys = lockKeys(graphOf(tool), lockOf(['tool', { ...pinned, sources: pinned.sources.slice(0, 2) }]));
    expect(Object.keys(keys.get('tool')!)).toEqual(['linux-x64']);
  });

  it('is the key planBuild computes, on every platform', () => {
    const keys = lockKeys(graph, lock);
    for (const platform of ['linux-x64', 'linux-arm64'] as Platform[]) {
      const plans = new Map<string, BuildPlan>();
      for (const r of [ZIG, TOOL, APP]) {
        const k = keys.get(r.name)![platform];
        if (k === undefined) continue;
        plans.set(r.name, planBuild(r, lock.recipes[r.name]!, platform, plans));
        expect(plans.get(r.name)!.key).toBe(k);
      }
    }
  });

  it("carries a dependency's change into every dependant, and only there", () => {
    const before = lockKeys(graph, lock);
    const after = lockKeys(graph, lockOf(['zig', entry(ZIG, ':new')], ['tool', entry(TOOL)], ['app', entry(APP)]));
    expect(after.get('zig')!['linux-x64']).not.toBe(before.get('zig')!['linux-x64']);
    expect(after.get('app')!['linux-x64']).not.toBe(before.get('app')!['linux-x64']);
    expect(after.get('tool')).toEqual(before.get('tool'));
  });

  it('leaves out a recipe whose dependency is not in the lock, rather than keying it nowhere', () => {
    const keys = lockKeys(graph, lockOf(['tool', entry(TOOL)], ['app', entry(APP)]));
    expect(keys.has('app')).toBe(false);
    expect(keys.has('tool')).toBe(true);
  });
});

describe('withKeys', () => {
  it('records keys on every entry without changing the lock it was given', () => {
    const stamped = withKeys(lock, graph);
    expect(stamped.recipes['app']!.keys).toEqual(lockKeys(graph, lock).get('app'));
    expect(lock.recipes['app']!.keys).toBeUndefined();
  });

  it("keeps an entry's keys where they cannot be computed, and records none rather than omitting the field", () => {
    const kept = withKeys(lockOf(['app', { ...entry(APP), keys: { 'linux-x64': 'old' } }]), graph);
    expect(kept.recipes['app']!.keys).toEqual({ 'linux-x64': 'old' });
    expect(withKeys(lockOf(['app', entry(APP)]), graph).recipes['app']!.keys).toEqual({});
  });
});
