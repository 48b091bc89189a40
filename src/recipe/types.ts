// The recipe model: what one `recipes/<name>.yaml` says, after validation.
// schema/recipe.schema.json is the one source of truth for the shape; these
// types mirror it for the compiler.

import { PLATFORMS, type Platform } from '../platform.js';
import type { LimitName } from './limits.js';
export { PLATFORMS, type Platform };

interface SourceCommon {
  /** SRI string (sha256/384/512); when present the lock must agree with it. */
  integrity?: string;
  /** Leading path components to drop when unpacking. */
  strip?: number;
  /** false: the verified file lands under `$src` as it is, for a build step to unpack. */
  unpack?: false;
  /** A file inside the fetched archive to unpack instead of the archive itself. */
  archive?: string;
  /** The SRI of the nested archive's own bytes, checked before it is unpacked. */
  archiveIntegrity?: string;
  /** Where the unpacked content lands under `$src`. */
  path?: string;
  /** The platforms this source is for; absent means every platform of the recipe. */
  platforms?: Platform[];
}

export interface UrlSource extends SourceCommon {
  url: string;
  /** Other locations of the same bytes, tried in order, checked against the same hash. */
  mirrors?: string[];
}

export interface NpmSource extends SourceCommon {
  /** `package@exact-version`, resolved against the user's configured registry. */
  npm: string;
}

export interface GitSource extends SourceCommon {
  git: string;
  /** A full commit id: 40 (sha1) or 64 (sha256) lowercase hex digits. */
  rev: string;
}

export interface FileSource extends SourceCommon {
  /** A path inside the project repository (vendored sources). */
  file: string;
}

/** A Debian binary package: `name[:arch]=version` (src/recipe/deb.ts). */
export interface DebSource extends SourceCommon {
  deb: string;
}

/** A file of a Debian source package: `debSource: name=version` and `debFile`. */
export interface DebSourceFile extends SourceCommon {
  debSource: string;
  /** The file's name as the Sources index lists it, e.g. busybox_1.35.0.orig.tar.bz2. */
  debFile: string;
}

export type Source = UrlSource | NpmSource | GitSource | FileSource | DebSource | DebSourceFile;
export type SourceKind = 'url' | 'npm' | 'git' | 'file' | 'deb' | 'debSource';

export function sourceKind(s: Source): SourceKind {
  if ('url' in s) return 'url';
  if ('npm' in s) return 'npm';
  if ('git' in s) return 'git';
  if ('deb' in s) return 'deb';
  if ('debSource' in s) return 'debSource';
  return 'file';
}

export type Step =
  | { run: string[]; cwd?: string }
  | { script: string; shell: string; cwd?: string }
  | { copy: string; to: string }
  | { symlink: string; target: string }
  | { write: string; content: string; executable?: boolean }
  | { chmod: string; mode: string }
  | { patch: string; strip?: number; cwd?: string }
  | { env: Record<string, string> }
  | { mkdir: string };

/**
 * Where `intact outdated` looks for newer versions when the sources cannot tell:
 * an index page, and a pattern whose one capture group is a version. Read-only.
 */
export interface Watch {
  /** An http(s) URL of a page that lists the releases. */
  url: string;
  /** A JavaScript regular expression with exactly one capture group (the version). */
  pattern: string;
}

export interface Recipe {
  name: string;
  version: string;
  description?: string;
  license?: string;
  homepage?: string;
  platforms?: Platform[];
  sources?: Source[];
  /** Other recipes, as exact `name@version`: built for the target platform (libraries linked in). */
  deps?: string[];
  /** Recipes whose programs run during the build, built for the build machine (Nix's nativeBuildInputs). */
  tools?: string[];
  /** A dependency whose bin/ folder the full sandbox shows at /bin and /usr/bin (/bin/sh, /usr/bin/env). */
  sandboxBin?: string;
  build?: Step[];
  /** Paths under `$out` to put on the user's PATH. */
  bin?: string[];
  /** Where `intact outdated` looks for newer versions (see Watch). */
  watch?: Watch;
  /** The build's own limits within their bounds, e.g. `{ time: 4h, processes: 8192 }` (src/recipe/limits.ts). */
  limits?: Partial<Record<LimitName, string | number>>;
}

/** Every direct dependency, tools first: the edges of the graph and of the lock. */
export function allDeps(r: Recipe): string[] {
  return [...(r.tools ?? []), ...(r.deps ?? [])];
}

/** The platforms a recipe builds for; the default is linux-x64. */
export function recipePlatforms(r: Recipe): Platform[] {
  return r.platforms ?? ['linux-x64'];
}

/** A recipe as loaded from disk: the model plus where it came from. */
export interface LoadedRecipe {
  recipe: Recipe;
  /** Project-relative path, e.g. `recipes/sqlite.yaml` (always forward slashes). */
  file: string;
  /** Locates a field of the recipe in its file, for error messages. */
  locate(path: readonly (string | number)[], key?: boolean): { line: number; col: number } | undefined;
}
