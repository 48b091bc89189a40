// Format detection by content, never by file name: a download cache names files
// by hash, URLs lie, and an archive named .tar.gz that is really a zip must
// still be read by the zip reader (or refused), not fed to the wrong parser.
import { open } from 'node:fs/promises';

export type Compression = 'none' | 'gzip' | 'xz' | 'bzip2' | 'zstd';
export type Format = { kind: 'tar'; compression: Compression } | { kind: 'zip' } | { kind: 'deb' } | { kind: 'file' } | { kind: 'unsupported'; name: string };

const starts = (b: Uint8Array, sig: readonly number[], at = 0): boolean => sig.every((x, i) => b[at + i] === x);

/** Archive formats we recognise but do not unpack: better a clear error than a surprising single file. */
const UNSUPPORTED: ReadonlyArray<[string, readonly number[]]> = [
  ['7z', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
  ['rar', [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07]],
  ['lzip', [0x4c, 0x5a, 0x49, 0x50]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
  ['Unix compress (.Z)', [0x1f, 0x9d]],
];

export function sniff(head: Uint8Array): Format {
  if (starts(head, [0x1f, 0x8b])) return { kind: 'tar', compression: 'gzip' };
  if (starts(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return { kind: 'tar', compression: 'xz' };
  if (starts(head, [0x42, 0x5a, 0x68]) && (head[3] ?? 0) >= 0x31 && (head[3] ?? 0) <= 0x39) return { kind: 'tar', compression: 'bzip2' };
  if (starts(head, [0x28, 0xb5, 0x2f, 0xfd])) return { kind: 'tar', compression: 'zstd' };
  // Local file header, or the end record of an empty zip.
  if (starts(head, [0x50, 0x4b, 0x03, 0x04]) || starts(head, [0x50, 0x4b, 0x05, 0x06])) return { kind: 'zip' };
  if (isTarHeader(head)) return { kind: 'tar', compression: 'none' };
  // A Debian package: an ar archive whose first member is debian-binary. Other
  // ar archives (static libraries) stay single files.
  if (Buffer.from(head.subarray(0, 21)).toString('latin1') === '!<arch>\ndebian-binary') return { kind: 'deb' };
  for (const [name, sig] of UNSUPPORTED) if (starts(head, sig)) return { kind: 'unsupported', name };
  return { kind: 'file' };
}

/**
 * True when the first 512 bytes are a tar header: the ustar/GNU magic with a
 * valid checksum, or (old v7 archives) a valid checksum alone. An all-zero block
 * is an empty archive.
 */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  let zero = true;
  for (let i = 0; i < 512; i++) {
    if (block[i] !== 0) {
      zero = false;
      break;
    }
  }
  if (zero) return true;
  const stored = parseInt(
    Buffer.from(block.subarray(148, 156))
      .toString('latin1')
      .replace(/[\0 ]+$/g, '')
      .trim(),
    8,
  );
  if (!Number.isFinite(stored)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

export async function detect(file: string): Promise<Format> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    return sniff(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}
