import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandEnv, loadNpmConfig, parseNpmrc, type LoadNpmConfigOptions } from '../../src/fetch/npmrc.js';
import { selfSignedCert } from '../helpers/http-server.js';

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
    ['key[] lines make a list, items joined by a blank line', 'ca[]=x\nca[]=y', { ca: 'x\n\ny' }],
    ['key[] extends a plain key; a plain key appends to a list (as ini)', 'a=1\na[]=2\nb[]=1\nb=2', { a: '1\n\n2', b: '1\n\n2' }],
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
    await writeFile(
      join(prefix, 'etc', 'npmrc'),
      'registry=https://global.test/\n@a:registry=https://global-a.test/\n@b:registry=https://global-b.test/\n@c:registry=https://global-c.test/',
    );
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
    expect((await load({ NPM_CONFIG_REGISTRY: 'https://upper.test/', npm_config_registry: 'https://lower.test/' })).registryFor('x')).toBe(
      'https://lower.test/',
    );
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

  describe("tls(): npm's ca, ca[] and cafile", () => {
    const a = selfSignedCert();
    const b = selfSignedCert();
    const A = a?.cert.trim() ?? '';
    const B = b?.cert.trim() ?? '';
    /** npm's documented one-line form: a double-quoted value with "\n" for newlines. */
    const oneLine = (pem: string): string => JSON.stringify(pem);
    const userrc = (): string => join(home, '.npmrc');
    const projectrc = (): string => join(project, '.npmrc');

    it.skipIf(!a || !b)("without ca or cafile: Node's default set", async () => {
      expect(await (await load()).tls()).toEqual({});
    });

    it.skipIf(!a || !b)('cafile: every certificate in the file, in order, and where they came from', async () => {
      await writeFile(join(dir, 'ca.pem'), `# corporate roots\n${A}\n\n${B}\n`);
      await writeFile(userrc(), `cafile=${join(dir, 'ca.pem')}\n`);
      expect(await (await load()).tls()).toEqual({ ca: [A, B], caFrom: `cafile in ${userrc()}` });
    });

    it.skipIf(!a || !b)('cafile=~/… is under the home folder', async () => {
      await writeFile(join(home, 'ca.pem'), A);
      await writeFile(userrc(), 'cafile=~/ca.pem\n');
      expect((await (await load()).tls()).ca).toEqual([A]);
    });

    const values: [string, () => string, () => string[]][] = [
      ['ca="…" in npm\'s one-line form', () => `ca=${oneLine(A)}`, () => [A]],
      ['ca=… unquoted, with literal \\n', () => `ca=${A.replace(/\n/g, '\\n')}`, () => [A]],
      ['ca[] lines, one certificate each', () => `ca[]=${oneLine(A)}\nca[]=${oneLine(B)}`, () => [A, B]],
    ];
    it.skipIf(!a || !b).each(values)('%s', async (_what, npmrc, expected) => {
      await writeFile(userrc(), npmrc());
      expect((await (await load()).tls()).ca).toEqual(expected());
    });

    // npm flattens layers from the lowest up, each layer's keys in first-appearance
    // order, and cafile writes the same option as ca: the last one applied wins.
    const precedence: [string, () => { project?: string; user?: string; env?: NodeJS.ProcessEnv }, () => string[] | undefined][] = [
      ["a higher layer's ca beats a lower layer's cafile", () => ({ project: `ca=${oneLine(A)}`, user: `cafile=${join(dir, 'b.pem')}` }), () => [A]],
      ["a higher layer's cafile beats a lower layer's ca", () => ({ project: `cafile=${join(dir, 'b.pem')}`, user: `ca=${oneLine(A)}` }), () => [B]],
      ['in one file, ca written after cafile wins', () => ({ user: `cafile=${join(dir, 'b.pem')}\nca=${oneLine(A)}` }), () => [A]],
      ['in one file, cafile written after ca wins', () => ({ user: `ca=${oneLine(A)}\ncafile=${join(dir, 'b.pem')}` }), () => [B]],
      ['ca=null in a higher layer restores the default set', () => ({ project: 'ca=null', user: `cafile=${join(dir, 'b.pem')}` }), () => undefined],
      ['an empty ca= does too', () => ({ project: 'ca=', user: `cafile=${join(dir, 'b.pem')}` }), () => undefined],
      ['npm_config_cafile beats every file', () => ({ project: `ca=${oneLine(A)}`, env: { npm_config_cafile: join(dir, 'b.pem') } }), () => [B]],
    ];
    it.skipIf(!a || !b).each(precedence)('%s', async (_what, setup, expected) => {
      await writeFile(join(dir, 'b.pem'), B);
      const s = setup();
      if (s.project !== undefined) await writeFile(projectrc(), s.project);
      if (s.user !== undefined) await writeFile(userrc(), s.user);
      expect((await (await load(s.env)).tls()).ca).toEqual(expected());
    });

    const broken: [string, (d: string) => Promise<string>, RegExp][] = [
      ['a cafile that does not exist', async (d) => `cafile=${join(d, 'nope.pem')}`, /names .*nope\.pem, which does not exist/],
      ['a cafile that cannot be read', async (d) => `cafile=${d}`, /cannot be read/],
      [
        'a cafile with no certificate',
        async (d) => (await writeFile(join(d, 'x.pem'), 'not a certificate\n'), `cafile=${join(d, 'x.pem')}`),
        /x\.pem, which holds no PEM certificate/,
      ],
      [
        'a cafile with a damaged certificate',
        async (d) => (await writeFile(join(d, 'x.pem'), `${B}\n${A.replace(/\n[A-Za-z0-9+/]{8}/, '\n!!!!!!!!')}`), `cafile=${join(d, 'x.pem')}`),
        /certificate \(2 of 2\) that does not parse/,
      ],
      ['a relative cafile', async () => 'cafile=certs/ca.pem', /is a relative path \(certs\/ca\.pem\)/],
      ['a ca value with no certificate', async () => 'ca=MIIB…', /npm setting ca in .* holds no PEM certificate/],
    ];
    it.skipIf(!a || !b).each(broken)('%s → NPM_CONFIG_INVALID naming the .npmrc, the key and the path', async (_what, line, message) => {
      await writeFile(projectrc(), `registry=https://r.test/\n${await line(dir)}\n`);
      const cfg = await load();
      expect(cfg.registryFor('x')).toBe('https://r.test/'); // only requests need the CA set
      const err = await cfg.tls().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'NPM_CONFIG_INVALID', file: projectrc(), field: expect.stringMatching(/^ca(file)?$/) });
      expect((err as Error).message).toContain(projectrc());
      expect((err as Error).message).toMatch(message);
      expect((err as { hint?: string }).hint).toBeTruthy();
    });

    it('strict-ssl=false is noted for hints, and changes nothing else', async () => {
      await writeFile(userrc(), 'strict-ssl=false\n');
      expect(await (await load()).tls()).toEqual({ strictSslOffIn: userrc() });
    });

    it.skipIf(!a || !b)('reads the cafile once: later calls get the first answer', async () => {
      await writeFile(join(dir, 'ca.pem'), A);
      await writeFile(userrc(), `cafile=${join(dir, 'ca.pem')}\n`);
      const cfg = await load();
      const first = await cfg.tls();
      await rm(join(dir, 'ca.pem'));
      expect(await cfg.tls()).toBe(first);
    });
  });
});
