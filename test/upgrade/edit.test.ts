// Recipe edits for an upgrade: which fields change, what is left alone, and that
// the YAML keeps every comment, quote and flow list it had.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipe/index.js';
import { linesMentioning, planDepEdit, planVersionEdit, replaceVersion } from '../../src/upgrade/edit.js';
import { editYaml } from '../../src/upgrade/yaml-edit.js';
import { REPO } from '../helpers/project.js';

const load = (text: string, file = 'recipes/x.yaml') => {
  const r = parseRecipe(text, file);
  if (!r.recipe) throw new Error(JSON.stringify(r.findings));
  return r.recipe;
};

describe('replaceVersion', () => {
  it.each([
    ['https://x.test/foo-1.2.3.tar.gz', 'https://x.test/foo-1.2.4.tar.gz'],
    ['https://x.test/v1.2.3/foo.tgz', 'https://x.test/v1.2.4/foo.tgz'],
    ['https://x.test/1.2.3/foo-1.2.3-linux.tgz', 'https://x.test/1.2.4/foo-1.2.4-linux.tgz'],
    ['https://x.test/foo-11.2.3.tgz', 'https://x.test/foo-11.2.3.tgz'],
    ['https://x.test/foo-1.2.30.tgz', 'https://x.test/foo-1.2.30.tgz'],
    ['https://x.test/foo-1.2.3.1.tgz', 'https://x.test/foo-1.2.3.1.tgz'],
    ['https://x.test/foo-01.2.3.tgz', 'https://x.test/foo-01.2.3.tgz'],
  ])('%s → %s', (from, to) => {
    expect(replaceVersion(from, '1.2.3', '1.2.4')).toBe(to);
  });
});

const RECIPE = `# Tool, prebuilt.
name: tool   # keep this comment
version: "1.0.0"
license: MIT
sources:
  - npm: tool@1.0.0   # the package
  - url: https://x.test/tool-1.0.0.tar.gz
    mirrors: [https://m.x.test/tool-1.0.0.tar.gz, https://other.x.test/a.tgz]
    integrity: sha512-${'A'.repeat(86)}==
    strip: 1
  - npm: helper@5.1.7
  - file: vendor/patch-1.0.0.diff
build:
  - run: [cp, tool-1.0.0/bin/tool, "$out/bin/tool"]
bin: [bin/tool]
`;

describe('planVersionEdit', () => {
  it('changes the version, the npm spec at that version, URLs and mirrors; drops the declared pin', () => {
    const plan = planVersionEdit(load(RECIPE), '1.1.0', new Map());
    expect(plan.changes).toEqual([
      { field: 'version', from: '1.0.0', to: '1.1.0' },
      { field: 'sources[0].npm', from: 'tool@1.0.0', to: 'tool@1.1.0' },
      { field: 'sources[1].url', from: 'https://x.test/tool-1.0.0.tar.gz', to: 'https://x.test/tool-1.1.0.tar.gz' },
      { field: 'sources[1].mirrors[0]', from: 'https://m.x.test/tool-1.0.0.tar.gz', to: 'https://m.x.test/tool-1.1.0.tar.gz' },
    ]);
    expect(plan.dropped.map((d) => d.field)).toEqual(['sources[1].integrity']);
    expect(plan.untouched.map((u) => u.field)).toEqual(['sources[2].npm', 'sources[3].file']);
    expect(plan.changedSources).toEqual([0, 1]);
  });

  it('refuses a version that would make an npm spec float (5.2 is a range to npm)', () => {
    expect(() => planVersionEdit(load(RECIPE), '1.1', new Map())).toThrow(
      expect.objectContaining({ code: 'NPM_SPEC_FLOATING', field: 'sources[0].npm', line: 6 }),
    );
  });

  it('sets a git source to the resolved commit', () => {
    const rev = 'b'.repeat(40);
    const plan = planVersionEdit(
      load(`name: x\nversion: 1.0.0\nsources:\n  - git: https://x.test/r.git\n    rev: ${'a'.repeat(40)}\n`),
      '1.1.0',
      new Map([[0, rev]]),
    );
    expect(plan.changes.at(-1)).toEqual({ field: 'sources[0].rev', from: 'a'.repeat(40), to: rev });
  });

  it('edits the text in place: comments, quotes and flow lists stay, the pin line goes', () => {
    const plan = planVersionEdit(load(RECIPE), '1.1.0', new Map());
    const text = editYaml(RECIPE, 'recipes/x.yaml', plan.edits);
    expect(text).toBe(
      RECIPE.replace('version: "1.0.0"', 'version: "1.1.0"')
        .replace('npm: tool@1.0.0 ', 'npm: tool@1.1.0 ')
        .replace('url: https://x.test/tool-1.0.0.tar.gz', 'url: https://x.test/tool-1.1.0.tar.gz')
        .replace('[https://m.x.test/tool-1.0.0.tar.gz,', '[https://m.x.test/tool-1.1.0.tar.gz,')
        .replace(/ {4}integrity: .*\n/, ''),
    );
    expect(load(text).recipe.version).toBe('1.1.0');
    // The vendored file and the build step still name the old version: reported, not guessed.
    expect(linesMentioning(text, '1.0.0')).toEqual([11, 13]);
  });
});

describe('editYaml', () => {
  it('quotes a value YAML would read as a number', () => {
    const text = editYaml('name: x\nversion: 1.0.0\n', 'recipes/x.yaml', [{ path: ['version'], value: '1.10' }]);
    expect(text).toBe('name: x\nversion: "1.10"\n');
    expect(load(text).recipe.version).toBe('1.10');
  });

  it('falls back to the Document API where an in-place edit is unsafe (a key after "- ")', () => {
    const text = '# head\nname: x\nversion: 1.0.0\nsources:\n  - integrity: sha512-abc\n    url: https://x.test/a-1.0.0.tgz\n';
    const out = editYaml(text, 'recipes/x.yaml', [{ path: ['sources', 0, 'integrity'], delete: true }]);
    expect(out).toContain('# head');
    expect(out).not.toContain('integrity');
    expect(out).toContain('  - url: https://x.test/a-1.0.0.tgz');
  });

  it('leaves every recipe of the project byte for byte as it was when nothing changes', () => {
    const dir = join(REPO, 'recipes');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      const v = load(text, `recipes/${f}`).recipe.version;
      expect(editYaml(text, f, [{ path: ['version'], value: v }])).toBe(text);
    }
  });
});

describe('planDepEdit', () => {
  it('moves a dependency to the new version', () => {
    const r = load('name: app\nversion: 1.0.0\ndeps: [tool@1.0.0, other@2.0.0]\n', 'recipes/app.yaml');
    const plan = planDepEdit(r, 'tool', '1.0.0', '1.1.0');
    expect(plan.changes).toEqual([{ field: 'deps[0]', from: 'tool@1.0.0', to: 'tool@1.1.0' }]);
    expect(editYaml('name: app\nversion: 1.0.0\ndeps: [tool@1.0.0, other@2.0.0]\n', 'recipes/app.yaml', plan.edits)).toBe(
      'name: app\nversion: 1.0.0\ndeps: [tool@1.1.0, other@2.0.0]\n',
    );
  });
});
