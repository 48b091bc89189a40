// What main.ts reads from the raw argv: the command word, global flags, and the
// `verify --store` rewrite, which must touch only verify's own arguments.
import { afterEach, describe, expect, it } from 'vitest';
import { commandWord, hasFlag, rewriteVerifyArgv } from '../../src/cli/argv.js';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

afterEach(cleanupProjects);

const argv = (...a: string[]): string[] => ['node', 'intact', ...a];

describe('rewriteVerifyArgv', () => {
  it.each([
    ['the check after verify', ['verify', '--store'], ['verify', '--store-check']],
    ['the check with names', ['verify', '--store', 'zig'], ['verify', '--store-check', 'zig']],
    ['the global folder before verify', ['--store', 'dir', 'verify', '--store'], ['--store', 'dir', 'verify', '--store-check']],
    ['a store folder named verify', ['--store', 'verify', 'list'], ['--store', 'verify', 'list']],
    ['after -j N', ['-j', '2', 'verify', '--store'], ['-j', '2', 'verify', '--store-check']],
    ['after --jobs N', ['--jobs', '2', 'verify', '--store'], ['--jobs', '2', 'verify', '--store-check']],
    ['verify as an argument of run', ['run', 'git', '--', 'verify', '--store', 'x'], ['run', 'git', '--', 'verify', '--store', 'x']],
    ['verify as a recipe name', ['install', 'verify', '--store'], ['install', 'verify', '--store']],
    ['anything after --', ['verify', '--', '--store'], ['verify', '--', '--store']],
    ['no command', ['--store', 'x'], ['--store', 'x']],
  ])('%s', (_what, given, want) => {
    expect(rewriteVerifyArgv(argv(...given))).toEqual(argv(...want));
  });

  it('refuses --store=DIR after verify, saying where the folder goes', () => {
    expect(() => rewriteVerifyArgv(argv('verify', '--store=/tmp/s'))).toThrow(
      expect.objectContaining({ code: 'USAGE', hint: expect.stringContaining('INTACT_STORE') }),
    );
    expect(rewriteVerifyArgv(argv('--store=/tmp/s', 'verify'))).toEqual(argv('--store=/tmp/s', 'verify'));
    expect(rewriteVerifyArgv(argv('run', 'x', '--', 'verify', '--store=/tmp/s'))).toEqual(argv('run', 'x', '--', 'verify', '--store=/tmp/s'));
  });
});

describe('commandWord and hasFlag', () => {
  it.each([
    [['--store', 'install', 'verify'], 'verify'],
    [['-j', '4', '--json', 'lock'], 'lock'],
    [['--json'], undefined],
    [['--', 'verify'], undefined],
  ])('%j names %s', (given, want) => {
    expect(commandWord(argv(...given))).toBe(want);
  });

  it('finds a flag before or after the command, never after --', () => {
    expect(hasFlag(argv('--json', 'verify'), '--json')).toBe(true);
    expect(hasFlag(argv('verify', '--json'), '--json')).toBe(true);
    expect(hasFlag(argv('run', 'x', '--', '--json'), '--json')).toBe(false);
    expect(hasFlag(argv('-v', 'list'), '-v', '--verbose')).toBe(true);
  });
});

describe('intact verify --store=DIR', () => {
  it('is a USAGE error (exit 2), also as JSON, and checks nothing', async () => {
    const dir = await makeProject({ 'recipes/.keep': '' });
    const r = await runCli(['verify', '--store=elsewhere'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error[USAGE]');
    expect(r.stderr).toContain('intact --store DIR verify --store');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const j = await runCli(['--json', 'verify', '--store=elsewhere'], { cwd: dir });
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  });
});
