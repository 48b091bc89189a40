// `intact add <npm:pkg@version | git:url#commit | url>`: write recipes/<name>.yaml
// with the pinned source(s) and a build section to fill in, and lock that recipe
// alone. As with upgrade, the recipe is locked in a staged copy first; the recipe
// and the lock are written only once every source was fetched and pinned.
//
// npm packages: the full package document supplies license, description and
// homepage; with `platforms`, the per-platform packages among its
// optionalDependencies become one source per platform (platforms.ts).
// git: the version is --version, or the version tag that points at the commit.
// url: name and version are read from the file name (foo-1.2.3.tar.gz) unless given.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError, type Finding } from '../errors.js';
import { nearestVersions } from '../fetch/npm.js';
import { LOCK_FILE, serializeLock, type LockEntry } from '../lock/index.js';
import type { LockChange } from '../lock/relock.js';
import { classifyVersion, parseRecipe, RECIPE_NAME, RECIPES_DIR } from '../recipe/index.js';
import { exists } from '../fs-exists.js';
import { guessFromUrl, nameFromGitUrl, parseAddSpec, recipeNameFrom, upstreamOfDebVersion, type AddSpec } from './add-spec.js';
import { DEB_ARCH } from '../recipe/deb.js';
import type { Platform } from '../recipe/types.js';
import { checkLicense } from './license.js';
import { lockStaged, type LockDeps } from './lock-staged.js';
import { remoteTags } from './ls-remote.js';
import { declaredLicense, fetchPackument } from './packument.js';
import { platformPackages, ADD_PLATFORMS } from './platforms.js';
import { renderRecipe, type TemplateInput, type TemplateSource } from './recipe-template.js';
import { stageProject, writeProjectFiles } from './stage.js';
import { compareVersions, versionFromTag } from './versions.js';

