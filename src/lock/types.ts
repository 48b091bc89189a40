// The lockfile model (intact.lock). One entry per recipe, keyed by recipe name.
// Everything here is data that `intact lock` wrote and `verify`/`install` read.
import type { Platform, SourceKind } from '../recipe/types.js';

/**
 * The format `intact lock` writes. Version 1 also recorded each entry's whole
 * `closure`, which grew as recipes × closure size; version 2 derives it from
 * `deps` (src/lock/closure.ts). Both are read; a version 1 `closure` is checked
 * for shape and dropped.
 */
export const LOCKFILE_VERSION = 2;

/** One source of a recipe, pinned. Sources are listed in the recipe's order. */
export interface LockedSource {
  kind: SourceKind;
  /** url: the primary URL; mirrors as given by the recipe. */
  url?: string;
  mirrors?: string[];
  /** npm: the package spec, never a registry URL, so any registry mirror serves it. */
  npm?: string;
  /** git: remote URL and full commit id. */
  git?: string;
  rev?: string;
  /** file: project-relative path. */
  file?: string;
  /** deb: the binary package as the recipe pins it, `name[:arch]=version`. */
  deb?: string;
  /** debSource: the source package, `name=version`, and the file of it. */
  debSource?: string;
  debFile?: string;
  /**
   * deb, debSource: the file's path under an archive's root (`pool/main/…`),
   * read from the archive's index at lock time. Never a host: every configured
   * archive is asked for this path, so the lock works with any Debian mirror.
   */
  debPath?: string;
  /**
   * deb, debSource: the file's size in bytes, from the index; url: the size of the
   * bytes that were pinned. A download stops past it.
   */
  size?: number;
  /**
   * SRI of the fetched bytes (sha512 for new pins). For a git source, the SRI of
   * the deterministic export of the commit's tree (see docs/sources.md).
   */
  integrity: string;
  /** With a nested `archive`: its path inside the source, and the SRI of its bytes. */
  archive?: string;
  archiveIntegrity?: string;
  /**
   * Tree hash of the unpacked content (as a build's $src would hold it), so
   * `verify --fetch` can tell "upstream regenerated the archive, same content"
   * from "the content changed".
   */
  tree?: string;
  platforms?: Platform[];
}

export interface LockEntry {
  version: string;
  /** sha256 SRI of the recipe's canonical form plus every repository file it references. */
  recipeHash: string;
  /** Each referenced repository file (patches, file sources): path → sha256 SRI. */
  files?: Record<string, string>;
  sources: LockedSource[];
  /** Direct dependencies, `name@version`, sorted; the closure follows from them. */
  deps: string[];
  /**
   * The store key of this recipe on each platform it can be planned for from the
   * lock (src/lock/keys.ts); written by every `intact lock`, checked by `verify`.
   */
  keys?: Partial<Record<Platform, string>>;
  /** Output tree hash, recorded only by an explicit `intact lock --outputs`. */
  output?: Partial<Record<Platform, string>>;
}

/** How a pinned source is named in messages and summaries. */
export function pinLabel(p: LockedSource): string {
  if (p.deb !== undefined) return `deb:${p.deb}`;
  if (p.debSource !== undefined) return `debSource:${p.debSource}/${p.debFile ?? ''}`;
  return p.npm ?? p.url ?? (p.git !== undefined ? `${p.git}#${p.rev ?? ''}` : (p.file ?? ''));
}

export interface Lockfile {
  lockfileVersion: number;
  recipes: Record<string, LockEntry>;
}
