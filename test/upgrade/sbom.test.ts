// SBOMs of the locked set, checked structurally against what CycloneDX 1.5 and
// SPDX 2.3 require: the fields each spec makes mandatory, identifier forms,
// hash algorithms and lengths, purls, and a dependency graph whose every
// reference resolves.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/canonical-json.js';
import { makeSbom } from '../../src/upgrade/index.js';
import { hashesOf, npmPurl } from '../../src/upgrade/locked-set.js';
import { fakePin, lockFor, writeLockFor } from '../helpers/lock.js';
import { cleanupProjects, makeProject } from '../helpers/project.js';

afterAll(cleanupProjects);

const REV = 'c'.repeat(40);
const FILES = {
  'recipes/tool.yaml':
    'name: tool\nversion: 1.0.0\nlicense: MIT\ndescription: A tool\nhomepage: https://x.test/tool\nsources:\n  - npm: "@scope/tool@1.0.0"\nbin: [bin/tool]\n',
  'recipes/app.yaml':
    'name: app\nversion: 0.1.0\nlicense: Apache-2.0 OR MIT\nsources:\n  - url: https://x.test/app-0.1.0.tar.gz\ndeps: [tool@1.0.0, lib@2.0.0]\n',
  'recipes/lib.yaml': `name: lib\nversion: 2.0.0\nlicense: Some Custom License\nsources:\n  - git: https://x.test/lib.git\n    rev: ${REV}\n`,
};

async function project(): Promise<string> {
  const dir = await makeProject(FILES);
  const lock = await lockFor(dir);
  lock.recipes.app!.output = { 'linux-x64': `sha256-${'B'.repeat(43)}=` };
  await writeFile(join(dir, 'intact.lock'), canonicalJson(lock));
  return dir;
}

const HEX: Record<string, number> = { 'SHA-256': 64, 'SHA-384': 96, 'SHA-512': 128, SHA256: 64, SHA384: 96, SHA512: 128 };

