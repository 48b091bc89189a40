// What the sandbox costs per step, against a plain spawn of the same static
// program. Measured at about 18 ms for full and 3 ms for partial on this machine
// (2 cores), against 1.5 ms for a plain spawn; the bound here only catches a
// regression such as per-step copying or one host command per mount.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runStep } from '../../src/build/sandbox/index.js';
import type { Mount, SandboxLevel } from '../../src/build/types.js';
import { inspectBin } from '../helpers/static-bin.js';

let dir: string;
let T: string;
let mounts: Mount[];

beforeAll(async () => {
  T = await inspectBin();
  dir = await mkdtemp(join(tmpdir(), 'intact-overhead-'));
  mounts = [{ real: dir, inside: '/build', writable: true }, { real: dirname(T), inside: '/store/tools', writable: false }];
  // Twenty dependencies, as a larger build has: mounting them must stay cheap.
  for (let i = 0; i < 20; i++) {
    await mkdir(join(dir, `dep${i}`));
    mounts.push({ real: join(dir, `dep${i}`), inside: `/store/dep${i}`, writable: false });
  }
});

afterAll(async () => rm(dir, { recursive: true, force: true }));

async function median(level: SandboxLevel, runs: number): Promise<number> {
  const argv = level === 'full' ? ['/store/tools/inspect', 'true'] : [T, 'true'];
  const cwd = level === 'full' ? '/build' : dir;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await runStep({ argv, env: {}, cwd, mounts, log: () => undefined }, level);
    times.push(performance.now() - t0);
    expect(r.exitCode).toBe(0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

it('keeps the per-step cost of the sandbox small', async () => {
  const none = await median('none', 10);
  const full = await median('full', 10);
  expect(none).toBeLessThan(100);
  expect(full).toBeLessThan(150);
});
