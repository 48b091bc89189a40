// The locked set, as an SBOM describes it: every recipe at its version with its
// license and dependencies, and every pinned source with its hashes (SRI → hex)
// and, for npm sources, its package URL. Read from the recipes and a lock that
// must be current: an SBOM of a stale lock would describe something that is not
// what `install` builds.
import { byCodePoint } from '../canonical-json.js';
import { finding, IntactError, type Finding } from '../errors.js';
import { checkLock, LOCK_FILE, projectState, readLock, type LockedSource } from '../lock/index.js';
import { splitSpec } from '../recipe/index.js';
import { parseDebBinary, parseDebSource } from '../recipe/deb.js';
import type { Platform } from '../recipe/types.js';
import { checkLicense, licenseHint } from './license.js';

export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

export interface SbomHash {
  algorithm: HashAlgorithm;
  hex: string;
}

export interface SbomSource {
  kind: LockedSource['kind'];
  /** For npm: the package name; url: the file name; git: the repository; file: the path. */
  name: string;
  /** npm: the package version; git: the commit. */
  version?: string;
  purl?: string;
  /** Where it is fetched from (url, git), when that is a location. */
  location?: string;
  hashes: SbomHash[];
  /** What the hash is of, when it is not the fetched file's bytes. */
  hashOf?: string;
  platforms?: Platform[];
}

export interface SbomRecipe {
  name: string;
  version: string;
  description?: string;
  /** The SPDX expression, when the recipe's license is one. */
  license?: string;
  /** A license the recipe names that is not SPDX. */
  licenseText?: string;
  homepage?: string;
  /** Recipes with programs are applications; the others libraries. */
  application: boolean;
  /** Direct dependencies, by name. */
  deps: string[];
  sources: SbomSource[];
  outputs: Partial<Record<Platform, string>>;
}

export interface LockedSet {
  recipes: SbomRecipe[];
  /** The lock's text, hashed for the document's stable identity. */
  lockText: string;
  warnings: Finding[];
}

export async function lockedSet(projectDir: string): Promise<LockedSet> {
  const [project, read] = await Promise.all([projectState(projectDir), readLock(projectDir)]);
  const errors = project.findings.filter((f) => f.severity === 'error');
  if (errors.length > 0) throw IntactError.fromFindings(errors);
  if (!read) throw new IntactError('LOCK_MISSING', `there is no ${LOCK_FILE}`, { file: LOCK_FILE, hint: 'run `intact lock` and commit intact.lock' });
  const stale = checkLock({ recipes: project.states, graph: project.graph, lock: read.lock, lockText: read.text });
  if (stale.length > 0) {
    throw new IntactError('NOT_LOCKED', `${LOCK_FILE} is not current (${stale[0]!.message}), so an SBOM of it would not describe what install builds`, {
      file: LOCK_FILE,
      hint: 'run `intact lock` and commit intact.lock; `intact verify` shows every difference',
    });
  }
  const warnings: Finding[] = [];
  const recipes: SbomRecipe[] = [];
  for (const s of [...project.states].sort((a, b) => byCodePoint(a.loaded.recipe.name, b.loaded.recipe.name))) {
    const { recipe, file } = s.loaded;
    const entry = read.lock.recipes[recipe.name]!;
    const r: SbomRecipe = {
      name: recipe.name,
      version: recipe.version,
      application: (recipe.bin ?? []).length > 0,
      deps: entry.deps.map((d) => splitSpec(d)?.name ?? d),
      sources: entry.sources.map(sourceOf),
      outputs: entry.output ?? {},
    };
    if (recipe.description) r.description = recipe.description;
    if (recipe.homepage) r.homepage = recipe.homepage;
    if (recipe.license !== undefined) {
      const v = checkLicense(recipe.license);
      if (v.ok) r.license = recipe.license;
      else {
        r.licenseText = recipe.license;
        warnings.push(
          finding('LICENSE_UNKNOWN', `license of ${recipe.name}: ${v.reason}; the SBOM records it as a license name`, {
            file,
            ...s.loaded.locate(['license']),
            field: 'license',
            found: recipe.license,
            hint: licenseHint(recipe.license),
          }),
        );
      }
    }
    recipes.push(r);
  }
  return { recipes, lockText: read.text, warnings };
}

function sourceOf(p: LockedSource): SbomSource {
  const out: SbomSource = { kind: p.kind, name: '', hashes: hashesOf(p.integrity) };
  if (p.platforms) out.platforms = p.platforms;
  if (p.npm !== undefined) {
    const spec = splitSpec(p.npm);
    out.name = spec?.name ?? p.npm;
    if (spec) {
      out.version = spec.version;
      out.purl = npmPurl(spec.name, spec.version);
    }
  } else if (p.url !== undefined) {
    out.name = decodeURIComponent(new URL(p.url).pathname.split('/').filter(Boolean).pop() ?? p.url);
    out.location = p.url;
  } else if (p.git !== undefined) {
    out.name =
      p.git
        .replace(/\/+$/, '')
        .split(/[/:]/)
        .pop()!
        .replace(/\.git$/, '') || p.git;
    out.location = p.git;
    if (p.rev !== undefined) out.version = p.rev;
    out.hashOf = 'intact deterministic tar export of the commit tree (docs/sources.md)';
  } else if (p.deb !== undefined || p.debSource !== undefined) {
    const parsed = p.deb !== undefined ? parseDebBinary(p.deb) : parseDebSource(p.debSource!);
    if (parsed.ok) {
      out.name = parsed.spec.name;
      out.version = parsed.spec.version;
      const arch = p.debPath !== undefined ? /_([a-z0-9-]+)\.deb$/.exec(p.debPath)?.[1] : undefined;
      const qualifiers = p.deb !== undefined ? (arch !== undefined ? `?arch=${arch}` : '') : '?arch=source';
      out.purl = `pkg:deb/debian/${parsed.spec.name}@${encodeURIComponent(parsed.spec.version)}${qualifiers}`;
    } else out.name = p.deb ?? p.debSource ?? '';
    if (p.debFile !== undefined) out.hashOf = `the file ${p.debFile} of the source package`;
  } else {
    out.name = p.file ?? '';
    out.hashOf = 'the file in the repository (a folder: its deterministic tar export)';
  }
  return out;
}

/** `pkg:npm/%40scope/name@1.2.3`, as the purl spec writes npm packages. */
export function npmPurl(name: string, version: string): string {
  const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const slash = name.indexOf('/');
  const path = name.startsWith('@') && slash > 0 ? `${enc(name.slice(0, slash))}/${enc(name.slice(slash + 1))}` : enc(name);
  return `pkg:npm/${path}@${enc(version)}`;
}

/** An SRI string's hashes as hex digests. */
export function hashesOf(sri: string): SbomHash[] {
  const out: SbomHash[] = [];
  for (const token of sri.trim().split(/\s+/)) {
    const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(token);
    if (m) out.push({ algorithm: m[1] as HashAlgorithm, hex: Buffer.from(m[2]!, 'base64').toString('hex') });
  }
  return out;
}
