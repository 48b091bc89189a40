// Error construction for extraction. Every refusal names the archive (the URL or
// npm spec the caller passed as `name`, plus the nested archive path when there
// is one) and the entry at fault, so a user can tell which download and which
// file inside it tripped the check.
import { IntactError, type ErrorCode } from '../../errors.js';

const UNSAFE_HINT =
  'intact refuses archives that could write outside their folder or smuggle special files. ' +
  'Check that the source URL and its integrity are the ones you meant to pin.';

const HINTS: Partial<Record<ErrorCode, string>> = {
  EXTRACT_UNSAFE_PATH: UNSAFE_HINT,
  EXTRACT_THROUGH_LINK: UNSAFE_HINT,
  EXTRACT_LINK_ESCAPE: UNSAFE_HINT,
  EXTRACT_BAD_HARDLINK: UNSAFE_HINT,
  EXTRACT_SPECIAL_FILE: UNSAFE_HINT,
  EXTRACT_DUPLICATE: 'Two entries unpack to the same path, so the result would depend on their order. ' + 'If `strip` merged two top folders, lower it.',
  EXTRACT_LIMIT:
    'The archive unpacks to more than the extraction limits allow (a decompression bomb, or a very large source). ' +
    'If the source is genuine, raise the limits for it.',
  EXTRACT_CORRUPT: 'The file is damaged or not what its name says. Fetch it again; if its integrity still matches, the pinned file itself is broken.',
  EXTRACT_UNSUPPORTED: 'Use a source in tar (plain, gzip, xz, bzip2, zstd) or zip form, or a single file.',
};

/** An extraction error about one entry (or the archive as a whole when `entry` is undefined). */
export function problem(
  code: ErrorCode,
  where: string,
  entry: string | undefined,
  message: string,
  extra: { hint?: string; expected?: string; found?: string; cause?: unknown } = {},
): IntactError {
  const subject = entry === undefined ? where : `${where}: entry ${JSON.stringify(entry)}`;
  const hint = extra.hint ?? HINTS[code];
  return new IntactError(code, `${subject} ${message}`, {
    file: where,
    ...(hint === undefined ? {} : { hint }),
    ...(extra.expected === undefined ? {} : { expected: extra.expected }),
    ...(extra.found === undefined ? {} : { found: extra.found }),
    ...(extra.cause === undefined ? {} : { cause: extra.cause }),
  });
}

/**
 * Errors from decompressors and parsers carry library wording and no code of
 * ours; they all mean "these bytes are not a valid archive". System errors
 * (they have a `syscall`) and our own errors pass through unchanged.
 */
export function asCorrupt(err: unknown, where: string, what: string): unknown {
  if (err instanceof IntactError) return err;
  const e = err as { name?: string; syscall?: string; message?: string } | undefined;
  if (e?.syscall !== undefined || e?.name === 'AbortError') return err;
  const detail = e?.message ?? String(err);
  return problem('EXTRACT_CORRUPT', where, undefined, `is not a valid ${what}: ${detail}.`, { cause: err });
}
