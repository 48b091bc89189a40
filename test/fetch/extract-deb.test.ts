// .deb unpacking: only data.tar is unpacked, by the same rules as every archive.
// Hostile packages (a bad magic, an ar member named with ../, a member larger
// than the file, a data.tar with escapes, a control-only package) are refused
// with a named error, leave no destination and write nothing outside it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { IntactError } from '../../src/errors.js';
import { extract } from '../../src/fetch/extract/index.js';
import { tar, workspace, type Workspace } from '../helpers/archives.js';
import { arMember, makeDeb } from '../helpers/deb-archive.js';

let ws: Workspace;
beforeEach(() => {
  ws = workspace();
});
afterEach(() => ws.cleanup());

const files = [
  { name: './', type: 'dir' as const },
  { name: './bin/', type: 'dir' as const },
  { name: './bin/busybox', body: '#!fake\n', mode: 0o755 },
  { name: './usr/share/doc/busybox/copyright', body: 'GPL-2\n' },
];

const write = (name: string, bytes: Buffer): string => ws.input(name, bytes);

describe('.deb unpacking', () => {
  it.each(['gz', 'none'] as const)('unpacks data.tar.%s and nothing of control.tar', async (compression) => {
    const f = write('p.deb', makeDeb(files, { compression }));
    const dest = ws.dest;
    await extract(f, dest, { expect: 'deb' });
    expect(readFileSync(join(dest, 'bin/busybox'), 'utf8')).toBe('#!fake\n');
    expect(existsSync(join(dest, 'control'))).toBe(false);
    expect(readdirSync(dest).sort()).toEqual(['bin', 'usr']);
  });

  it('is recognised by its content without being told', async () => {
    const f = write('p.bin', makeDeb(files));
    const dest = ws.dest;
    await extract(f, dest);
    expect(existsSync(join(dest, 'bin/busybox'))).toBe(true);
  });

  it('path and strip select the wanted part', async () => {
    const f = write('p.deb', makeDeb(files));
    const dest = ws.dest;
    await extract(f, dest, { expect: 'deb', strip: 2, path: 'tool' });
    expect(readdirSync(join(dest, 'tool')).sort()).toEqual(['busybox', 'share']);
  });

  it('an ar archive that is not a package (a static library) stays a single file', async () => {
    const f = write('libx.a', Buffer.concat([Buffer.from('!<arch>\n'), arMember('x.o', Buffer.from('obj'))]));
    const dest = ws.dest;
    await extract(f, dest, { name: 'https://example.invalid/libx.a' });
    expect(readdirSync(dest)).toEqual(['libx.a']);
  });
});

interface Attack {
  name: string;
  bytes: () => Buffer;
  code: ErrorCode;
  says: RegExp;
}

const control = arMember('control.tar.gz', gzipSync(tar([{ name: './control', body: 'Package: x\n' }])));
const version = arMember('debian-binary', Buffer.from('2.0\n'));
const data = (entries: Parameters<typeof tar>[0]) => arMember('data.tar.gz', gzipSync(tar(entries)));

const attacks: Attack[] = [
  { name: 'a bad magic', bytes: () => Buffer.concat([Buffer.from('!<ARCH>\n'), version, control, data(files)]), code: 'EXTRACT_CORRUPT', says: /ar magic/ },
  {
    name: 'an ar member named with ../',
    bytes: () => makeDeb([], { members: [version, arMember('../../evil', Buffer.from('x')), control, data(files)] }),
    code: 'EXTRACT_UNSAFE_PATH',
    says: /"\.\.\/\.\.\/evil"/,
  },
  {
    name: 'a member larger than the file',
    bytes: () => makeDeb([], { members: [version, control, arMember('data.tar.gz', gzipSync(tar(files)), { size: 1 << 30 })] }),
    code: 'EXTRACT_CORRUPT',
    says: /more than the file holds/,
  },
  {
    name: 'a data.tar with escapes',
    bytes: () => makeDeb([], { members: [version, control, data([{ name: '../../outside', body: 'pwned' }])] }),
    code: 'EXTRACT_UNSAFE_PATH',
    says: /outside/,
  },
  {
    name: 'a data.tar with a link out',
    bytes: () =>
      makeDeb([], {
        members: [
          version,
          control,
          data([
            { name: './l', type: 'symlink', target: '/etc' },
            { name: './l/passwd', body: 'x' },
          ]),
        ],
      }),
    code: 'EXTRACT_LINK_ESCAPE',
    says: /l/,
  },
  {
    name: 'a data.tar with a device',
    bytes: () => makeDeb([], { members: [version, control, data([{ name: './dev/null', type: 'char' }])] }),
    code: 'EXTRACT_SPECIAL_FILE',
    says: /dev\/null/,
  },
  { name: 'a control-only package', bytes: () => makeDeb([], { members: [version, control] }), code: 'EXTRACT_CORRUPT', says: /control-only/ },
  {
    name: 'a data member whose bytes are not what its name says',
    bytes: () => makeDeb([], { members: [version, control, arMember('data.tar.xz', gzipSync(tar(files)))] }),
    code: 'EXTRACT_CORRUPT',
    says: /not hold what its name says/,
  },
  {
    name: 'two data members',
    bytes: () => makeDeb([], { members: [version, control, data(files), data(files)] }),
    code: 'EXTRACT_CORRUPT',
    says: /second data member/,
  },
  { name: 'debian-binary not first', bytes: () => makeDeb([], { members: [control, version, data(files)] }), code: 'EXTRACT_CORRUPT', says: /debian-binary/ },
  {
    name: 'a cut-off header',
    bytes: () => Buffer.concat([Buffer.from('!<arch>\n'), version, Buffer.from('data.tar.gz   ')]),
    code: 'EXTRACT_CORRUPT',
    says: /cut off/,
  },
  {
    name: 'a malformed size field',
    bytes: () =>
      makeDeb([], { members: [version, Buffer.concat([arMember('control.tar.gz', Buffer.alloc(0)).subarray(0, 48), Buffer.from('-12       `\n')])] }),
    code: 'EXTRACT_CORRUPT',
    says: /size field/,
  },
];

describe('.deb attacks', () => {
  it.each(attacks)('refuses $name', async ({ bytes, code, says }) => {
    const f = write('evil.deb', bytes());
    const dest = ws.dest;
    const e = await extract(f, dest, { expect: 'deb', name: 'deb:evil=1.0-1' }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(IntactError);
    expect((e as IntactError).code).toBe(code);
    expect((e as IntactError).message).toMatch(says);
    expect((e as IntactError).message).toContain('deb:evil=1.0-1');
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(join(ws.dir, 'outside'))).toBe(false);
    // No temp folder left beside the destination.
    expect(ws.leftovers()).toEqual([]);
  });
});
