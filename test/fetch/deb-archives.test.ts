// Where the Debian archive is: apt's one-line and deb822 sources, or
// INTACT_DEB_SOURCES, never a recipe or the lock.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IntactError } from '../../src/errors.js';
import { debArchives, mirrorRoots, parseDeb822, parseOneLine } from '../../src/fetch/deb/archives.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function aptDir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'intact-apt-'));
  dirs.push(d);
  mkdirSync(join(d, 'sources.list.d'));
  for (const [n, t] of Object.entries(files)) writeFileSync(join(d, n), t);
  return d;
}

describe('apt sources', () => {
  it('reads one-line entries, with options and comments', () => {
    const got = parseOneLine(
      '# a comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.invalid/debian/ bookworm main contrib\n\ndeb-src http://m.invalid/debian bookworm main # trailing\n',
      '/etc/apt/sources.list',
    );
    expect(got).toEqual([
      { uri: 'http://m.invalid/debian', suites: ['bookworm'], components: ['main', 'contrib'], from: '/etc/apt/sources.list:2' },
      { uri: 'http://m.invalid/debian', suites: ['bookworm'], components: ['main'], from: '/etc/apt/sources.list:4' },
    ]);
  });

  it('reads deb822 stanzas, skipping disabled ones and comments inside', () => {
    const text = [
      'Types: deb',
      '# http://snapshot.invalid/archive/debian/20250520T000000Z',
      'URIs: http://a.invalid/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/k.gpg',
      '',
      'Types: deb',
      'URIs: http://b.invalid/debian',
      'Suites: bookworm',
      'Components: main',
      'Enabled: no',
      '',
      'Types: deb-src deb',
      'URIs: http://c.invalid/debian-security',
      'Suites: bookworm-security',
      'Components: main',
    ].join('\n');
    expect(parseDeb822(text, 'x.sources')).toEqual([
      { uri: 'http://a.invalid/debian', suites: ['bookworm', 'bookworm-updates'], components: ['main'], from: 'x.sources:1' },
      { uri: 'http://c.invalid/debian-security', suites: ['bookworm-security'], components: ['main'], from: 'x.sources:14' },
    ]);
  });

  it('takes sources.list, then sources.list.d in name order; other files are ignored', () => {
    const d = aptDir({ 'sources.list': 'deb http://one.invalid/debian bookworm main\n' });
    writeFileSync(join(d, 'sources.list.d', 'b.sources'), 'Types: deb\nURIs: http://three.invalid/debian\nSuites: bookworm\nComponents: main\n');
    writeFileSync(join(d, 'sources.list.d', 'a.list'), 'deb http://two.invalid/debian bookworm main\n');
    writeFileSync(join(d, 'sources.list.d', 'c.list.disabled'), 'deb http://never.invalid/debian bookworm main\n');
    const got = debArchives({ INTACT_APT_DIR: d });
    expect(mirrorRoots(got)).toEqual(['http://one.invalid/debian', 'http://two.invalid/debian', 'http://three.invalid/debian']);
  });

  it('INTACT_DEB_SOURCES wins over apt', () => {
    const d = aptDir({ 'sources.list': 'deb http://apt.invalid/debian bookworm main\n' });
    const got = debArchives({
      INTACT_APT_DIR: d,
      INTACT_DEB_SOURCES: 'deb http://env.invalid/debian bookworm main; deb http://env2.invalid/debian bookworm main',
    });
    expect(mirrorRoots(got)).toEqual(['http://env.invalid/debian', 'http://env2.invalid/debian']);
  });

  it('no archive: DEB_ARCHIVE_UNSET says how to set one', () => {
    const d = aptDir({});
    let e: unknown;
    try {
      debArchives({ INTACT_APT_DIR: d });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(IntactError);
    expect((e as IntactError).code).toBe('DEB_ARCHIVE_UNSET');
    expect((e as IntactError).hint).toMatch(/INTACT_DEB_SOURCES='deb http:\/\/MIRROR\/debian bookworm main'/);
  });

  it('only non-http sources: DEB_ARCHIVE_UNSET too', () => {
    const d = aptDir({ 'sources.list': 'deb cdrom:[Debian]/ bookworm main\ndeb file:/srv/mirror bookworm main\n' });
    expect(() => debArchives({ INTACT_APT_DIR: d })).toThrow(/over http/);
  });

  it('a broken line names the file and line', () => {
    const d = aptDir({ 'sources.list': 'deb http://ok.invalid/debian bookworm main\ndeb\n' });
    let e: IntactError | undefined;
    try {
      debArchives({ INTACT_APT_DIR: d });
    } catch (x) {
      e = x as IntactError;
    }
    expect(e?.code).toBe('DEB_SOURCES_INVALID');
    expect(e?.line).toBe(2);
    expect(e?.message).toContain('sources.list:2');
  });
});
