// The file source kind: a path inside the project repository (vendored sources,
// patches). A file is ingested as its bytes; a directory as the same deterministic
// tar export a git commit gets (det-tar.ts), holding the directory's content at
// the archive's root, so its pin does not depend on times, owners or the order a
// filesystem lists names in.
//
// Security: a recipe is reviewed text, but a path in it must not reach outside the
// repository, neither by `..` or an absolute path nor through a symlink; checked
// on the real paths (symlinks resolved), so a link to ~/.ssh is refused too.
// Inside an exported directory, symlinks are kept as symlinks, and only when they
// stay inside that directory.
import { constants, type Dirent } from 'node:fs';
import { lstat, open, readdir, readlink, realpath } from 'node:fs/promises';
import { join, posix, sep } from 'node:path';
import { IntactError } from '../errors.js';
import type { DownloadCache, Ingested } from './cache.js';
import { DetTarWriter, compareTarNames, tarName } from './det-tar.js';
import { createHasher, parseStrongIntegrity, renderIntegrity, sameIntegrity } from './sri.js';
import type { ByteSink } from './types.js';

export interface FetchFileOptions {
  /** The lock's pin; the project's current content must match it, cached or not. */
  expected?: string;
  signal?: AbortSignal;
}

export interface FileFetched extends Ingested {
  file: string;
  kind: 'file' | 'dir';
}

const BUFFER_SIZE = 1024 * 1024;

/** Ingest the project file or directory at `relPath` into the cache. */
export async function fetchFile(projectDir: string, relPath: string, cache: DownloadCache, opts: FetchFileOptions = {}): Promise<FileFetched> {
  const rel = checkRelPath(relPath);
  const real = await resolveInside(projectDir, rel, relPath);
  const st = await lstat(real);
  const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : undefined;
  if (kind === undefined) {
    throw new IntactError('FILE_SOURCE_UNSUPPORTED', `${relPath} is neither a file nor a directory`, {
      file: relPath,
      field: 'file',
      hint: 'point the source at a regular file or a directory',
    });
  }
  const produce = async (sink: ByteSink): Promise<void> => {
    const buf = Buffer.allocUnsafe(BUFFER_SIZE);
    if (kind === 'file') await readFileInto(real, buf, (c) => sink.write(c), relPath);
    else await exportDir(real, relPath, sink, buf);
  };
  // The project is the truth, not the cache: a pinned entry already in the cache
  // would otherwise hide an edit of the file (and `verify --fetch` would pass).
  if (opts.expected !== undefined) await assertMatches(produce, opts.expected, relPath);
  const ingestOpts = {
    ...(opts.expected !== undefined ? { expected: opts.expected } : {}),
    algorithm: 'sha512' as const,
    what: `file ${relPath}`,
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const got = await cache.ingest(ingestOpts, produce);
  return { ...got, file: relPath, kind };
}

/** Hash what the project holds now (nothing is written) and compare it with the pin. */
async function assertMatches(produce: (sink: ByteSink) => Promise<void>, expected: string, relPath: string): Promise<void> {
  const pin = parseStrongIntegrity(expected);
  let hasher = createHasher(pin.algorithm);
  let bytes = 0;
  await produce({
    write(chunk) {
      hasher.update(chunk);
      bytes += chunk.length;
    },
    get bytes() {
      return bytes;
    },
    reset() {
      hasher = createHasher(pin.algorithm);
      bytes = 0;
    },
  });
  const found = hasher.digest();
  if (!sameIntegrity(found, pin)) {
    const exp = renderIntegrity(pin);
    const got = renderIntegrity(found);
    throw new IntactError('INTEGRITY_MISMATCH', `file source ${relPath} does not match its pin: expected ${exp}, found ${got}`, {
      file: relPath,
      field: 'file',
      expected: exp,
      found: got,
      hint: 'the file changed since it was locked; if the change is intended, review it and run `intact lock`',
    });
  }
}

/** The lexical rules: relative, no `..`, not the project itself. */
function checkRelPath(relPath: string): string {
  const escapes = (why: string): IntactError =>
    new IntactError('REPO_FILE_ESCAPES', `file source ${JSON.stringify(relPath)} ${why}`, {
      file: relPath,
      field: 'file',
      hint: 'give a path relative to the project root that stays inside it, e.g. vendor/foo-1.2.tar.gz',
    });
  if (relPath.includes('\0')) throw escapes('contains a NUL byte');
  if (relPath.startsWith('/') || /^[A-Za-z]:[\\/]/.test(relPath)) throw escapes('is absolute');
  if (relPath.split(/[\\/]/).includes('..')) throw escapes('climbs out with ".."');
  const norm = posix.normalize(relPath).replace(/\/+$/, '');
  if (norm === '.' || norm === '') throw escapes('names the whole project');
  return norm;
}

/** The real path of the source, which must be strictly inside the project's real path. */
async function resolveInside(projectDir: string, rel: string, shown: string): Promise<string> {
  const root = await realpath(projectDir);
  let real: string;
  try {
    real = await realpath(join(root, rel));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new IntactError('REPO_FILE_MISSING', `file source ${shown} does not exist in the project`, {
        file: shown,
        field: 'file',
        hint: 'check the path (relative to the project root) and that the file is committed',
        cause: e,
      });
    }
    if (code === 'ELOOP') throw new IntactError('REPO_FILE_ESCAPES', `file source ${shown} is a symlink loop`, { file: shown, field: 'file', cause: e });
    throw new IntactError('IO', `cannot read file source ${shown}: ${(e as Error).message}`, { file: shown, cause: e });
  }
  if (!real.startsWith(root + sep)) {
    throw new IntactError('REPO_FILE_ESCAPES', `file source ${shown} leads outside the project (to ${real}) through a symlink`, {
      file: shown,
      field: 'file',
      hint: 'copy the file into the repository instead of linking to it',
    });
  }
  return real;
}

