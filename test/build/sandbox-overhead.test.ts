// A step with many dependency mounts, at every level. What the sandbox costs
// per step is measured by bench/sandbox-step.mjs (a ratio against a plain
// spawn, run by hand): a timing asserted here would fail on a loaded machine
// and prove nothing on a quiet one.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runStep } from '../../src/build/sandbox/index.js';
import type { Mount, SandboxLevel } from '../../src/build/types.js';
import { fullSandboxSkip } from '../helpers/sandbox-skip.js';
import { inspectBin } from '../helpers/static-bin.js';

let dir: string;
let T: string;
let mounts: Mount[];

beforeAll(async () => {
  T = await inspectBin();
  dir = await mkdtemp(join(tmpdir(), 'intact-overhead-'));
  mounts = [
    { real: dir, inside: '/build', writable: true },
    { real: dirname(T), inside: '/store/tools', writable: false },
  ];
  // Twenty dependencies, as a larger build has: mounting them must stay cheap.
  for (let i = 0; i < 20; i++) {
    await mkdir(join(dir, `dep${i}`));
    mounts.push({ real: join(dir, `dep${i}`), inside: `/store/dep${i}`, writable: false });
  }
});

afterAll(async () => rm(dir, { recursive: true, force: true }));

it.for(['none', 'partial', 'full'] as const)('runs a step with twenty dependency mounts at level %s', async (level: SandboxLevel, { skip }) => {
  if (level !== 'none' && fullSandboxSkip() !== undefined) skip(fullSandboxSkip()!);
  const argv = level === 'full' ? ['/store/tools/inspect', 'exists:/store/dep19', 'true'] : [T, `exists:${join(dir, 'dep19')}`, 'true'];
  const cwd = level === 'full' ? '/build' : dir;
  let out = '';
  const r = await runStep({ argv, env: {}, cwd, mounts, log: (b) => (out += b.toString()) }, level);
  expect(r.exitCode).toBe(0);
  expect(out).toMatch(/=yes/);
});
