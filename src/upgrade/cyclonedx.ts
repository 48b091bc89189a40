// CycloneDX 1.5 JSON for the locked set. Each recipe is a component (an
// application when it puts programs on PATH, else a library); its pinned sources
// are its sub-components, with hashes and, for npm, package URLs; the dependency
// graph is the recipes' `deps`. Written directly rather than through
// @cyclonedx/cyclonedx-library: the subset used is small and fixed, and the
// library's model classes and optional validator dependencies would cost more
// than the forty lines below.
import type { LockedSet, SbomHash, SbomRecipe, SbomSource } from './locked-set.js';

export interface DocumentInfo {
  /** The project's name (its folder). */
  project: string;
  toolVersion: string;
  /** RFC 4122 form; the same lock gives the same id. */
  uuid: string;
  timestamp: string;
}

const ALG: Record<SbomHash['algorithm'], string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

export function cycloneDx(set: LockedSet, info: DocumentInfo): Record<string, unknown> {
  const ref = (r: SbomRecipe): string => `recipe:${r.name}@${r.version}`;
  const byName = new Map(set.recipes.map((r) => [r.name, r]));
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${info.uuid}`,
    version: 1,
    metadata: {
      timestamp: info.timestamp,
      tools: { components: [{ type: 'application', name: 'intact', version: info.toolVersion }] },
      component: { type: 'application', 'bom-ref': 'project', name: info.project },
    },
    components: set.recipes.map((r) => ({
      type: r.application ? 'application' : 'library',
      'bom-ref': ref(r),
      name: r.name,
      version: r.version,
      ...(r.description ? { description: r.description } : {}),
      ...licenses(r),
      ...(r.homepage ? { externalReferences: [{ type: 'website', url: r.homepage }] } : {}),
      ...(Object.keys(r.outputs).length > 0 ? { properties: Object.entries(r.outputs).map(([p, h]) => ({ name: `intact:output:${p}`, value: h })) } : {}),
      ...(r.sources.length > 0 ? { components: r.sources.map((s, i) => source(s, `${ref(r)}#source-${i}`)) } : {}),
    })),
    dependencies: [
      { ref: 'project', dependsOn: set.recipes.map(ref) },
      ...set.recipes.map((r) => ({ ref: ref(r), dependsOn: r.deps.flatMap((d) => (byName.has(d) ? [ref(byName.get(d)!)] : [])) })),
    ],
  };
}

function licenses(r: SbomRecipe): Record<string, unknown> {
  if (r.license !== undefined) {
    const single = /^[A-Za-z0-9.-]+$/.test(r.license) && !/^LicenseRef-/.test(r.license);
    return { licenses: [single ? { license: { id: r.license } } : { expression: r.license }] };
  }
  if (r.licenseText !== undefined) return { licenses: [{ license: { name: r.licenseText } }] };
  return {};
}

function source(s: SbomSource, bomRef: string): Record<string, unknown> {
  const props: { name: string; value: string }[] = [];
  if (s.hashOf) props.push({ name: 'intact:hash-of', value: s.hashOf });
  if (s.platforms) props.push({ name: 'intact:platforms', value: s.platforms.join(',') });
  const refs: { type: string; url: string }[] = [];
  if (s.kind === 'url' && s.location) refs.push({ type: 'distribution', url: s.location });
  if (s.kind === 'git' && s.location) refs.push({ type: 'vcs', url: s.location });
  const scoped = s.kind === 'npm' && s.name.startsWith('@') && s.name.includes('/');
  return {
    type: s.kind === 'file' ? 'file' : 'library',
    'bom-ref': bomRef,
    ...(scoped ? { group: s.name.slice(0, s.name.indexOf('/')), name: s.name.slice(s.name.indexOf('/') + 1) } : { name: s.name }),
    ...(s.version !== undefined ? { version: s.version } : {}),
    ...(s.purl ? { purl: s.purl } : {}),
    hashes: s.hashes.map((h) => ({ alg: ALG[h.algorithm], content: h.hex })),
    ...(refs.length > 0 ? { externalReferences: refs } : {}),
    ...(props.length > 0 ? { properties: props } : {}),
  };
}
