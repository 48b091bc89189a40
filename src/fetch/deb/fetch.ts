// The Debian source kinds: a binary package (`deb`) or a file of a source
// package (`debSource` + `debFile`). A pinned source carries its path under
// the archive's root (`debPath`, from the lock), asked of every configured
// mirror in order, like a url source's mirrors, against the same hash. A first
// lock finds the path, size and sha256 in the archive's index (indexes.ts);
// the download must match that sha256, and is pinned by its own sha512.
import { IntactError, isIntactError } from '../../errors.js';
import { debArchOf, parseDebBinary, parseDebSource, renderDebBinary, type DebBinarySpec, type DebSourceSpec } from '../../recipe/deb.js';
import type { DebSource, DebSourceFile } from '../../recipe/types.js';
import type { DownloadCache, Ingested } from '../cache.js';
import { toSri } from '../sri.js';
import type { FetchLimits, FetchProgress } from '../types.js';
import { fetchUrl } from '../url.js';
import { debArchives, mirrorRoots, type DebArchive } from './archives.js';
import {
  binaryFile,
  indexText,
  newestFirst,
  packagesPath,
  places,
  sourceFile,
  sourceFileNames,
  sourcesPath,
  stanzasOf,
  type IndexedFile,
  type Stanza,
} from './indexes.js';

/** What the lock knows of a Debian source besides its hash. */
export interface DebPin {
  integrity?: string;
  debPath?: string;
  size?: number;
}

export interface DebFetchOptions {
  limits: FetchLimits;
  env: NodeJS.ProcessEnv;
  id: string;
  signal?: AbortSignal;
  onEvent?: FetchProgress;
}

export interface FetchedDeb extends Ingested {
  debPath: string;
  size: number;
}

export async function fetchDeb(src: DebSource | DebSourceFile, pin: DebPin | undefined, cache: DownloadCache, opts: DebFetchOptions): Promise<FetchedDeb> {
  const archives = debArchives(opts.env);
  const what = 'deb' in src ? `Debian package ${src.deb}` : `${src.debFile} of Debian source package ${src.debSource}`;
  let path = pin?.debPath;
  let size = pin?.size;
  let expected = pin?.integrity ?? src.integrity;
  if (path === undefined) {
    const found = await locate(src, archives, opts);
    path = found.path;
    size = found.size;
    expected ??= toSri('sha256', Buffer.from(found.sha256, 'hex'));
  }
  const urls = mirrorRoots(archives).map((root) => `${root}/${path}`);
  try {
    const got = await fetchUrl(urls, cache, {
      ...(expected !== undefined ? { expected } : {}),
      algorithm: 'sha512',
      // The index said how large the file is: nothing past that is read.
      limits: size === undefined ? opts.limits : { ...opts.limits, maxBytes: Math.min(opts.limits.maxBytes, size) },
      env: opts.env,
      id: opts.id,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    });
    return { ...got, debPath: path, size: size ?? got.bytes };
  } catch (e) {
    if (pin?.debPath !== undefined && everyLocationMissing(e)) throw gone(what, path, urls, e);
    throw e;
  }
}

function everyLocationMissing(e: unknown): boolean {
  if (!isIntactError(e)) return false;
  const all = Array.isArray(e.cause) ? (e.cause as unknown[]) : [e];
  return all.every((x) => isIntactError(x) && x.code === 'HTTP_STATUS' && (x.found === '404' || x.found === '410'));
}

function gone(what: string, path: string, urls: readonly string[], cause: unknown): IntactError {
  return new IntactError(
    'DEB_GONE',
    `${what} is pinned, but no configured Debian archive has it any more (${path}; asked ${urls.length} location${urls.length === 1 ? '' : 's'})`,
    {
      url: urls[0],
      cause,
      hint:
        'an ordinary mirror keeps only the current version of a package, and a point release replaced this one. ' +
        'Either upgrade the recipe in a reviewed change (`intact outdated` shows the version the archive has now; `intact upgrade NAME VERSION`), ' +
        "or add an archive that keeps every published version (a snapshot archive) to INTACT_DEB_SOURCES or apt's sources: the lock's hash makes any archive safe to use",
    },
  );
}

