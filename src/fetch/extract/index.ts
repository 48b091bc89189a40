// Extraction: the one door through which a verified download becomes a source
// folder. It unpacks tar (plain, gzip, xz, bzip2, zstd) and zip, recognised by
// their first bytes, never by name; anything else is placed as a single file
// (single.ts), except archive formats we know but do not unpack (7z, rar, lzip,
// lz4, .Z), which are refused rather than silently kept as blobs.
//
// Atomic or nothing: everything is written into a fresh temp folder beside
// `dest` (same filesystem), and renamed to `dest` only when every entry was
// written and every check passed. On any error the temp folder is removed and
// `dest` does not exist. `dest` must not exist beforehand.
//
// Options:
// - strip: leading path components dropped from every entry (GNU tar's
//   --strip-components); entries that vanish are skipped; stripping everything
//   is an error. With `archive`, strip applies to the inner archive.
// - path: the content lands under dest/<path>; for a single file, dest/<path>
//   is the file itself. Links may not leave dest/<path>.
// - archive / archiveIntegrity: unpack a file inside the download instead
//   (inner.ts); the inner file must hash to archiveIntegrity when given.
// - limits: overrides of DEFAULT_EXTRACT_LIMITS (limits.ts).
// - name: the URL or npm spec, for messages; also names a single file.
//
// Libraries: node-tar's Parser (parsing only; writing is writer.ts), yauzl for
// zip, node:zlib for gzip, xz-decompress (WASM) for xz, fzstd for zstd (or
// node:zlib on Node >= 22.15), unbzip2-stream's decoder for bzip2. Each file
// header says why. Timestamps are left as the filesystem sets them; a later
// normalisation step sets them all.
import { lstatSync, mkdirSync, statSync, chmodSync } from 'node:fs';
import { mkdir, mkdtemp, rename } from 'node:fs/promises';
import { removeTree } from '../../store/remove-tree.js';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { IntactError } from '../../errors.js';
import { parseStrongIntegrity, type HashAlgorithm, type StrongIntegrity } from '../sri.js';
import { detect, type Format } from './detect.js';
import type { ReadContext, Visitor } from './entry.js';
import { InnerFinder } from './inner.js';
import { DEFAULT_EXTRACT_LIMITS, type ExtractLimits } from './limits.js';
import { optionParts } from './paths.js';
import { problem } from './problem.js';
import { isSingleSegment, nameFromSource, placeSingle } from './single.js';
import { readTar } from './tar.js';
import { TreeWriter, type ExtractResult, type WrittenRecord } from './writer.js';
import { readZip } from './zip.js';
import { readDeb } from './deb.js';

export { DEFAULT_EXTRACT_LIMITS, type ExtractLimits } from './limits.js';
export type { ExtractResult, WrittenRecord } from './writer.js';

export interface ExtractOptions {
  strip?: number;
  archive?: string;
  archiveIntegrity?: string;
  path?: string;
  limits?: Partial<ExtractLimits>;
  signal?: AbortSignal;
  /** The URL or npm spec the file came from, for messages (defaults to the file's path). */
  name?: string;
  /**
   * The file must be a Debian binary package (a `deb` source): anything else is
   * refused with the reason, instead of being kept as a single file. `file`:
   * the file is placed as it is, whatever it holds (a source's `unpack: false`).
   */
  expect?: 'deb' | 'file';
  /** Also return the tree-hash records of what an archive unpacked to (writer.ts); not for a single file. */
  records?: boolean;
  /**
   * Read the archive from this stream rather than from `file` (a tar archive
   * still arriving: src/cache/receive.ts). Its first 512 bytes must already be
   * in `file`: the format is still detected from there.
   */
  input?: () => Readable;
}