export interface AddOptions {
  /** The argument: npm:pkg@version, git:url#commit or an http(s) URL. */
  spec: string;
  name?: string;
  version?: string;
  /** npm: one source per platform package (linux-x64, linux-arm64). */
  platforms?: boolean;
  lock: LockDeps;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface AddResult {
  /** False when the project's recipes stop locking (see findings); nothing was written. */
  ok: boolean;
  name: string;
  version: string;
  file: string;
  text: string;
  entry?: LockEntry;
  changes: LockChange[];
  findings: Finding[];
}

export async function add(projectDir: string, opts: AddOptions): Promise<AddResult> {
  const spec = parseAddSpec(opts.spec);
  if (opts.platforms && spec.kind !== 'npm') {
    throw new IntactError('USAGE', '--platforms is for npm packages that publish one package per platform', {
      hint: 'for other sources, write one source per platform by hand, each with `platforms: [...]`',
    });
  }
  const input = await describe(spec, opts);
  const name = opts.name ?? input.name;
  if (name === undefined || !RECIPE_NAME.test(name)) {
    throw new IntactError(
      name === undefined ? 'ADD_SPEC_INVALID' : 'USAGE',
      name === undefined ? `cannot tell a recipe name from ${opts.spec}` : `"${name}" is not a recipe name`,
      {
        hint: 'give --name <name>: lower-case letters, digits and . _ -',
      },
    );
  }
  const version = opts.version ?? input.version;
  if (version === undefined) {
    throw new IntactError('ADD_SPEC_INVALID', `cannot tell the version from ${opts.spec}`, { hint: 'give --version <exact upstream version>' });
  }
  const verdict = classifyVersion(version, 'recipe');
  if (!verdict.exact)
    throw new IntactError('VERSION_FLOATING', `the version "${version}" floats: ${verdict.reason ?? ''}`, {
      found: version,
      hint: verdict.hint ?? 'give an exact version',
    });

  const file = `${RECIPES_DIR}/${name}.yaml`;
  if (await exists(join(projectDir, file))) {
    throw new IntactError('RECIPE_EXISTS', `${file} already exists`, {
      file,
      hint: `to move it to another version: \`intact upgrade ${name} <version>\`; to add another package under a new name: --name`,
    });
  }
  const text = renderRecipe({ ...input, name, version, added: opts.spec });
  const parsed = parseRecipe(text, file);
  const bad = parsed.findings.find((f) => f.severity === 'error');
  if (bad) throw IntactError.fromFinding(bad);

  const lockBefore = await readFile(join(projectDir, LOCK_FILE), 'utf8').catch(() => undefined);
  const staged = await stageProject(projectDir);
  let locked;
  try {
    await staged.write(file, text);
    locked = await lockStaged(staged, [name], opts.lock, `add ${name}`);
  } finally {
    await staged.cleanup();
  }
  if (!locked.ok) return { ok: false, name, version, file, text, changes: [], findings: locked.findings };
  await writeProjectFiles(projectDir, [
    { rel: file, text, before: undefined },
    { rel: LOCK_FILE, text: serializeLock(locked.lock), before: lockBefore },
  ]);
  return { ok: true, name, version, file, text, entry: locked.lock.recipes[name]!, changes: locked.changes, findings: [] };
}

type Described = Omit<TemplateInput, 'name' | 'version' | 'added'> & { name?: string; version?: string };

async function describe(spec: AddSpec, opts: AddOptions): Promise<Described> {
  switch (spec.kind) {
    case 'url': {
      const g = guessFromUrl(spec.url);
      return { ...g, sources: [{ kind: 'url', value: spec.url }] };
    }
    case 'git': {
      const out: Described = { sources: [{ kind: 'git', value: spec.url, rev: spec.rev }] };
      const name = nameFromGitUrl(spec.url);
      if (name !== undefined) out.name = name;
      if (opts.version === undefined) {
        // The version tag that points at the commit, if the remote has one. The most
        // specific wins: `v1` beside `v1.4.2` is usually a major tag that moves.
        const tags = await remoteTags(spec.url, { ...(opts.env ? { env: opts.env } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
        const parts = (v: string): number => v.split(/[.]/).length;
        const versions = tags
          .filter((t) => t.commit === spec.rev)
          .flatMap((t) => versionFromTag(t.name, opts.name ?? name) ?? [])
          .sort((a, b) => parts(a) - parts(b) || compareVersions(a, b));
        if (versions.length > 0) out.version = versions.at(-1)!;
      }
      return out;
    }
    case 'npm':
      return describeNpm(spec, opts);
    case 'deb':
      return describeDeb(spec, opts);
    case 'debSource': {
      const out: Described = {
        sources: [{ kind: 'debSource', value: `${spec.spec.name}=${spec.spec.version}`, file: spec.file }],
        version: upstreamOfDebVersion(spec.spec.version),
      };
      const name = recipeNameFrom(spec.spec.name);
      if (name !== undefined) out.name = name;
      return out;
    }
  }
}

/**
 * A Debian binary package: one source per platform whose architecture the
 * archive's index has at that version (or the one architecture the spec
 * names); name, description and homepage from the index.
 */
async function describeDeb(spec: Extract<AddSpec, { kind: 'deb' }>, opts: AddOptions): Promise<Described> {
  const { debArchives } = await import('../fetch/deb/archives.js');
  const { findBinary } = await import('../fetch/deb/fetch.js');
  const fetch = opts.lock.fetch;
  const archives = debArchives(fetch.env);
  const common = { limits: fetch.limits, env: fetch.env, ...(opts.signal ? { signal: opts.signal } : {}) };
  const wanted: [Platform | undefined, string][] =
    spec.spec.arch !== undefined
      ? [[Object.entries(DEB_ARCH).find(([, a]) => a === spec.spec.arch)?.[0] as Platform | undefined, spec.spec.arch]]
      : ADD_PLATFORMS.flatMap((p) => (DEB_ARCH[p] !== undefined ? [[p, DEB_ARCH[p]!] as [Platform, string]] : []));
  const found: { platform: Platform | undefined; stanza: Map<string, string> }[] = [];
  let firstMiss: unknown;
  for (const [platform, arch] of wanted) {
    try {
      const hit = await findBinary(spec.spec, arch, archives, common);
      found.push({ platform, stanza: hit.stanza });
    } catch (e) {
      if (!(e instanceof IntactError) || e.code !== 'DEB_NOT_IN_INDEX') throw e;
      firstMiss ??= e;
    }
  }
  if (found.length === 0) throw firstMiss;
  const value = `${spec.spec.name}=${spec.spec.version}`;
  const out: Described = { version: upstreamOfDebVersion(spec.spec.version), sources: [] };
  const name = recipeNameFrom(spec.spec.name.replace(/-static$/, ''));
  if (name !== undefined) out.name = name;
  const first = found[0]!.stanza;
  const description = first.get('description')?.split('\n')[0];
  if (description) out.description = description;
  const homepage = first.get('homepage');
  if (homepage !== undefined && /^https?:\/\//.test(homepage)) out.homepage = homepage;
  const platforms = found.flatMap((f) => (f.platform !== undefined ? [f.platform] : []));
  if (spec.spec.arch !== undefined || platforms.length !== found.length) {
    out.sources = [{ kind: 'deb', value: `${spec.spec.name}:${spec.spec.arch}=${spec.spec.version}` }];
    return out;
  }
  out.platforms = platforms;
  out.sources = platforms.map((p): TemplateSource => ({ kind: 'deb', value, platforms: [p] }));
  return out;
}

async function describeNpm(spec: Extract<AddSpec, { kind: 'npm' }>, opts: AddOptions): Promise<Described> {
  const fetch = opts.lock.fetch;
  const doc = await fetchPackument(spec.pkg, await fetch.npmConfig(), {
    limits: fetch.limits,
    env: fetch.env,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const meta = doc.versions[spec.version];
  if (!meta) {
    const near = nearestVersions(Object.keys(doc.versions), spec.version);
    throw new IntactError(
      'NPM_VERSION_NOT_FOUND',
      `${spec.pkg}@${spec.version} is not published` + (near.length > 0 ? `; nearest versions: ${near.join(', ')}` : ''),
      {
        url: doc.url,
        found: spec.version,
        hint: near.length > 0 ? `pick a published version, e.g. npm:${spec.pkg}@${near.at(-1)}` : 'check the package name and the configured registry',
      },
    );
  }
  const out: Described = { version: spec.version, sources: [] };
  const name = recipeNameFrom(spec.pkg);
  if (name !== undefined) out.name = name;
  if (meta.description) out.description = meta.description;
  if (typeof meta.homepage === 'string' && /^https?:\/\//.test(meta.homepage)) out.homepage = meta.homepage;
  const license = declaredLicense(meta);
  if (license !== undefined) {
    if (checkLicense(license).ok) out.license = license;
    else out.licenseNote = license;
  }
  if (meta.bin !== undefined) out.binHint = typeof meta.bin === 'string' ? [meta.bin] : Object.entries(meta.bin).map(([k, v]) => `${k} -> ${v}`);
  if (!opts.platforms) {
    out.sources = [{ kind: 'npm', value: `${spec.pkg}@${spec.version}` }];
    return out;
  }
  const pkgs = platformPackages(meta.optionalDependencies ?? {}, spec.version);
  if (pkgs.length === 0) {
    const listed = Object.keys(meta.optionalDependencies ?? {});
    throw new IntactError('ADD_NO_PLATFORM_PACKAGES', `${spec.pkg}@${spec.version} lists no per-platform packages for ${ADD_PLATFORMS.join(' or ')}`, {
      found: listed.length > 0 ? listed.join(', ') : 'no optionalDependencies',
      hint: listed.length > 0 ? 'add the platform package itself: intact add npm:<package>@<version>' : 'add it without --platforms',
    });
  }
  out.platforms = pkgs.map((p) => p.platform);
  out.sources = pkgs.map((p): TemplateSource => ({ kind: 'npm', value: `${p.name}@${p.version}`, platforms: [p.platform] }));
  return out;
}
