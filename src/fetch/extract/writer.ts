// The lean tree writer: turns entries into files under a fresh root with as few
// syscalls as possible (docs/measured.md §2: node-tar's unpacker spends ~20
// syscalls per file on re-checking what it already knows; this writer does
// open + write(s) + close per file, one mkdir per directory, nothing else).
//
// It can afford that because it owns the root: the root is a fresh, empty temp
// folder, so an in-memory model of what was created (`nodes`) is the truth, and
// safety checks are map lookups instead of lstat calls:
// - every parent of an entry must be a directory this writer made, so nothing is
//   ever written through a symlink (entry `a` -> /tmp, then `a/x`);
// - an entry whose path already exists is refused (duplicates are ambiguous);
//   O_EXCL | O_NOFOLLOW make the kernel enforce the same, as defence in depth;
// - hardlinks may only point at regular files already written;
// - symlinks are checked lexically here, and through chains at `finish`;
// - devices, FIFOs and sockets are refused; modes become 0644/0755 (dirs 0755),
//   which drops setuid, setgid and sticky bits.
// Writes are synchronous on purpose: the reader calls us from inside the parser,
// so the body never needs buffering and memory stays flat.
//
// With `records`, it also hashes what it writes into the records of the tree
// hash (src/store/tree-scan.ts: kind, path, content sha256 or link target), so
// a caller that must hash the unpacked tree need not read it all back: sha256
// runs at ~1.8 GB/s here, reading 13.5k files back cost ~0.5 s (bench/cache.mjs).
// The model is the truth here too: modes are exactly 0644/0755, so 'x' is 0755.
import { createHash } from 'node:crypto';
import { closeSync, constants, fchmodSync, chmodSync, linkSync, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Body, Entry, Visitor } from './entry.js';
import type { ExtractLimits } from './limits.js';
import { checkLinkChains, DIR, FILE, type Node } from './links.js';
import { entryParts, symlinkTargetReason } from './paths.js';
import { problem } from './problem.js';

const OPEN_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface WriterOptions {
  /** Absolute path of the (existing, empty) folder entries land in. */
  root: string;
  strip: number;
  where: string;
  limits: ExtractLimits;
  /** True when the umask would change 0644/0755, so every mode must be set explicitly. */
  fixModes: boolean;
  /** Also hash what is written into tree-hash records. */
  records?: boolean;
}

/** One entry as the tree hash sees it (the shape of src/store/tree-scan.ts's TreeRecord). */
export interface WrittenRecord {
  kind: 'd' | 'f' | 'x' | 'l';
  /** Path relative to the destination, '/'-separated. */
  rel: Buffer;
  /** f, x: sha256 of the content; l: the link target; d: none. */
  payload?: Buffer;
}

export interface ExtractResult {
  /** Regular files, symlinks and hardlinks written (directories are not counted). */
  files: number;
  /** Bytes of regular file content written. */
  bytes: number;
  /** With the `records` option, for archives: every entry written, in no particular order. */
  records?: WrittenRecord[];
}

export class TreeWriter implements Visitor {
  readonly #o: WriterOptions;
  readonly #nodes = new Map<string, Node>();
  #files = 0;
  #bytes = 0;
  #kept = 0;
  #fd = -1;
  /** With `records`: by path, so a hardlink can take its target's hash. */
  readonly #records: Map<string, WrittenRecord> | undefined;

  constructor(o: WriterOptions) {
    this.#o = o;
    this.#records = o.records ? new Map() : undefined;
  }

  entry(e: Entry): Body | undefined {
    const o = this.#o;
    if (e.kind === 'special') {
      throw problem('EXTRACT_SPECIAL_FILE', o.where, e.name, `is a ${e.typeName}; device files, FIFOs and sockets are refused.`);
    }
    if (e.kind === 'unsupported') {
      throw problem('EXTRACT_UNSUPPORTED', o.where, e.name, `has the entry type ${e.typeName}, which intact does not unpack.`);
    }
    const parts = entryParts(e.name, o.strip, o);
    if (parts === undefined) return undefined;
    if (parts.length === 0) {
      if (e.kind === 'dir') return undefined;
      throw problem('EXTRACT_UNSAFE_PATH', o.where, e.name, 'names the destination folder itself.');
    }
    this.#kept++;
    const key = parts.join('/');
    const existing = this.#nodes.get(key);
    if (existing !== undefined && !(existing === DIR && e.kind === 'dir')) {
      throw problem('EXTRACT_DUPLICATE', o.where, e.name, `unpacks to ${JSON.stringify(key)}, which an earlier entry already created.`);
    }
    this.#parents(parts, e.name);
    const abs = join(o.root, key);
    switch (e.kind) {
      case 'dir':
        if (existing === undefined) this.#mkdir(abs, key, e.name);
        return undefined;
      case 'symlink':
        return this.#symlink(parts, key, abs, e);
      case 'hardlink':
        return this.#hardlink(key, abs, e);
      case 'file':
        return this.#file(key, abs, e);
    }
  }

