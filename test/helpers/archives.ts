// Archive bytes built by hand for extraction tests. Real archivers refuse to
// write the hostile entries we need (`../x`, devices, duplicates, links out of
// the tree), so tar headers and zip records are assembled here field by field.
// Compressed variants use node:zlib, or the host's xz/bzip2/zstd CLIs when present.
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { deflateRawSync, crc32, gzipSync } from 'node:zlib';

// ---------------------------------------------------------------- tar

export type TarType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'sparse';

export interface TarEntry {
  name: string;
  type?: TarType;
  /** Permission bits; default 0644 for files, 0755 for dirs. */
  mode?: number;
  body?: string | Uint8Array;
  /** Link target (symlinks, hardlinks). */
  target?: string;
  /** Write the header with a wrong checksum. */
  badChecksum?: boolean;
}

const TYPEFLAG: Record<TarType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
  sparse: 'S',
};

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

export function header(name: string, typeflag: string, size: number, mode: number, linkname: string, badChecksum = false): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(1_700_000_000, 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(typeflag, 156, 'latin1');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  if (badChecksum) sum += 7;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

export function pad(b: Buffer): Buffer {
  const rest = b.length % 512;
  return rest === 0 ? b : Buffer.concat([b, Buffer.alloc(512 - rest)]);
}

export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** An uncompressed tar archive. Names over 100 bytes get a pax header, as GNU tar and node-tar write them. */
export function tar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    const mode = e.mode ?? (type === 'dir' ? 0o755 : 0o644);
    const target = e.target ?? '';
    let name = e.name;
    if (Buffer.byteLength(name) > 99 || Buffer.byteLength(target) > 99) {
      let pax = '';
      if (Buffer.byteLength(name) > 99) pax += paxRecord('path', name);
      if (Buffer.byteLength(target) > 99) pax += paxRecord('linkpath', target);
      const paxBody = Buffer.from(pax);
      parts.push(header('PaxHeader', 'x', paxBody.length, 0o644, ''), pad(paxBody));
      name = name.slice(0, 99);
    }
    parts.push(header(name, TYPEFLAG[type], body.length, mode, target.slice(0, 99), e.badChecksum));
    if (body.length > 0) parts.push(pad(body));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export const tgz = (entries: readonly TarEntry[]): Buffer => gzipSync(tar(entries));

// ---------------------------------------------------------------- compressors

export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** Compress with a host CLI (xz, bzip2, zstd), which reads stdin and writes stdout with -c. */
export function compressWith(tool: 'xz' | 'bzip2' | 'zstd', data: Uint8Array): Buffer {
  const args = tool === 'zstd' ? ['-q', '-c'] : ['-c'];
  return execFileSync(tool, args, { input: data, maxBuffer: 1 << 30 });
}

/**
 * A gzip stream that inflates to `total` bytes: a tar header for one file of
 * `total` bytes of zeros, then the same small gzip member of zeros repeated
 * (gzip allows concatenated members). Megabytes on disk, gigabytes unpacked.
 */
export function gzipBomb(total: number, name = 'zeros.bin'): Buffer {
  const member = 16 * 1024 * 1024;
  const zeros = gzipSync(Buffer.alloc(member), { level: 9 });
  const parts = [gzipSync(header(name, '0', total, 0o644, ''))];
  for (let left = total; left > 0; left -= member) {
    parts.push(left >= member ? zeros : gzipSync(Buffer.alloc(left)));
  }
  return Buffer.concat(parts);
}

/**
 * A tar of one file of `total` zero bytes, compressed by a host CLI without ever
 * holding it in memory: the bomb shape for xz, bzip2 and zstd.
 */
export function compressedBomb(tool: 'xz' | 'bzip2' | 'zstd', total: number, dir: string): string {
  const head = join(dir, 'bomb-header');
  writeFileSync(head, header('zeros.bin', '0', total, 0o644, ''));
  const out = join(dir, `bomb.${tool}`);
  const fast = tool === 'zstd' ? '-q -1' : tool === 'xz' ? '-0 -T2' : '-1';
  execFileSync('sh', ['-c', `{ cat "$1"; head -c ${total} /dev/zero; } | ${tool} ${fast} -c > "$2"`, 'sh', head, out]);
  return out;
}

// ---------------------------------------------------------------- zip

export interface ZipEntry {
  name: string;
  kind?: 'file' | 'dir' | 'symlink' | 'fifo' | 'char';
  body?: string | Uint8Array;
  /** Unix permission bits (stored in the external attributes, "made by" Unix). */
  mode?: number;
  /** Store a DOS entry: no Unix mode at all. */
  dos?: boolean;
  deflate?: boolean;
  /** Store a wrong CRC-32. */
  badCrc?: boolean;
  /** Declare this uncompressed size instead of the real one (a lying header). */
  declaredSize?: number;
}

const ZIP_TYPE = { file: 0o100000, dir: 0o040000, symlink: 0o120000, fifo: 0o010000, char: 0o020000 } as const;

/** A zip archive with local headers, a central directory and an end record. */
export function zip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const kind = e.kind ?? (e.name.endsWith('/') ? 'dir' : 'file');
    const data = Buffer.from(e.body ?? '');
    const packed = e.deflate ? deflateRawSync(data) : data;
    const crc = (crc32(data) + (e.badCrc ? 1 : 0)) >>> 0;
    const name = Buffer.from(e.name, 'utf8');
    const mode = (e.mode ?? (kind === 'dir' ? 0o755 : 0o644)) | ZIP_TYPE[kind];
    const external = e.dos ? (kind === 'dir' ? 0x10 : 0) : ((mode << 16) | (kind === 'dir' ? 0x10 : 0)) >>> 0;
    const method = e.deflate ? 8 : 0;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6); // names are UTF-8
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(0, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(e.declaredSize ?? data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, packed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.dos ? 20 : (3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(e.declaredSize ?? data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30);
    central.writeUInt16LE(0, 32);
    central.writeUInt16LE(0, 34);
    central.writeUInt16LE(0, 36);
    central.writeUInt32LE(external, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

// ---------------------------------------------------------------- workspace

export interface Workspace {
  dir: string;
  /** Where extraction goes; its parent `out/` holds nothing else. */
  dest: string;
  /** Writes an input file (outside `out/`) and returns its path. */
  input(name: string, bytes: Uint8Array | string): string;
  /** What is in `out/`: after a failure it must be empty (no dest, no temp folder). */
  leftovers(): string[];
  cleanup(): void;
}

export function workspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'intact-extract-'));
  mkdirSync(join(dir, 'in'));
  mkdirSync(join(dir, 'out'));
  return {
    dir,
    dest: join(dir, 'out', 'dest'),
    input(name, bytes) {
      const p = join(dir, 'in', name);
      writeFileSync(p, bytes);
      return p;
    },
    leftovers: () => readdirSync(join(dir, 'out')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type TreeItem =
  | { path: string; type: 'file'; mode: number; content: string }
  | { path: string; type: 'dir'; mode: number }
  | { path: string; type: 'symlink'; target: string };

/** Every entry under `root`, sorted, with what the tree hash cares about. */
export function readTree(root: string): TreeItem[] {
  const items: TreeItem[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const path = relative(root, abs);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) items.push({ path, type: 'symlink', target: readlinkSync(abs) });
      else if (st.isDirectory()) {
        items.push({ path, type: 'dir', mode: st.mode & 0o7777 });
        walk(abs);
      } else items.push({ path, type: 'file', mode: st.mode & 0o7777, content: readFileSync(abs, 'utf8') });
    }
  };
  walk(root);
  return items;
}