export async function extract(file: string, dest: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const where = opts.name ?? file;
  const limits: ExtractLimits = { ...DEFAULT_EXTRACT_LIMITS, ...opts.limits };
  const strip = opts.strip ?? 0;
  if (!Number.isSafeInteger(strip) || strip < 0) {
    throw problem('EXTRACT_OPTIONS', where, undefined, `cannot be unpacked: \`strip\` must be a whole number >= 0, not ${String(opts.strip)}.`);
  }
  const pathParts = opts.path === undefined ? [] : optionParts('path', opts.path, { where, limits });
  const archiveParts = opts.archive === undefined ? undefined : optionParts('archive', opts.archive, { where, limits });
  if (opts.archiveIntegrity !== undefined && archiveParts === undefined) {
    throw problem('EXTRACT_OPTIONS', where, undefined, 'cannot be unpacked: `archiveIntegrity` is given without `archive`.');
  }
  const integrity: StrongIntegrity | undefined = opts.archiveIntegrity === undefined ? undefined : parseStrongIntegrity(opts.archiveIntegrity);

  const target = resolve(dest);
  if (exists(target)) {
    throw problem('EXTRACT_DEST_EXISTS', where, undefined, `cannot be unpacked into ${target}: it already exists.`, {
      hint: 'Extraction creates its destination; remove it or pick a new folder.',
    });
  }
  const ctx: ReadContext = { where, limits, signal: opts.signal };
  if (opts.input !== undefined && (archiveParts !== undefined || opts.archive !== undefined)) {
    throw problem('EXTRACT_OPTIONS', where, undefined, 'cannot be unpacked: a streamed input cannot hold a nested `archive`.');
  }
  let work: string | undefined;
  try {
    opts.signal?.throwIfAborted();
    await mkdir(dirname(target), { recursive: true });
    work = await mkdtemp(join(dirname(target), `.${basename(target)}.extract-`));
    const out = join(work, 'out');
    mkdirSync(out, 0o755);
    // Probe the umask once instead of paying a chmod per file when it is harmless.
    const fixModes = (statSync(out).mode & 0o777) !== 0o755;
    if (fixModes) chmodSync(out, 0o755);

    let source = file;
    let sourceWhere = where;
    let innerName: string | undefined;
    if (archiveParts !== undefined) {
      const outer = await detect(file);
      if (outer.kind !== 'tar' && outer.kind !== 'zip' && outer.kind !== 'deb') {
        throw problem('EXTRACT_OPTIONS', where, undefined, `is not an archive, so \`archive\` ${JSON.stringify(opts.archive)} cannot be found in it.`);
      }
      const finder = new InnerFinder(archiveParts, work, integrity, ctx);
      try {
        await read(outer, file, finder, ctx);
      } finally {
        finder.close();
      }
      const picked = finder.pick(opts.archive as string);
      source = picked.path;
      innerName = picked.name.split('/').pop();
      sourceWhere = `${where} › ${picked.name}`;
    }

    // `unpack: false` keeps the verified file as it is: the archive parser never reads it.
    const format: Format =
      opts.expect === 'file' ? { kind: 'file' } : opts.expect === 'deb' && archiveParts === undefined ? { kind: 'deb' } : await detect(source);
    if (opts.input !== undefined && format.kind !== 'tar') {
      throw problem(
        'EXTRACT_OPTIONS',
        where,
        undefined,
        `cannot be unpacked from a stream: only a tar archive can be, and this is ${format.kind === 'zip' ? 'a zip archive' : 'not an archive'}.`,
      );
    }
    const innerCtx: ReadContext = { ...ctx, where: sourceWhere, ...(opts.input !== undefined ? { input: opts.input } : {}) };
    let result: ExtractResult;
    if (format.kind === 'unsupported') {
      throw problem('EXTRACT_UNSUPPORTED', sourceWhere, undefined, `is a ${format.name} archive, which intact does not unpack.`);
    } else if (format.kind === 'file') {
      if (strip > 0) {
        throw problem('EXTRACT_STRIP', sourceWhere, undefined, `is a single file, not an archive, so \`strip: ${strip}\` has nothing to strip.`, {
          hint: 'Remove `strip` from this source.',
        });
      }
      const name = pathParts.pop() ?? innerName ?? nameFromSource(opts.name) ?? basename(file);
      // Defence in depth: whatever named it, the file lands in `out` and nowhere else.
      if (!isSingleSegment(name))
        throw problem('EXTRACT_UNSAFE_PATH', sourceWhere, undefined, `would be written as ${JSON.stringify(name)}, which is not one plain file name.`, {
          hint: 'Give the source a `path:` naming the file.',
        });
      const parent = makeDirs(out, pathParts, fixModes);
      result = await placeSingle(source, join(parent, name), sourceWhere, limits);
    } else {
      const root = makeDirs(out, pathParts, fixModes);
      const writer = new TreeWriter({ root, strip, where: sourceWhere, limits, fixModes, ...(opts.records ? { records: true } : {}) });
      try {
        await read(format, source, writer, innerCtx);
      } finally {
        writer.close();
      }
      result = writer.finish();
      if (result.records !== undefined && pathParts.length > 0) result.records = underPath(result.records, pathParts);
    }
    opts.signal?.throwIfAborted();
    try {
      await rename(out, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw problem('EXTRACT_DEST_EXISTS', where, undefined, `cannot be unpacked into ${target}: something else created it meanwhile.`, { cause: err });
      }
      throw err;
    }
    return result;
  } catch (err) {
    throw normalise(err, where, target, opts.signal);
  } finally {
    // Bounded memory however many entries were written (src/store/remove-tree.ts).
    if (work !== undefined) await removeTree(work);
  }
}

