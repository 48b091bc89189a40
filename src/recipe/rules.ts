// The rules JSON Schema cannot say well: no floating version anywhere, only strong
// pins, and references that stay inside the repository. Pure: works on the parsed
// recipe and reports findings at the field's line and column.
import { finding, type ErrorCode, type Finding } from '../errors.js';
import { classifyDep, classifyGitRev, classifyNpmSpec, classifyVersion, type VersionVerdict } from './exact.js';
import { DEB_ARCH, debArchOf, debFileReason, parseDebBinary, parseDebSource } from './deb.js';
import { classifyIntegrity } from './integrity.js';
import { parseLimitValue } from './limits.js';
import { hasCredentials, redactUrls } from './url-secrets.js';
import { fieldName } from './schema.js';
import type { Platform, Recipe } from './types.js';
import type { FieldPath, Locator } from './yaml.js';

/**
 * Also run on recipes that failed the schema (to report everything at once), so
 * every access here is guarded: non-strings and non-lists are the schema's to report.
 */
export function checkRules(recipe: Recipe, file: string, locate: Locator): Finding[] {
  const out: Finding[] = [];
  const report = (code: ErrorCode, path: FieldPath, message: string, hint: string | undefined, found?: string): void => {
    out.push(finding(code, message, { file, ...locate(path), field: fieldName(path), hint, found }));
  };
  const floating = (code: ErrorCode, path: FieldPath, what: string, v: VersionVerdict, found: string): void => {
    report(code, path, `${what} floats: ${v.reason}`, v.hint, found);
  };

  const version = classifyVersion(recipe.version, 'recipe');
  if (typeof recipe.version === 'string' && !version.exact) floating('VERSION_FLOATING', ['version'], 'the recipe version', version, String(recipe.version));

  // The shape is the schema's; the bounds (24h, 1GiB...) are checked here, at the value's line.
  if (recipe.limits && typeof recipe.limits === 'object') {
    for (const [name, value] of Object.entries(recipe.limits)) {
      const r = parseLimitValue(name, value);
      if (!r.ok && r.pastBound) report('RECIPE_SCHEMA', ['limits', name], r.reason, r.hint, String(value));
    }
  }

  for (const field of ['tools', 'deps'] as const) {
    list(recipe[field]).forEach((dep, i) => {
      if (typeof dep !== 'string') return;
      const v = classifyDep(dep);
      if (!v.exact) floating('VERSION_FLOATING', [field, i], `dependency "${dep}"`, v, dep);
    });
  }
  // A tool runs on the build machine; a dep is built for the target. One recipe
  // cannot be both in one build (it would be two builds under one name).
  const toolNames = new Set(list(recipe.tools).flatMap((d) => (typeof d === 'string' ? [nameOf(d)] : [])));
  list(recipe.deps).forEach((dep, i) => {
    if (typeof dep === 'string' && toolNames.has(nameOf(dep)))
      report(
        'DEP_UNKNOWN',
        ['deps', i],
        `${nameOf(dep)} is in both tools and deps`,
        'keep it in tools if its programs run during the build, in deps if it is linked into the output',
        dep,
      );
  });
  // /bin in the sandbox holds programs that run during the build: a tool's.
  if (typeof recipe.sandboxBin === 'string' && !toolNames.has(recipe.sandboxBin)) {
    report(
      'DEP_UNKNOWN',
      ['sandboxBin'],
      `sandboxBin names ${recipe.sandboxBin}, which is not in tools`,
      `add ${recipe.sandboxBin}@<version> to tools, or name a recipe that is there`,
      recipe.sandboxBin,
    );
  }

  const declared = new Set<Platform>(list(recipe.platforms).length > 0 ? list(recipe.platforms) : ['linux-x64']);
  list(recipe.sources).forEach((src, i) => {
    if (!src || typeof src !== 'object') return;
    if ('npm' in src && typeof src.npm === 'string') {
      const v = classifyNpmSpec(src.npm);
      if (!v.exact) floating('NPM_SPEC_FLOATING', ['sources', i, 'npm'], `npm source "${src.npm}"`, v, src.npm);
    }
    if ('git' in src && typeof src.git === 'string' && typeof src.rev === 'string') {
      const v = classifyGitRev(src.rev);
      if (!v.exact) floating('GIT_REV_FLOATING', ['sources', i, 'rev'], `git rev of ${src.git}`, v, String(src.rev));
    }
    if ('deb' in src && typeof src.deb === 'string') {
      const r = parseDebBinary(src.deb);
      if (!r.ok) floating('DEB_SPEC_FLOATING', ['sources', i, 'deb'], `Debian package "${src.deb}"`, r.verdict, src.deb);
      else if (debArchOf(r.spec, list(src.platforms).length > 0 ? list(src.platforms) : [...declared]) === undefined) {
        const linux = Object.keys(DEB_ARCH).join(', ');
        report(
          'DEB_ARCH_UNKNOWN',
          ['sources', i, 'deb'],
          `Debian package "${src.deb}" has no architecture: the source is for ${list(src.platforms).length > 0 ? list(src.platforms).join(', ') : [...declared].join(', ')}`,
          `give the source one platform (\`platforms: [linux-x64]\`; Debian architectures exist for ${linux}), one source per platform, or write the architecture: ${r.spec.name}:amd64=${r.spec.version} (or :all)`,
        );
      }
    }
    if ('debSource' in src && typeof src.debSource === 'string') {
      const r = parseDebSource(src.debSource);
      if (!r.ok) floating('DEB_SPEC_FLOATING', ['sources', i, 'debSource'], `Debian source package "${src.debSource}"`, r.verdict, src.debSource);
      const why = typeof src.debFile === 'string' ? debFileReason(src.debFile) : undefined;
      if (why !== undefined)
        report(
          'RECIPE_SCHEMA',
          ['sources', i, 'debFile'],
          `\`debFile\` is refused: ${why}`,
          'write the file name alone, e.g. busybox_1.35.0.orig.tar.bz2',
          String(src.debFile),
        );
    }
    // Secrets: a URL is written to intact.lock and printed; credentials in it
    // would be published with the repository. Mirrors are URLs too.
    const urls: [FieldPath, unknown][] = [];
    if ('url' in src) urls.push([['sources', i, 'url'], src.url]);
    if ('url' in src) list(src.mirrors).forEach((m, j) => urls.push([['sources', i, 'mirrors', j], m]));
    for (const [path, u] of urls) {
      if (typeof u === 'string' && hasCredentials(u)) {
        report(
          'URL_INVALID',
          path,
          `${fieldName(path)} carries credentials (user:password@), which would be written to intact.lock`,
          'remove them from the URL: give a token through a proxy or a netrc-free header instead, never in the recipe',
          redactUrls(u),
        );
      }
    }
    for (const field of ['integrity', 'archiveIntegrity'] as const) {
      const value = src[field];
      if (typeof value !== 'string') continue;
      const v = classifyIntegrity(value);
      if (!v.ok) {
        report(v.weak ? 'INTEGRITY_WEAK' : 'INTEGRITY_MALFORMED', ['sources', i, field], `${field} is refused: ${v.reason}`, v.hint, String(value));
      }
    }
    list(src.platforms).forEach((p, j) => {
      if (!declared.has(p)) {
        report(
          'PLATFORM_UNDECLARED',
          ['sources', i, 'platforms', j],
          `source platform ${p} is not among the recipe's platforms (${[...declared].join(', ')})`,
          `add ${p} to the recipe's \`platforms:\`, or remove it here`,
        );
      }
    });
  });

  // The other way round: when every source is for some platforms only, each
  // declared platform needs one, or its build would start from nothing.
  const sources = list(recipe.sources).filter((src) => src && typeof src === 'object');
  if (sources.length > 0 && sources.every((src) => list(src.platforms).length > 0)) {
    const explicit = list(recipe.platforms);
    for (const p of declared) {
      if (sources.some((src) => list(src.platforms).includes(p))) continue;
      const at = explicit.indexOf(p);
      report(
        'PLATFORM_NO_SOURCE',
        at >= 0 ? ['platforms', at] : ['sources'],
        `platform ${p} is declared, but every source is for other platforms`,
        `add a source for ${p} (with \`platforms: [${p}]\`), or remove ${p} from the recipe's \`platforms:\``,
      );
    }
  }
  return out;
}

function list<T>(v: T[] | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

/** The name part of `name@version` (the whole text when it has no @). */
function nameOf(spec: string): string {
  const at = spec.lastIndexOf('@');
  return at > 0 ? spec.slice(0, at) : spec;
}