describe('CycloneDX 1.5', () => {
  it('has the required fields, components with hashes and purls, and a resolvable graph', async () => {
    const dir = await project();
    const { document: bom, warnings } = await makeSbom(dir, { format: 'cyclonedx', now: new Date('2024-01-02T03:04:05Z') });
    const d = bom as any;
    expect(d.bomFormat).toBe('CycloneDX');
    expect(d.specVersion).toBe('1.5');
    expect(d.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(d.version).toBe(1);
    expect(d.metadata.timestamp).toBe('2024-01-02T03:04:05Z');
    expect(d.metadata.tools.components[0]).toMatchObject({ type: 'application', name: 'intact' });

    const refs = new Set<string>(['project']);
    const walk = (cs: any[]): void => {
      for (const c of cs) {
        expect(['application', 'library', 'file']).toContain(c.type);
        expect(typeof c.name).toBe('string');
        expect(refs.has(c['bom-ref'])).toBe(false);
        refs.add(c['bom-ref']);
        for (const h of c.hashes ?? []) expect(h.content).toMatch(new RegExp(`^[0-9a-f]{${HEX[h.alg]}}$`));
        walk(c.components ?? []);
      }
    };
    walk(d.components);
    for (const dep of d.dependencies) {
      expect(refs.has(dep.ref)).toBe(true);
      for (const x of dep.dependsOn) expect(refs.has(x)).toBe(true);
    }

    const tool = d.components.find((c: any) => c.name === 'tool');
    expect(tool).toMatchObject({
      type: 'application',
      version: '1.0.0',
      description: 'A tool',
      licenses: [{ license: { id: 'MIT' } }],
      externalReferences: [{ type: 'website', url: 'https://x.test/tool' }],
    });
    expect(tool.components[0]).toMatchObject({ group: '@scope', name: 'tool', version: '1.0.0', purl: 'pkg:npm/%40scope/tool@1.0.0' });
    expect(tool.components[0].hashes).toEqual([{ alg: 'SHA-512', content: Buffer.from(fakePin('tool:0').slice(7), 'base64').toString('hex') }]);
    const app = d.components.find((c: any) => c.name === 'app');
    expect(app).toMatchObject({
      type: 'library',
      licenses: [{ expression: 'Apache-2.0 OR MIT' }],
      properties: [{ name: 'intact:output:linux-x64', value: `sha256-${'B'.repeat(43)}=` }],
    });
    expect(app.components[0].externalReferences).toEqual([{ type: 'distribution', url: 'https://x.test/app-0.1.0.tar.gz' }]);
    expect(d.dependencies.find((x: any) => x.ref === app['bom-ref']).dependsOn.sort()).toEqual(['recipe:lib@2.0.0', 'recipe:tool@1.0.0']);
    const lib = d.components.find((c: any) => c.name === 'lib');
    expect(lib.licenses).toEqual([{ license: { name: 'Some Custom License' } }]);
    expect(lib.components[0]).toMatchObject({ version: REV, externalReferences: [{ type: 'vcs', url: 'https://x.test/lib.git' }] });
    expect(warnings.map((w) => [w.code, w.file, w.severity])).toEqual([['LICENSE_UNKNOWN', 'recipes/lib.yaml', 'warning']]);
  });

  it('is the same document for the same lock (SOURCE_DATE_EPOCH fixes the time)', async () => {
    const dir = await project();
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const a = await makeSbom(dir, { format: 'cyclonedx', env });
    const b = await makeSbom(dir, { format: 'cyclonedx', env });
    expect(a.text).toBe(b.text);
    expect((a.document as any).metadata.timestamp).toBe('2023-11-14T22:13:20Z');
    await expect(makeSbom(dir, { format: 'cyclonedx', env: { SOURCE_DATE_EPOCH: 'yesterday' } })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('SPDX 2.3', () => {
  it('has the required fields, unique ids, checksums, purls, and relationships that resolve', async () => {
    const dir = await project();
    const { document } = await makeSbom(dir, { format: 'spdx', now: new Date('2024-01-02T03:04:05Z') });
    const d = document as any;
    expect(d).toMatchObject({ spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT' });
    expect(typeof d.name).toBe('string');
    expect(d.documentNamespace).toMatch(/^https:\/\/[^#]+$/);
    expect(d.creationInfo.created).toBe('2024-01-02T03:04:05Z');
    for (const c of d.creationInfo.creators) expect(c).toMatch(/^(Tool|Organization|Person): ./);
    const ids = new Set<string>(['SPDXRef-DOCUMENT']);
    for (const p of d.packages) {
      expect(p.SPDXID).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
      expect(ids.has(p.SPDXID)).toBe(false);
      ids.add(p.SPDXID);
      expect(typeof p.name).toBe('string');
      expect(typeof p.downloadLocation).toBe('string');
      expect(p.filesAnalyzed).toBe(false);
      for (const c of p.checksums ?? []) expect(c.checksumValue).toMatch(new RegExp(`^[0-9a-f]{${HEX[c.algorithm]}}$`));
    }
    for (const r of d.relationships) {
      expect(ids.has(r.spdxElementId)).toBe(true);
      expect(ids.has(r.relatedSpdxElement)).toBe(true);
    }
    for (const id of d.documentDescribes) expect(ids.has(id)).toBe(true);
    const rel = (a: string, t: string, b: string) =>
      d.relationships.some((r: any) => r.spdxElementId === a && r.relationshipType === t && r.relatedSpdxElement === b);
    expect(rel('SPDXRef-DOCUMENT', 'DESCRIBES', 'SPDXRef-Recipe-tool')).toBe(true);
    expect(rel('SPDXRef-Recipe-app', 'DEPENDS_ON', 'SPDXRef-Recipe-tool')).toBe(true);
    expect(rel('SPDXRef-Recipe-tool', 'GENERATED_FROM', 'SPDXRef-Source-tool-0')).toBe(true);

    const src = d.packages.find((p: any) => p.SPDXID === 'SPDXRef-Source-tool-0');
    expect(src.externalRefs).toEqual([{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:npm/%40scope/tool@1.0.0' }]);
    expect(src.checksums[0].algorithm).toBe('SHA512');
    expect(d.packages.find((p: any) => p.SPDXID === 'SPDXRef-Recipe-app').licenseDeclared).toBe('Apache-2.0 OR MIT');
    // A license that is not SPDX becomes a LicenseRef the document defines.
    const lib = d.packages.find((p: any) => p.SPDXID === 'SPDXRef-Recipe-lib');
    expect(lib.licenseDeclared).toBe('LicenseRef-Some-Custom-License');
    expect(d.hasExtractedLicensingInfos).toEqual([
      { licenseId: 'LicenseRef-Some-Custom-License', extractedText: 'Some Custom License', name: 'Some Custom License' },
    ]);
    expect(d.packages.find((p: any) => p.SPDXID === 'SPDXRef-Source-lib-0').downloadLocation).toBe(`git+https://x.test/lib.git@${REV}`);
  });
});

describe('the locked set', () => {
  it('must be current: a stale lock is refused', async () => {
    const dir = await project();
    await writeFile(join(dir, 'recipes/tool.yaml'), FILES['recipes/tool.yaml'].replace('A tool', 'Changed'));
    await expect(makeSbom(dir, { format: 'spdx' })).rejects.toMatchObject({ code: 'NOT_LOCKED', file: 'intact.lock' });
  });
  it('must exist', async () => {
    const dir = await makeProject(FILES);
    await expect(makeSbom(dir, { format: 'spdx' })).rejects.toMatchObject({ code: 'LOCK_MISSING' });
    await writeLockFor(dir);
    expect((await makeSbom(dir, { format: 'spdx' })).warnings).toHaveLength(1);
  });
  it('turns SRI into hex and npm names into purls', () => {
    expect(hashesOf(`sha256-${Buffer.alloc(32, 1).toString('base64')}`)).toEqual([{ algorithm: 'sha256', hex: '01'.repeat(32) }]);
    expect(npmPurl('left-pad', '1.3.0')).toBe('pkg:npm/left-pad@1.3.0');
    expect(npmPurl('@types/node', '20.1.0-beta.1')).toBe('pkg:npm/%40types/node@20.1.0-beta.1');
  });
});
