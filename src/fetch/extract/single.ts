// A download that is not an archive is placed as one file. Its name is, in
// order: the last component of `path` (the caller says where it lands); the
// base name of the nested file when `archive` picked it; the last path segment
// of the URL given as `name`; the cached file's own base name. Its mode is 0755
// when it starts like a program (ELF, Mach-O, `#!`), else 0644, so that a
// prebuilt static binary fetched as-is can run without a chmod step, and the
// result depends on the bytes alone.
import { constants } from 'node:fs';
import { chmod, copyFile, open, stat } from 'node:fs/promises';
import { ELF_MAGIC } from '../../elf-magic.js';
import type { ExtractLimits } from './limits.js';
import { problem } from './problem.js';
import type { ExtractResult } from './writer.js';

const PROGRAM_MAGIC: readonly (readonly number[])[] = [
  ELF_MAGIC,
  [0xcf, 0xfa, 0xed, 0xfe], // Mach-O 64-bit
  [0xce, 0xfa, 0xed, 0xfe], // Mach-O 32-bit
  [0xca, 0xfe, 0xba, 0xbe], // Mach-O universal
  [0x23, 0x21], // #!
];

async function looksExecutable(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return PROGRAM_MAGIC.some((m) => m.length <= bytesRead && m.every((b, i) => head[i] === b));
  } finally {
    await fh.close();
  }
}

/**
 * A safe single file name from a URL or spec, or undefined (the caller then
 * uses the cached file's own name). Security: the name is checked after
 * percent-decoding, as one path segment: `..%2F..%2Fx` decodes to a path that
 * would climb out of the extraction folder, so anything holding a separator,
 * a control character or a dot-only name is refused, never cleaned up.
 */
export function nameFromSource(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  let last: string;
  try {
    last = name.includes('://') ? decodeURIComponent(new URL(name).pathname.split('/').pop() ?? '') : (name.split('/').pop() ?? '');
  } catch {
    return undefined;
  }
  return isSingleSegment(last) ? last : undefined;
}

/** One path segment that stays where it is joined: no separator, no `.`/`..`, no control character. */
export function isSingleSegment(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\x00-\x1f\x7f]/.test(name) && Buffer.byteLength(name) <= 255;
}

export async function placeSingle(file: string, target: string, where: string, limits: ExtractLimits): Promise<ExtractResult> {
  const { size } = await stat(file);
  if (size > limits.maxBytes) {
    throw problem('EXTRACT_LIMIT', where, undefined, `is ${size} bytes, past the limit of ${limits.maxBytes}.`, {
      expected: `at most ${limits.maxBytes} bytes`,
      found: `${size} bytes`,
    });
  }
  // FICLONE: a reflink where the filesystem has them (btrfs, XFS, APFS), a plain copy elsewhere.
  await copyFile(file, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  await chmod(target, (await looksExecutable(target)) ? 0o755 : 0o644);
  return { files: 1, bytes: size };
}