/** Read a file through the shared buffer; the consumer must not keep the chunk. */
async function readFileInto(
  path: string | Buffer,
  buf: Buffer,
  onChunk: (c: Buffer) => void,
  shown: string,
  onOpen?: (size: number, mode: number) => void,
): Promise<void> {
  // O_NOFOLLOW: the checks above saw a file here; a symlink swapped in since is refused.
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch((e: unknown) => {
    throw new IntactError('IO', `cannot read ${shown}: ${(e as Error).message}`, { file: shown, cause: e });
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new IntactError('FILE_SOURCE_UNSUPPORTED', `${shown} changed into something other than a file while being read`, { file: shown });
    onOpen?.(st.size, st.mode);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      // The cache's sink writes synchronously, so handing it a view of the reused buffer is safe.
      onChunk(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}

interface DirEntry {
  rel: Buffer;
  name: Buffer;
  abs: Buffer;
  kind: 'dir' | 'file' | 'symlink';
  target?: Buffer;
}

/** Export a directory's content as a deterministic tar (det-tar.ts). */
async function exportDir(root: string, shown: string, sink: ByteSink, buf: Buffer): Promise<void> {
  const entries: DirEntry[] = [];
  await walk(Buffer.from(root), Buffer.alloc(0), entries, shown);
  entries.sort((a, b) => compareTarNames(a.name, b.name));
  const writer = new DetTarWriter(sink);
  for (const e of entries) {
    const display = `${shown}/${e.rel.toString()}`;
    if (e.kind === 'dir') writer.dir(e.rel);
    else if (e.kind === 'symlink') writer.symlink(e.rel, e.target!);
    else {
      await readFileInto(
        e.abs,
        buf,
        (c) => writer.data(c),
        display,
        (size, mode) => {
          // Executable as git sees it: the owner-execute bit.
          writer.file(e.rel, size, (mode & constants.S_IXUSR) !== 0);
        },
      );
    }
  }
  writer.end();
}

async function walk(abs: Buffer, rel: Buffer, out: DirEntry[], shown: string): Promise<void> {
  let names: Dirent<Buffer>[];
  try {
    names = (await readdir(abs, { withFileTypes: true, encoding: 'buffer' })) as Dirent<Buffer>[];
  } catch (e) {
    throw new IntactError('IO', `cannot read ${shown}/${rel.toString()}: ${(e as Error).message}`, { file: shown, cause: e });
  }
  for (const d of names) {
    const childAbs = Buffer.concat([abs, SLASH, d.name]);
    const childRel = rel.length === 0 ? Buffer.from(d.name) : Buffer.concat([rel, SLASH, d.name]);
    const display = `${shown}/${childRel.toString()}`;
    if (d.isDirectory()) {
      out.push({ rel: childRel, name: tarName(childRel, true), abs: childAbs, kind: 'dir' });
      await walk(childAbs, childRel, out, shown);
    } else if (d.isFile()) {
      out.push({ rel: childRel, name: tarName(childRel, false), abs: childAbs, kind: 'file' });
    } else if (d.isSymbolicLink()) {
      const target = await readlink(childAbs, { encoding: 'buffer' });
      if (!linkStaysInside(childRel, target)) {
        throw new IntactError('REPO_FILE_ESCAPES', `symlink ${display} points outside ${shown} (to ${target.toString()})`, {
          file: display,
          field: 'file',
          hint: 'an exported directory may only hold relative symlinks that stay inside it; copy the target in instead',
        });
      }
      out.push({ rel: childRel, name: tarName(childRel, false), abs: childAbs, kind: 'symlink', target });
    } else {
      throw new IntactError('FILE_SOURCE_UNSUPPORTED', `${display} is not a file, directory or symlink`, {
        file: display,
        hint: 'remove fifos, sockets and device files from the source directory',
      });
    }
  }
}

/** Lexically: a relative target that, resolved from the link's folder, stays inside the root. */
function linkStaysInside(linkRel: Buffer, target: Buffer): boolean {
  const t = target.toString('latin1');
  if (t === '' || t.startsWith('/') || t.includes('\0')) return false;
  const parts = linkRel.toString('latin1').split('/').slice(0, -1);
  for (const c of t.split('/')) {
    if (c === '..') {
      if (parts.length === 0) return false;
      parts.pop();
    } else if (c !== '.' && c !== '') {
      parts.push(c);
    }
  }
  return true;
}

const SLASH = Buffer.from('/');
