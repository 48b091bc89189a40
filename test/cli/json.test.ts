// --json: machine output on stdout, errors as `{"ok":false,"error":{code,...}}`,
// including the command line's own parse errors, wherever --json was put.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

afterEach(cleanupProjects);

describe('commander errors with --json', () => {
  it.each([
    [['--json', 'verify', '--nope'], "unknown option '--nope'"],
    [['verify', '--nope', '--json'], "unknown option '--nope'"],
    [['--json', 'frobnicate'], "unknown command 'frobnicate'"],
    [['log', '--json'], "missing required argument 'name'"],
    [['--json', 'upgrade', 'zig'], "missing required argument 'version'"],
    [['--json'], 'no command given'],
  ])('%j: a USAGE document on stdout, the text on stderr, exit 2', async (args, message) => {
    const r = await runCli(args, { cwd: await makeProject() });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, error: { code: 'USAGE', message, hint: 'run with --help for usage' } });
    if (args.length > 1) expect(r.stderr).toContain(message);
  });

  it('without --json, stdout stays empty', async () => {
    const r = await runCli(['verify', '--nope'], { cwd: await makeProject() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown option '--nope'");
  });

  it('--json after `--` is an argument, not the flag', async () => {
    const r = await runCli(['frobnicate', '--', '--json'], { cwd: await makeProject() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});

describe('intact env', () => {
  const PROJECT = { 'recipes/.keep': '' };

  it.each([[['--json', 'env']], [['env', '--json']], [['env', '--format', 'json']], [['--json', 'env', '--format', 'json']]])(
    '%j prints JSON',
    async (args) => {
      const dir = await makeProject(PROJECT);
      const r = await runCli(args, { cwd: dir });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ INTACT_BIN: `${dir}/.intact/bin`, PATH: expect.stringMatching(new RegExp(`^${dir}/\\.intact/bin:`)) });
    },
  );

  it('prints shell text without --json', async () => {
    const dir = await makeProject(PROJECT);
    const r = await runCli(['env'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`export PATH='${dir}/.intact/bin':"$PATH"\n`);
  });

  it.each([['sh'], ['fish']])('--json with --format %s is a USAGE error', async (format) => {
    const r = await runCli(['--json', 'env', '--format', format], { cwd: await makeProject(PROJECT) });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining(`--format asks for ${format}`) } });
  });
});