/**
 * The SRI of a file inside an archive (a source's nested `archive`), read from
 * the verified outer file without unpacking anything else. `intact lock` pins
 * nested archives with it.
 */
export async function hashArchiveMember(file: string, archive: string, opts: { algorithm: HashAlgorithm; tmpDir: string; name?: string }): Promise<string> {
  const where = opts.name ?? file;
  const limits: ExtractLimits = { ...DEFAULT_EXTRACT_LIMITS };
  const ctx: ReadContext = { where, limits, signal: undefined };
  const parts = optionParts('archive', archive, { where, limits });
  const outer = await detect(file);
  if (outer.kind !== 'tar' && outer.kind !== 'zip' && outer.kind !== 'deb') {
    throw problem('EXTRACT_OPTIONS', where, undefined, `is not an archive, so \`archive\` ${JSON.stringify(archive)} cannot be found in it.`);
  }
  await mkdir(opts.tmpDir, { recursive: true });
  const work = await mkdtemp(join(opts.tmpDir, 'member-'));
  try {
    const finder = new InnerFinder(parts, work, undefined, ctx, opts.algorithm);
    try {
      await read(outer, file, finder, ctx);
    } finally {
      finder.close();
    }
    return finder.pick(archive).integrity as string;
  } finally {
    await removeTree(work);
  }
}

function read(format: Format, file: string, visitor: Visitor, ctx: ReadContext): Promise<void> {
  if (format.kind === 'zip') return readZip(file, visitor, ctx);
  if (format.kind === 'deb') return readDeb(file, visitor, ctx);
  if (format.kind === 'tar') return readTar(file, format.compression, visitor, ctx);
  throw new Error(`internal: read() called for ${format.kind}`);
}

/** Records relative to dest/<path> made relative to dest: the folders of `path` count too. */
function underPath(records: WrittenRecord[], parts: readonly string[]): WrittenRecord[] {
  const prefix = parts.join('/');
  const dirs = parts.map((_, i) => ({ kind: 'd' as const, rel: Buffer.from(parts.slice(0, i + 1).join('/')) }));
  return [...dirs, ...records.map((r) => ({ ...r, rel: Buffer.from(`${prefix}/${r.rel.toString()}`) }))];
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function makeDirs(root: string, parts: readonly string[], fixModes: boolean): string {
  let dir = root;
  for (const p of parts) {
    dir = join(dir, p);
    mkdirSync(dir, 0o755);
    if (fixModes) chmodSync(dir, 0o755);
  }
  return dir;
}

function normalise(err: unknown, where: string, target: string, signal: AbortSignal | undefined): unknown {
  if (err instanceof IntactError) return err;
  if (signal?.aborted === true || (err as { name?: string } | undefined)?.name === 'AbortError') {
    return new IntactError('EXTRACT_ABORTED', `${where}: unpacking into ${target} was cancelled.`, { file: where, cause: err });
  }
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.syscall === 'string') {
    return new IntactError('IO', `${where}: could not unpack into ${target}: ${e.message}.`, {
      file: where,
      cause: err,
      hint: 'Check free disk space and permissions of the destination folder.',
    });
  }
  return new IntactError('INTERNAL', `${where}: unpacking failed unexpectedly: ${String((err as Error)?.message ?? err)}`, { file: where, cause: err });
}