  /** Checks what only the whole tree can show, and reports what was written. */
  finish(): ExtractResult {
    const o = this.#o;
    if (this.#kept === 0 && o.strip > 0) {
      throw problem('EXTRACT_STRIP', o.where, undefined, `has nothing left after stripping ${o.strip} leading path component(s).`, {
        hint: "Lower `strip`: it is deeper than the archive's folders.",
      });
    }
    checkLinkChains(this.#nodes, o.where);
    return { files: this.#files, bytes: this.#bytes, ...(this.#records ? { records: [...this.#records.values()] } : {}) };
  }

  /** Releases a file left open by a body that never ended (the extraction failed). */
  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #parents(parts: readonly string[], name: string): void {
    let key = '';
    for (let i = 0; i < parts.length - 1; i++) {
      key = i === 0 ? (parts[0] as string) : `${key}/${parts[i] as string}`;
      const n = this.#nodes.get(key);
      if (n === DIR) continue;
      if (n === undefined) {
        this.#mkdir(join(this.#o.root, key), key, name);
      } else if (typeof n === 'string') {
        throw problem('EXTRACT_THROUGH_LINK', this.#o.where, name, `would be written through the symlink ${JSON.stringify(key)} (-> ${JSON.stringify(n)}).`);
      } else {
        throw problem('EXTRACT_DUPLICATE', this.#o.where, name, `needs ${JSON.stringify(key)} to be a folder, but an earlier entry made it a file.`);
      }
    }
  }

  #mkdir(abs: string, key: string, name: string): void {
    this.#fs(name, () => mkdirSync(abs, 0o755));
    if (this.#o.fixModes) chmodSync(abs, 0o755);
    this.#nodes.set(key, DIR);
    this.#records?.set(key, { kind: 'd', rel: Buffer.from(key) });
  }

  #symlink(parts: readonly string[], key: string, abs: string, e: Entry): undefined {
    const target = e.target ?? '';
    const why = symlinkTargetReason(parts, target, this.#o.limits);
    if (why !== undefined) throw problem('EXTRACT_LINK_ESCAPE', this.#o.where, e.name, `${why}.`);
    this.#fs(e.name, () => symlinkSync(target, abs));
    this.#nodes.set(key, target);
    this.#records?.set(key, { kind: 'l', rel: Buffer.from(key), payload: Buffer.from(target) });
    this.#files++;
    return undefined;
  }

  #hardlink(key: string, abs: string, e: Entry): undefined {
    const o = this.#o;
    const target = e.target ?? '';
    const tparts = entryParts(target, o.strip, o, 'hardlink target');
    const tkey = tparts?.join('/');
    if (tkey === undefined || tkey === '') {
      throw problem('EXTRACT_BAD_HARDLINK', o.where, e.name, `is a hardlink to ${JSON.stringify(target)}, which \`strip\` removes.`);
    }
    const t = this.#nodes.get(tkey);
    if (t !== FILE) {
      const what = t === undefined ? 'which no earlier entry created' : t === DIR ? 'which is a folder' : 'which is a symlink';
      throw problem(
        'EXTRACT_BAD_HARDLINK',
        o.where,
        e.name,
        `is a hardlink to ${JSON.stringify(target)}, ${what}; hardlinks may only point at regular files unpacked before them.`,
      );
    }
    this.#fs(e.name, () => linkSync(join(o.root, tkey), abs));
    this.#nodes.set(key, FILE);
    const tr = this.#records?.get(tkey);
    if (tr !== undefined) this.#records!.set(key, { ...tr, rel: Buffer.from(key) });
    this.#files++;
    return undefined;
  }

  #file(key: string, abs: string, e: Entry): Body {
    const mode = (e.mode & 0o111) !== 0 ? 0o755 : 0o644;
    const fd = this.#fs(e.name, () => openSync(abs, OPEN_FLAGS, mode));
    this.#fd = fd;
    if (this.#o.fixModes) fchmodSync(fd, mode);
    this.#nodes.set(key, FILE);
    this.#files++;
    const hash = this.#records ? createHash('sha256') : undefined;
    return {
      write: (chunk) => {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off);
        hash?.update(chunk);
        this.#bytes += chunk.length;
      },
      end: () => {
        this.#fd = -1;
        closeSync(fd);
        if (hash) this.#records!.set(key, { kind: mode === 0o755 ? 'x' : 'f', rel: Buffer.from(key), payload: hash.digest() });
      },
    };
  }

  /** Runs one filesystem call and turns the refusals it can meet into named errors. */
  #fs<T>(name: string, f: () => T): T {
    try {
      return f();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        throw problem(
          'EXTRACT_DUPLICATE',
          this.#o.where,
          name,
          'collides with an earlier entry on this filesystem (names that differ only in case or Unicode form?).',
          { cause: err },
        );
      }
      if (code === 'ENAMETOOLONG') {
        throw problem('EXTRACT_UNSAFE_PATH', this.#o.where, name, 'is too long for this filesystem.', { cause: err });
      }
      throw err;
    }
  }
}
