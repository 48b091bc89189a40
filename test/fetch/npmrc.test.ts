import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandEnv, loadNpmConfig, parseNpmrc, type LoadNpmConfigOptions } from '../../src/fetch/npmrc.js';

describe('parseNpmrc', () => {
  const env = { TOKEN: 'tok', EMPTY: '' };
  const cases: [string, string, Record<string, string>][] = [
    ['plain key = value', 'registry = https://r.test/npm/\n', { registry: 'https://r.test/npm/' }],
    ['no spaces', 'registry=https://r.test/', { registry: 'https://r.test/' }],
    ['; and # comment lines', '; c\n# c\n  ; indented\nregistry=https://r.test/', { registry: 'https://r.test/' }],
    ['inline comment after a value', 'registry=https://r.test/ ; trailing', { registry: 'https://r.test/' }],
    ['escaped ; and # stay', 'k=a\\;b\\#c', { k: 'a;b#c' }],
    ['double-quoted value is JSON', 'k="a ; b"', { k: 'a ; b' }],
    ['single-quoted value is verbatim', "k='a # b'", { k: 'a # b' }],
    ['scope registry', '@corp:registry=https://corp.test/', { '@corp:registry': 'https://corp.test/' }],
    ['nerf-dart token', '//r.test/npm/:_authToken=abc', { '//r.test/npm/:_authToken': 'abc' }],
    ['${VAR} expansion', '//r.test/:_authToken=${TOKEN}', { '//r.test/:_authToken': 'tok' }],
    ['unset ${VAR} stays literal', 'k=${NOPE}', { k: '${NOPE}' }],
    ['unset ${VAR?} becomes empty', 'k=x${NOPE?}y', { k: 'xy' }],
    ['keys expand too', '//${HOSTX}/:_authToken=a', { '//${HOSTX}/:_authToken': 'a' }],
    ['section keys are ignored', 'a=1\n[section]\nb=2', { a: '1' }],
    ['bare keys (booleans) are ignored', 'always-auth\nk=v', { k: 'v' }],
    ['CRLF line ends', 'a=1\r\nb=2\r\n', { a: '1', b: '2' }],
    ['later lines win', 'a=1\na=2', { a: '2' }],
  ];
  it.each(cases)('%s', (_what, text, expected) => {
    expect(Object.fromEntries(parseNpmrc(text, env))).toEqual(expected);
  });
});

describe('expandEnv', () => {
  const env = { A: 'x' };
  const cases: [string, string][] = [
    ['${A}', 'x'],
    ['pre${A}post', 'prexpost'],
    ['\\${A}', '${A}'],
    ['\\\\${A}', '\\x'],
    ['${B}', '${B}'],
    ['${B?}', ''],
    ['$A', '$A'],
  ];
  it.each(cases)('%s → %s', (input, out) => {
    expect(expandEnv(input, env)).toBe(out);
  });
});

