import { describe, expect, it } from 'vitest';
import type { BuildPlan } from '../../src/build/plan.js';
import { profilePlans } from '../../src/project/profile-set.js';

/** A plan with what profilePlans reads: its name and its edges. */
function plan(name: string, deps: string[] = [], tools: string[] = []): BuildPlan {
  const dep = (n: string, tool: boolean) => ({ name: n, version: '1', key: n, entry: n, bin: [], tool });
  return { name, deps: [...tools.map((t) => dep(t, true)), ...deps.map((d) => dep(d, false))] } as unknown as BuildPlan;
}

// A bootstrap: seed -> stage1 -> busybox, each the tool of the next; xz is built
// with busybox and links zlib; qemu stands alone.
const set = [
  plan('seed'),
  plan('stage1', [], ['seed']),
  plan('busybox', [], ['stage1']),
  plan('zlib', [], ['busybox']),
  plan('xz', ['zlib'], ['busybox']),
  plan('qemu'),
];
const names = (ps: BuildPlan[]) => ps.map((p) => p.name).sort();

describe('what goes on .intact/bin', () => {
  it('with names: those recipes and their deps, not their tools', () => {
    expect(names(profilePlans(set, ['xz']))).toEqual(['xz', 'zlib']);
    expect(names(profilePlans(set, ['stage1']))).toEqual(['stage1']);
  });

  it('without names: every recipe that is no other recipe’s tool, and their deps', () => {
    expect(names(profilePlans(set, []))).toEqual(['qemu', 'xz', 'zlib']);
  });

  it('a recipe that is a tool of one and a dep of another is on it through the dep', () => {
    const mixed = [plan('make'), plan('lib', [], ['make']), plan('app', ['make'])];
    expect(names(profilePlans(mixed, ['app']))).toEqual(['app', 'make']);
    expect(names(profilePlans(mixed, []))).toEqual(['app', 'lib', 'make']);
  });
});
