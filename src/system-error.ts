// What the operating system says when the disk, the filesystem or a resource
// limit stops a write, as intact errors that say what to do. Without this a
// read-only store or a full disk reached the user as `INTERNAL`.
import { IntactError } from './errors.js';

/** The IntactError for an errno a user can act on; undefined for anything else. */
export function fromSystemError(e: unknown): IntactError | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  const code = err?.code;
  const path = err?.path;
  const where = path !== undefined ? ` (${path})` : '';
  const file = path !== undefined ? { file: path } : {};
  switch (code) {
    case 'EROFS':
      return new IntactError('STORE_READ_ONLY', `cannot write${where}: the filesystem is read-only`, {
        ...file,
        cause: e,
        hint: 'use a writable store (--store DIR or INTACT_STORE), or remount it read-write; a read-only store serves only what is already installed',
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new IntactError('DISK_FULL', `cannot write${where}: ${code === 'EDQUOT' ? 'the disk quota is used up' : 'no space left on the device'}`, {
        ...file,
        cause: e,
        hint: 'free some space (`intact gc` removes what no project uses) and run the command again; nothing partial was kept',
      });
    case 'EFBIG':
      return new IntactError('FILE_SIZE_LIMIT', `cannot write${where}: the file size limit (ulimit -f) was reached`, {
        ...file,
        cause: e,
        hint: 'raise the limit (`ulimit -f unlimited`) and run the command again; nothing partial was kept',
      });
    default:
      return undefined;
  }
}

/** The first errno along an error's causes that fromSystemError knows, as an IntactError. */
export function systemErrorIn(e: unknown): IntactError | undefined {
  for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 8; x = (x as { cause?: unknown }).cause, depth++) {
    const mapped = fromSystemError(x);
    if (mapped) return mapped;
  }
  return undefined;
}