describe('loadNpmConfig', () => {
  let dir: string;
  let home: string;
  let project: string;
  let prefix: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'intact-npmrc-'));
    home = join(dir, 'home');
    project = join(dir, 'work', 'project');
    prefix = join(dir, 'prefix');
    await mkdir(home, { recursive: true });
    await mkdir(join(project, 'sub', 'deeper'), { recursive: true });
    await mkdir(join(prefix, 'etc'), { recursive: true });
    await writeFile(join(project, 'package.json'), '{}');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Hermetic: no process.env, no host npmrc files. */
  const load = (env: NodeJS.ProcessEnv = {}, over: Partial<LoadNpmConfigOptions> = {}) =>
    loadNpmConfig({ cwd: join(project, 'sub', 'deeper'), home, env: { PREFIX: prefix, ...env }, launcherEnv: {}, ...over });

  it('fails with NPM_REGISTRY_UNSET when nothing configures a registry', async () => {
    const cfg = await load();
    expect(() => cfg.registryFor('left-pad')).toThrow(expect.objectContaining({ code: 'NPM_REGISTRY_UNSET' }));
  });

  it('falls back to the registry npm/npx exported to this process', async () => {
    const cfg = await load({}, { launcherEnv: { npm_config_registry: 'https://launcher.test/' } });
    expect(cfg.registryFor('x')).toBe('https://launcher.test/');
  });

  it('layers: environment > project > user > global', async () => {
    await writeFile(join(prefix, 'etc', 'npmrc'), 'registry=https://global.test/\n@a:registry=https://global-a.test/\n@b:registry=https://global-b.test/\n@c:registry=https://global-c.test/');
    await writeFile(join(home, '.npmrc'), 'registry=https://user.test/\n@a:registry=https://user-a.test/\n@b:registry=https://user-b.test/');
    await writeFile(join(project, '.npmrc'), 'registry=https://project.test/\n@a:registry=https://project-a.test/');
    let cfg = await load();
    expect(cfg.registryFor('x')).toBe('https://project.test/');
    expect(cfg.registryFor('@a/x')).toBe('https://project-a.test/');
    expect(cfg.registryFor('@b/x')).toBe('https://user-b.test/');
    expect(cfg.registryFor('@c/x')).toBe('https://global-c.test/');
    expect(cfg.registryFor('@d/x')).toBe('https://project.test/');
    cfg = await load({ npm_config_registry: 'https://env.test', 'npm_config_@c:registry': 'https://env-c.test/' });
    expect(cfg.registryFor('x')).toBe('https://env.test/');
    expect(cfg.registryFor('@c/x')).toBe('https://env-c.test/');
    expect(cfg.sourceOf('registry')).toBe('environment');
  });

  it('reads npm_config_* in any case; the lower-case spelling wins', async () => {
    expect((await load({ NPM_CONFIG_REGISTRY: 'https://upper.test/' })).registryFor('x')).toBe('https://upper.test/');
    expect((await load({ NPM_CONFIG_REGISTRY: 'https://upper.test/', npm_config_registry: 'https://lower.test/' })).registryFor('x')).toBe('https://lower.test/');
  });

  it('honours npm_config_userconfig and npm_config_globalconfig', async () => {
    await writeFile(join(dir, 'custom-user'), 'registry=https://custom-user.test/');
    await writeFile(join(dir, 'custom-global'), '@g:registry=https://custom-global.test/');
    const cfg = await load({ npm_config_userconfig: join(dir, 'custom-user'), npm_config_globalconfig: join(dir, 'custom-global') });
    expect(cfg.registryFor('x')).toBe('https://custom-user.test/');
    expect(cfg.registryFor('@g/x')).toBe('https://custom-global.test/');
  });

  it('stops the project walk at the nearest package.json, even without an .npmrc there', async () => {
    await writeFile(join(dir, 'work', '.npmrc'), 'registry=https://above.test/');
    await expect(load().then((c) => c.registryFor('x'))).rejects.toMatchObject({ code: 'NPM_REGISTRY_UNSET' });
  });

  it('an .npmrc alone also marks the project folder', async () => {
    await rm(join(project, 'package.json'));
    await writeFile(join(dir, 'work', '.npmrc'), 'registry=https://above.test/');
    expect((await load()).registryFor('x')).toBe('https://above.test/');
  });

  it('expands ${VAR} from the given environment', async () => {
    await writeFile(join(home, '.npmrc'), 'registry=${REG}\n');
    expect((await load({ REG: 'https://from-env.test/path' })).registryFor('x')).toBe('https://from-env.test/path/');
  });

  it('refuses a registry that is not an http(s) URL, naming where it was set', async () => {
    await writeFile(join(home, '.npmrc'), 'registry=ftp://nope.test/');
    const cfg = await load();
    expect(() => cfg.registryFor('x')).toThrow(expect.objectContaining({ code: 'NPM_REGISTRY_INVALID', file: join(home, '.npmrc') }));
  });

  describe('authFor: the longest //host[:port]/path/ prefix', () => {
    const npmrc = [
      '//r.test/:_authToken=host-token',
      '//r.test/npm/private/:_authToken=path-token',
      '//r.test:8443/:_authToken=port-token',
      '//basic.test/:_auth=dXNlcjpwYXNz',
      '//up.test/:username=user',
      `//up.test/:_password=${Buffer.from('secret').toString('base64')}`,
      '//noslash.test/npm:_authToken=noslash-token',
      '//only-user.test/:username=u',
    ].join('\n');
    const cases: [string, string | undefined][] = [
      ['https://r.test/npm/private/', 'Bearer path-token'],
      ['https://r.test/npm/private/pkg/-/pkg-1.0.0.tgz', 'Bearer path-token'],
      ['https://r.test/npm/public/', 'Bearer host-token'],
      ['https://r.test/', 'Bearer host-token'],
      ['http://r.test/x', 'Bearer host-token'],
      ['https://r.test:8443/x/', 'Bearer port-token'],
      ['https://r.test:9999/x/', undefined],
      ['https://other.test/', undefined],
      ['https://r.test.evil.test/', undefined],
      ['https://basic.test/x', 'Basic dXNlcjpwYXNz'],
      ['https://up.test/x', `Basic ${Buffer.from('user:secret').toString('base64')}`],
      ['https://noslash.test/npm/', 'Bearer noslash-token'],
      ['https://only-user.test/', undefined],
      ['not a url', undefined],
    ];
    it.each(cases)('%s → %s', async (url, expected) => {
      await writeFile(join(home, '.npmrc'), npmrc);
      const cfg = await load();
      expect(cfg.authFor(url).authorization).toBe(expected);
    });

    it('takes tokens from npm_config_//host/:_authToken too', async () => {
      const cfg = await load({ 'npm_config_//env.test/:_authToken': 'env-token' });
      expect(cfg.authFor('https://env.test/a')).toEqual({ authorization: 'Bearer env-token' });
    });
  });
});
