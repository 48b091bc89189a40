// The archive's indexes (Packages for binary packages, Sources for source
// packages), read only to find where a pinned package's file is and what size
// and sha256 the archive claims for it. Used by `lock`, `add` and `outdated`;
// `install` and `fetch` never read them: the lock holds the file's path.
//
// Trust: the index is not what makes a pin safe. The first download of a file
// is checked against the index's sha256 and pinned by its own sha512 in the
// lock; from then on only the lock's hash counts (docs/sources.md). intact does
// not check the archive's OpenPGP signature: a reviewer compares a new pin with
// `apt-cache show` on a machine whose apt does.
import { gunzipSync } from 'node:zlib';
import { IntactError, isIntactError } from '../../errors.js';
import { compareDebVersions } from '../../recipe/deb.js';
import { download } from '../http.js';
import type { ByteSink, FetchLimits } from '../types.js';
import type { DebArchive } from './archives.js';

export interface IndexOptions {
  limits: FetchLimits;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** A file the index lists: where it is under the archive's root, its size and sha256 (hex). */
export interface IndexedFile {
  path: string;
  size: number;
  sha256: string;
}

/** One stanza of Packages or Sources, its field names lower-cased. */
export type Stanza = Map<string, string>;

/** Indexes already read in this process, by URL (a lock of many recipes reads each once). */
const read = new Map<string, Promise<string | undefined>>();

/** Index files are compressed; the first variant the archive serves is read. */
const VARIANTS: readonly { suffix: string; decode: (b: Buffer) => Promise<Buffer> }[] = [
  { suffix: '.xz', decode: unxzBuffer },
  { suffix: '.gz', decode: async (b) => gunzipSync(b) },
  { suffix: '', decode: async (b) => b },
];

/** The text of one index (`dists/SUITE/COMPONENT/binary-ARCH/Packages`), or undefined when the archive has none. */
export function indexText(root: string, relative: string, opts: IndexOptions): Promise<string | undefined> {
  const url = `${root}/${relative}`;
  let p = read.get(url);
  if (!p) {
    p = readIndex(url, opts);
    read.set(url, p);
    p.catch(() => read.delete(url));
  }
  return p;
}

async function readIndex(url: string, opts: IndexOptions): Promise<string | undefined> {
  for (const v of VARIANTS) {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const sink: ByteSink = {
      write: (c) => {
        chunks.push(Buffer.from(c));
        bytes += c.length;
      },
      get bytes() {
        return bytes;
      },
      reset: () => {
        chunks.length = 0;
        bytes = 0;
      },
    };
    try {
      await download(url + v.suffix, sink, {
        limits: { ...opts.limits, maxBytes: Math.min(opts.limits.maxBytes, 256 * 1024 ** 2) },
        ...(opts.env ? { env: opts.env } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      if (isIntactError(e) && e.code === 'HTTP_STATUS' && (e.found === '404' || e.found === '403')) continue;
      throw e;
    }
    try {
      return (await v.decode(Buffer.concat(chunks))).toString('utf8');
    } catch (e) {
      throw new IntactError('DEB_INDEX_INVALID', `${url + v.suffix} could not be decompressed: ${(e as Error).message}`, {
        url: url + v.suffix,
        hint: 'the mirror may be mid-update; try again, or configure another mirror',
        cause: e,
      });
    }
  }
  return undefined;
}

async function unxzBuffer(b: Buffer): Promise<Buffer> {
  const { Readable } = await import('node:stream');
  const { pipeline } = await import('node:stream/promises');
  const { unxz } = await import('../extract/xz.js');
  const out: Buffer[] = [];
  await pipeline(Readable.from([b]), unxz(), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) out.push(Buffer.from(c));
  });
  return Buffer.concat(out);
}

/**
 * The stanzas of `text` whose `Package:` is `name`. The text is searched for the
 * field first, so a 50 MB index costs one scan, not a parse of every stanza.
 */
export function stanzasOf(text: string, name: string): Stanza[] {
  const out: Stanza[] = [];
  const needle = `Package: ${name}\n`;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) {
    if (i > 0 && text[i - 1] !== '\n') continue;
    // Both indexes start every stanza with its Package field.
    const end = text.indexOf('\n\n', i);
    out.push(parseStanza(text.slice(i, end < 0 ? text.length : end)));
  }
  return out;
}

export function parseStanza(block: string): Stanza {
  const s: Stanza = new Map();
  let key: string | undefined;
  for (const line of block.split('\n')) {
    if (/^[ \t]/.test(line) && key !== undefined) {
      s.set(key, `${s.get(key)}\n${line.trim()}`);
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) continue;
    key = line.slice(0, c).toLowerCase();
    s.set(key, line.slice(c + 1).trim());
  }
  return s;
}

export interface Where {
  root: string;
  suite: string;
  component: string;
}

/** Every (archive, suite, component) to search, in configuration order. */
export function places(archives: readonly DebArchive[]): Where[] {
  const out: Where[] = [];
  const seen = new Set<string>();
  for (const a of archives) {
    for (const suite of a.suites) {
      for (const component of a.components) {
        const k = `${a.uri} ${suite} ${component}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({ root: a.uri, suite, component });
      }
    }
  }
  return out;
}

export function packagesPath(w: Where, arch: string): string {
  return `dists/${w.suite}/${w.component}/binary-${arch}/Packages`;
}

export function sourcesPath(w: Where): string {
  return `dists/${w.suite}/${w.component}/source/Sources`;
}

/** The file of a binary package's stanza, checked to stay under the archive's pool. */
export function binaryFile(s: Stanza, url: string): IndexedFile {
  const path = s.get('filename');
  const size = Number(s.get('size'));
  const sha256 = s.get('sha256');
  if (path === undefined || !Number.isSafeInteger(size) || sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw invalid(url, `the stanza of ${s.get('package')} ${s.get('version')} has no Filename, Size or SHA256`);
  }
  return { path: checkedPoolPath(path, url), size, sha256 };
}

/** A file of a source package's stanza (Directory + Checksums-Sha256). */
export function sourceFile(s: Stanza, file: string, url: string): IndexedFile | undefined {
  const dir = s.get('directory');
  const sums = s.get('checksums-sha256');
  if (dir === undefined || sums === undefined) throw invalid(url, `the stanza of ${s.get('package')} ${s.get('version')} has no Directory or Checksums-Sha256`);
  for (const line of sums.split('\n')) {
    const [sha256, size, name] = line.trim().split(/\s+/);
    if (name !== file) continue;
    if (!/^[0-9a-f]{64}$/.test(sha256 ?? '') || !Number.isSafeInteger(Number(size))) throw invalid(url, `the checksum line of ${file} is malformed`);
    return { path: checkedPoolPath(`${dir}/${file}`, url), size: Number(size), sha256: sha256! };
  }
  return undefined;
}

/** The files a source package's stanza lists, by name (for messages). */
export function sourceFileNames(s: Stanza): string[] {
  return (s.get('checksums-sha256') ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[2])
    .filter((n): n is string => n !== undefined);
}

function checkedPoolPath(path: string, url: string): string {
  // Defence in depth: a hostile index must not point outside the archive's pool.
  if (!/^pool\/[A-Za-z0-9._+~%/-]+$/.test(path) || /(^|\/)\.\.?(\/|$)/.test(path)) {
    throw invalid(url, `it names the file ${JSON.stringify(path)}, which is not under the archive's pool/`);
  }
  return path;
}

function invalid(url: string, why: string): IntactError {
  return new IntactError('DEB_INDEX_INVALID', `the Debian index ${url} is not usable: ${why}`, {
    url,
    hint: 'the mirror may be broken or mid-update; try again later, or configure another mirror',
  });
}

/** Versions, newest first, without repeats. */
export function newestFirst(versions: Iterable<string>): string[] {
  return [...new Set(versions)].sort((a, b) => compareDebVersions(b, a));
}
