// Defect class: builds without limits. An endless loop, a silent step, a huge log
// and endless writes each ran until stopped from outside. Each test's child runs
// under an outer bound of its own (ulimit: CPU seconds and file size) and a
// supervise deadline, so a failing test cannot take the machine down.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IntactError } from '../../src/errors.js';
import { parseLimitList, type BuildLimits } from '../../src/build/limits.js';
import { DEFAULT_BUILD_LIMITS } from '../../src/recipe/limits.js';
import { supervise } from '../../src/build/sandbox/supervise.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Node running `code`, bounded from outside: 20 CPU seconds, 400 MiB per file. */
async function runaway(code: string, limits: Partial<BuildLimits>): Promise<{ error: IntactError; log: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'intact-runaway-'));
  dirs.push(dir);
  let log = 0;
  const error = await supervise({
    file: '/bin/sh',
    args: ['-c', 'ulimit -t 20 -f 819200; exec "$0" -e "$1"', process.execPath, code],
    env: { PATH: '/usr/bin:/bin' },
    cwd: dir,
    log: (b) => (log += b.length),
    what: 'node',
    timeoutMs: 15_000,
    limits: { limits: { ...DEFAULT_BUILD_LIMITS, ...limits }, deadlineAt: Date.now() + (limits.timeMs ?? DEFAULT_BUILD_LIMITS.timeMs), diskDir: dir },
  }).then(
    () => {
      throw new Error('the runaway step ended by itself');
    },
    (e: unknown) => e as IntactError,
  );
  return { error, log };
}

describe('build limits', () => {
  it('an endless loop ends at the time limit', async () => {
    const r = await runaway('for (;;) {}', { timeMs: 800 });
    expect(r.error.code).toBe('BUILD_TIME_LIMIT');
    expect(r.error.hint).toMatch(/--limits time=4h/);
    expect(r.error.hint).toMatch(/limits: \{ time: 4h \}/);
  });

  it('a silent step ends at the silence limit', async () => {
    const r = await runaway('console.log("started"); setInterval(() => {}, 1e6)', { silentMs: 800 });
    expect(r.error.code).toBe('BUILD_SILENT_LIMIT');
  });

  it('a huge log ends at the log limit, and no more than the limit is kept', async () => {
    const r = await runaway('const fs = require("fs"); const b = Buffer.alloc(65536, 120); for (;;) fs.writeSync(1, b)', { logBytes: 1024 * 1024 });
    expect(r.error.code).toBe('BUILD_LOG_LIMIT');
    expect(r.log).toBeLessThanOrEqual(1024 * 1024);
  });

  it('endless writes end at the disk limit', async () => {
    const r = await runaway('const fs = require("fs"); const fd = fs.openSync("big", "w"); const b = Buffer.alloc(1 << 20, 1); for (;;) fs.writeSync(fd, b)', {
      diskBytes: 64 * 1024 * 1024,
    });
    expect(r.error.code).toBe('BUILD_DISK_LIMIT');
    expect(r.error.message).toContain(String(64 * 1024 * 1024));
  });

  it('reads --limits within bounds and refuses others, naming the flag', () => {
    expect(parseLimitList('time=3h,log=8MiB,processes=100')).toEqual({ timeMs: 3 * 3600_000, logBytes: 8 * 1024 ** 2, processes: 100 });
    expect(() => parseLimitList('time=30h')).toThrow(/--limits time=30h: .*outside its bounds \(at most 24h\)/);
    expect(() => parseLimitList('cpus=4')).toThrow(/not a build limit/);
    expect(() => parseLimitList('log=4h')).toThrow(/not a bytes/);
    expect(readdirSync(tmpdir()).length).toBeGreaterThan(0);
  });
});
