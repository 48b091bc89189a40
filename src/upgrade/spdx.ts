// SPDX 2.3 JSON for the locked set. Each recipe is a package the document
// DESCRIBES; each pinned source is a package the recipe is GENERATED_FROM, with
// its checksums and, for npm, a purl external reference; recipe dependencies are
// DEPENDS_ON relationships. A recipe license that is not SPDX becomes a
// LicenseRef with the recipe's text as its extracted text. Written directly: no
// maintained SPDX 2.3 writer for Node fits better than the shape below.
import type { DocumentInfo } from './cyclonedx.js';
import type { LockedSet, SbomHash, SbomSource } from './locked-set.js';

const ALG: Record<SbomHash['algorithm'], string> = { sha256: 'SHA256', sha384: 'SHA384', sha512: 'SHA512' };

/** SPDX identifiers allow letters, digits, "." and "-" only. */
function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, '-');
}

export function spdx(set: LockedSet, info: DocumentInfo): Record<string, unknown> {
  const used = new Set<string>();
  const unique = (id: string): string => {
    let out = id;
    for (let i = 2; used.has(out); i++) out = `${id}-${i}`;
    used.add(out);
    return out;
  };
  const recipeIds = new Map(set.recipes.map((r) => [r.name, unique(`SPDXRef-Recipe-${idPart(r.name)}`)]));
  const packages: Record<string, unknown>[] = [];
  const relationships: Record<string, unknown>[] = [];
  const extracted = new Map<string, { licenseId: string; extractedText: string; name: string }>();

  for (const r of set.recipes) {
    const id = recipeIds.get(r.name)!;
    let declared = 'NOASSERTION';
    if (r.license !== undefined) declared = r.license;
    else if (r.licenseText !== undefined) {
      const ref = `LicenseRef-${idPart(r.licenseText)}`;
      extracted.set(ref, { licenseId: ref, extractedText: r.licenseText, name: r.licenseText });
      declared = ref;
    }
    packages.push({
      SPDXID: id,
      name: r.name,
      versionInfo: r.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: declared,
      copyrightText: 'NOASSERTION',
      primaryPackagePurpose: r.application ? 'APPLICATION' : 'LIBRARY',
      ...(r.homepage ? { homepage: r.homepage } : {}),
      ...(r.description ? { summary: r.description } : {}),
      ...(Object.keys(r.outputs).length > 0
        ? {
            comment: `intact output tree hashes: ${Object.entries(r.outputs)
              .map(([p, h]) => `${p} ${h}`)
              .join(', ')}`,
          }
        : {}),
    });
    relationships.push({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: id });
    r.sources.forEach((s, i) => {
      const sid = unique(`SPDXRef-Source-${idPart(r.name)}-${i}`);
      packages.push(sourcePackage(s, sid));
      relationships.push({ spdxElementId: id, relationshipType: 'GENERATED_FROM', relatedSpdxElement: sid });
    });
  }
  for (const r of set.recipes) {
    for (const d of r.deps) {
      const target = recipeIds.get(d);
      if (target) relationships.push({ spdxElementId: recipeIds.get(r.name)!, relationshipType: 'DEPENDS_ON', relatedSpdxElement: target });
    }
  }
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${info.project} (intact locked set)`,
    // A URI unique to this lock; spdx.org's advice is any URI the producer controls. `.invalid` resolves nowhere.
    documentNamespace: `https://intact.invalid/spdx/${encodeURIComponent(info.project)}-${info.uuid}`,
    creationInfo: { created: info.timestamp, creators: [`Tool: intact-${info.toolVersion}`] },
    documentDescribes: [...recipeIds.values()],
    packages,
    relationships,
    ...(extracted.size > 0 ? { hasExtractedLicensingInfos: [...extracted.values()] } : {}),
  };
}

function sourcePackage(s: SbomSource, id: string): Record<string, unknown> {
  let download = 'NOASSERTION'; // npm: the lock names no registry on purpose; the purl says what it is
  if (s.kind === 'url' && s.location) download = s.location;
  if (s.kind === 'git' && s.location) download = `git+${s.location}${s.version ? `@${s.version}` : ''}`;
  const notes: string[] = [];
  if (s.hashOf) notes.push(`${s.hashes.map((h) => `${ALG[h.algorithm]}:${h.hex}`).join(' ')} is the hash of ${s.hashOf}`);
  if (s.platforms) notes.push(`for platforms ${s.platforms.join(', ')}`);
  const checksums = s.hashOf ? [] : s.hashes.map((h) => ({ algorithm: ALG[h.algorithm], checksumValue: h.hex }));
  return {
    SPDXID: id,
    name: s.name,
    ...(s.version !== undefined ? { versionInfo: s.version } : {}),
    downloadLocation: download,
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    ...(checksums.length > 0 ? { checksums } : {}),
    ...(s.purl ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: s.purl }] } : {}),
    primaryPackagePurpose: 'SOURCE',
    ...(notes.length > 0 ? { comment: notes.join('; ') } : {}),
  };
}
