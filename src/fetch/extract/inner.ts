// `archive`: unpack a file found inside the fetched archive instead of the
// archive itself (npm's sqlite3@5.1.7 carries package/deps/sqlite-autoconf-*.tar.gz).
// The outer archive is streamed once; the named file is copied to a temp file
// beside the extraction, hashed on the way, and compared with `archiveIntegrity`
// before any parser reads it: the inner parser, like the outer one, only ever
// sees verified bytes.
//
// Matching: `archive` is a path inside the archive, either in full or without
// the archive's top folder (the `package/` of every npm tarball, the
// `name-version/` of most source tarballs), so the sqlite recipe of
// docs/recipes.md (`archive: deps/sqlite-autoconf-3440200.tar.gz`) works. A full match wins;
// two matches of the same kind are ambiguous and refused. An outer archive with
// an unsafe entry name anywhere is refused as a whole, like any other archive.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createHasher, renderIntegrity, type HashAlgorithm, type Hasher, type StrongIntegrity } from '../sri.js';
import type { Body, Entry, ReadContext, Visitor } from './entry.js';
import { entryParts } from './paths.js';
import { problem } from './problem.js';

const OPEN_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

interface Candidate {
  name: string;
  path: string;
  hasher: Hasher | undefined;
}

export class InnerFinder implements Visitor {
  readonly exact: Candidate[] = [];
  readonly short: Candidate[] = [];
  readonly #want: string;
  readonly #work: string;
  readonly #integrity: StrongIntegrity | undefined;
  readonly #ctx: ReadContext;
  #fd = -1;

  readonly #algorithm: HashAlgorithm | undefined;

  /** `algorithm`: hash the inner file with it even without a pin (to pin it, at lock time). */
  constructor(want: readonly string[], work: string, integrity: StrongIntegrity | undefined, ctx: ReadContext, algorithm?: HashAlgorithm) {
    this.#algorithm = integrity?.algorithm ?? algorithm;
    this.#want = want.join('/');
    this.#work = work;
    this.#integrity = integrity;
    this.#ctx = ctx;
  }

  entry(e: Entry): Body | undefined {
    const parts = entryParts(e.name, 0, this.#ctx);
    if (parts === undefined || parts.length === 0) return undefined;
    const full = parts.join('/') === this.#want;
    if (!full && parts.slice(1).join('/') !== this.#want) return undefined;
    if (e.kind !== 'file') {
      throw problem('EXTRACT_ARCHIVE_MISSING', this.#ctx.where, e.name, `is named by \`archive\` but is a ${e.typeName}, not a regular file.`, {
        hint: 'Name the archive file itself in `archive`, not a link or folder.',
      });
    }
    const list = full ? this.exact : this.short;
    const path = join(this.#work, `inner-${this.exact.length + this.short.length}`);
    const fd = openSync(path, OPEN_FLAGS, 0o600);
    this.#fd = fd;
    const hasher = this.#algorithm === undefined ? undefined : createHasher(this.#algorithm);
    list.push({ name: e.name, path, hasher });
    return {
      write: (chunk) => {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off);
        hasher?.update(chunk);
      },
      end: () => {
        this.#fd = -1;
        closeSync(fd);
      },
    };
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  /** The verified inner file, once the whole outer archive was read. */
  pick(archive: string): { path: string; name: string; integrity?: string } {
    const where = this.#ctx.where;
    const list = this.exact.length > 0 ? this.exact : this.short;
    if (list.length === 0) {
      throw problem('EXTRACT_ARCHIVE_MISSING', where, undefined, `holds no file ${JSON.stringify(archive)} (option \`archive\`).`, {
        hint: '`archive` is a path inside the fetched archive, with or without its top folder (e.g. `package/` in npm tarballs).',
      });
    }
    if (list.length > 1) {
      throw problem(
        'EXTRACT_ARCHIVE_MISSING',
        where,
        undefined,
        `holds several files matching ${JSON.stringify(archive)}: ${list.map((c) => JSON.stringify(c.name)).join(', ')}.`,
        {
          hint: 'Name the file with its full path inside the archive.',
        },
      );
    }
    const c = list[0] as Candidate;
    const found = c.hasher?.digest();
    if (this.#integrity !== undefined && found !== undefined) {
      if (found.digest !== this.#integrity.digest) {
        const expected = renderIntegrity(this.#integrity);
        throw problem(
          'EXTRACT_ARCHIVE_INTEGRITY',
          where,
          c.name,
          `does not match \`archiveIntegrity\` (expected ${expected}, found ${renderIntegrity(found)}).`,
          {
            expected,
            found: renderIntegrity(found),
            hint: 'The nested archive is not the one that was pinned. If the change is intended, update `archiveIntegrity` after review.',
          },
        );
      }
    }
    return { path: c.path, name: c.name, ...(found !== undefined ? { integrity: renderIntegrity(found) } : {}) };
  }
}
