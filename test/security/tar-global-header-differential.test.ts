// Defect class: a parser differential. node-tar's fixture global-header.tar sets
// `path` in a global pax header: GNU tar extracts the next file as `ab`, intact
// (node-tar's parser) as `one-byte.txt`. A reviewer who lists an archive with
// GNU tar must see the names intact writes, so such archives are refused.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extract } from '../../src/fetch/extract/index.js';
import { hasTool, header, pad, paxRecord, workspace, type Workspace } from '../helpers/archives.js';

let ws: Workspace;
beforeEach(() => {
  ws = workspace();
});
afterEach(() => ws.cleanup());

/** The shape of node-tar's global-header.tar: a `g` header with `key=value`, then one file. */
function globalHeaderTar(key: 'path' | 'linkpath' | 'comment', value: string): Buffer {
  const pax = Buffer.from(paxRecord(key, value));
  const body = Buffer.from('a');
  return Buffer.concat([
    header('pax_global_header', 'g', pax.length, 0o644, ''),
    pad(pax),
    header('one-byte.txt', '0', body.length, 0o644, ''),
    pad(body),
    Buffer.alloc(1024),
  ]);
}

describe('a global pax header that renames entries', () => {
  it('is refused, leaving nothing behind', async () => {
    const file = ws.input('global.tar', globalHeaderTar('path', 'ab'));
    await expect(extract(file, ws.dest)).rejects.toMatchObject({ code: 'EXTRACT_UNSAFE_PATH', message: expect.stringContaining('global pax header') });
    expect(existsSync(ws.dest)).toBe(false);
    expect(ws.leftovers()).toEqual([]);
  });

  it('is refused for linkpath too', async () => {
    const file = ws.input('global-link.tar', globalHeaderTar('linkpath', 'elsewhere'));
    await expect(extract(file, ws.dest)).rejects.toMatchObject({ code: 'EXTRACT_UNSAFE_PATH' });
  });

  it('other global keywords (a comment) still unpack, under the name GNU tar shows', async () => {
    const bytes = globalHeaderTar('comment', 'built by CI');
    const file = ws.input('comment.tar', bytes);
    const dest = ws.dest;
    await extract(file, dest);
    expect(readdirSync(dest)).toEqual(['one-byte.txt']);
    if (hasTool('tar')) {
      const gnu = join(ws.dir, 'gnu');
      mkdirSync(gnu);
      execFileSync('tar', ['-xf', file, '-C', gnu]);
      expect(readdirSync(gnu)).toEqual(readdirSync(dest));
    }
  });

  it('GNU tar itself reads the path header as the entry name (the differential being closed)', () => {
    if (!hasTool('tar')) return;
    const gnu = join(ws.dir, 'gnu-path');
    mkdirSync(gnu);
    const file = join(ws.dir, 'gp.tar');
    writeFileSync(file, globalHeaderTar('path', 'ab'));
    execFileSync('tar', ['-xf', file, '-C', gnu]);
    expect(readdirSync(gnu)).toEqual(['ab']);
  });
});
