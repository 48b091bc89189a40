// The crash test, short run (the long one is scripts/crash-test.mjs, which shares
// its code: scripts/crash-kit.mjs). Defect class: a crash left things behind.
// SIGKILL a cold `intact install` of a local project (its source on a loopback
// server) as soon as each phase shows on disk (download, unpack, build,
// publish), and `intact lock` while it unpacks and while it writes the lock; after
// each: `verify --store` is clean, the rerun succeeds, and no temp outlives it.
// A phase that ends before the poll sees it is killed later or not at all: the
// checks hold either way.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAfterKill, crashProject, killDuring, type CrashProject } from '../../scripts/crash-kit.mjs';

const ls = (d: string): string[] => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};
const builds = (dir: string): string[] =>
  ls(join(dir, 'store/tmp'))
    .filter((n) => n.startsWith('build-'))
    .map((n) => join(dir, 'store/tmp', n));

const INSTALL: [string, (dir: string) => boolean][] = [
  ['download', (dir) => ls(join(dir, 'store/tmp')).some((n) => n.startsWith('dl-') && n.endsWith('.part'))],
  ['unpack', (dir) => builds(dir).some((b) => ls(b).some((n) => n.includes('unpack-')))],
  ['build', (dir) => builds(dir).some((b) => ls(join(b, 'out/share')).length > 0)],
  ['publish', (dir) => ls(join(dir, 'store')).some((n) => n.startsWith('publish-'))],
];
const LOCK: [string, (dir: string) => boolean][] = [
  ['unpack', (dir) => ls(join(dir, 'store/tmp')).some((n) => n.startsWith('.tree-') || n.startsWith('tree-'))],
  ['lock write', (dir) => ls(dir).some((n) => n.startsWith('.intact.lock.') && n.endsWith('.tmp'))],
];
/** Long enough for any phase to show; a kill at it means the run had ended already. */
const FALLBACK_MS = 30_000;

let project: CrashProject;
beforeAll(async () => {
  project = await crashProject();
}, 60_000);
afterAll(() => project?.close());

describe('SIGKILL during a cold install', () => {
  it.each(INSTALL)(
    'at %s: verify --store is clean, the rerun succeeds and leaves no temp',
    async (phase, when) => {
      project.reset();
      const killed = await killDuring(['install', '--sandbox=off'], project.dir, { at: FALLBACK_MS, when });
      // The slow download is always caught; later phases may pass between two polls.
      if (phase === 'download') expect(killed).toBe(true);
      const r = await checkAfterKill(project.dir);
      expect(r.verify.code, r.verify.out).toBe(0);
      expect(r.findings, r.verify.out).toBe(0);
      expect(r.again.code, r.again.out).toBe(0);
      expect(r.left).toEqual([]);
    },
    120_000,
  );
});

describe('SIGKILL during `intact lock`', () => {
  it.each(LOCK)(
    'at %s: the rerun succeeds, leaves no temp, and verify --store is clean',
    async (_phase, when) => {
      project.unlock();
      await killDuring(['lock'], project.dir, { at: FALLBACK_MS, when });
      const r = await checkAfterKill(project.dir, ['lock'], { lockFirst: true });
      expect(r.again.code, r.again.out).toBe(0);
      expect(r.left).toEqual([]);
      expect(r.verify.code, r.verify.out).toBe(0);
      expect(r.findings, r.verify.out).toBe(0);
    },
    120_000,
  );
});