/** Where the index says the source's file is. */
async function locate(src: DebSource | DebSourceFile, archives: readonly DebArchive[], opts: DebFetchOptions): Promise<IndexedFile> {
  if ('deb' in src) {
    const parsed = parseDebBinary(src.deb);
    if (!parsed.ok) throw new IntactError('DEB_SPEC_FLOATING', `Debian package "${src.deb}": ${parsed.verdict.reason}`, { hint: parsed.verdict.hint ?? '' });
    const arch = debArchOf(parsed.spec, src.platforms);
    if (arch === undefined) {
      throw new IntactError('DEB_ARCH_UNKNOWN', `Debian package "${src.deb}" has no architecture`, {
        hint: 'give the source one platform, or write name:arch=version',
      });
    }
    return findBinary(parsed.spec, arch, archives, opts);
  }
  const parsed = parseDebSource(src.debSource);
  if (!parsed.ok)
    throw new IntactError('DEB_SPEC_FLOATING', `Debian source package "${src.debSource}": ${parsed.verdict.reason}`, { hint: parsed.verdict.hint ?? '' });
  return findSourceFile(parsed.spec, src.debFile, archives, opts);
}

/** Architectures whose index may list a package of `arch` (arch: all is listed in every binary index). */
function indexArchs(arch: string): string[] {
  return arch === 'all' ? ['all', 'amd64', 'arm64'] : [arch];
}

export async function findBinary(
  spec: DebBinarySpec,
  arch: string,
  archives: readonly DebArchive[],
  opts: Omit<DebFetchOptions, 'id'>,
): Promise<IndexedFile & { stanza: Stanza }> {
  const seen: string[] = [];
  for (const w of places(archives)) {
    for (const a of indexArchs(arch)) {
      const rel = packagesPath(w, a);
      const text = await indexText(w.root, rel, opts);
      if (text === undefined) continue;
      for (const s of stanzasOf(text, spec.name)) {
        const v = s.get('version') ?? '';
        const sArch = s.get('architecture');
        if (sArch !== arch && !(arch !== 'all' && sArch === 'all')) continue;
        if (v === spec.version) return { ...binaryFile(s, `${w.root}/${rel}`), stanza: s };
        seen.push(v);
      }
    }
  }
  throw notInIndex(renderDebBinary(spec, arch), seen, archives);
}

export async function findSourceFile(
  spec: DebSourceSpec,
  file: string,
  archives: readonly DebArchive[],
  opts: Omit<DebFetchOptions, 'id'>,
): Promise<IndexedFile> {
  const seen: string[] = [];
  for (const w of places(archives)) {
    const rel = sourcesPath(w);
    const text = await indexText(w.root, rel, opts);
    if (text === undefined) continue;
    for (const s of stanzasOf(text, spec.name)) {
      const v = s.get('version') ?? '';
      if (v !== spec.version) {
        seen.push(v);
        continue;
      }
      const f = sourceFile(s, file, `${w.root}/${rel}`);
      if (f) return f;
      throw new IntactError('DEB_NOT_IN_INDEX', `Debian source package ${spec.name}=${spec.version} has no file ${file}`, {
        url: `${w.root}/${rel}`,
        hint: `its files are: ${sourceFileNames(s).join(', ')}`,
      });
    }
  }
  throw notInIndex(`source package ${spec.name}=${spec.version}`, seen, archives);
}

/** Every version the configured archives list for a binary package (or, with arch 'source', a source package), newest first. */
export async function listVersions(name: string, arch: string, archives: readonly DebArchive[], opts: Omit<DebFetchOptions, 'id'>): Promise<string[]> {
  const out: string[] = [];
  for (const w of places(archives)) {
    const rels = arch === 'source' ? [sourcesPath(w)] : indexArchs(arch).map((a) => packagesPath(w, a));
    for (const rel of rels) {
      const text = await indexText(w.root, rel, opts);
      if (text === undefined) continue;
      for (const s of stanzasOf(text, name)) {
        const sArch = s.get('architecture');
        if (arch === 'source' || sArch === arch || sArch === 'all') out.push(s.get('version') ?? '');
      }
    }
  }
  return newestFirst(out.filter((v) => v !== ''));
}

function notInIndex(what: string, seen: readonly string[], archives: readonly DebArchive[]): IntactError {
  const versions = newestFirst(seen);
  return new IntactError(
    'DEB_NOT_IN_INDEX',
    `${what} is not in the configured Debian archive${versions.length > 0 ? ` (it has ${versions.join(', ')})` : ''}`,
    {
      url: archives[0]?.uri,
      hint:
        versions.length > 0
          ? 'pin a version the archive has, or add an archive that keeps old versions (a snapshot archive) to INTACT_DEB_SOURCES'
          : `check the package name and architecture; the archives searched are configured in ${archives.map((a) => a.from).join(', ')}`,
    },
  );
}
