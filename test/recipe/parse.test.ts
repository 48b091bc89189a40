// Every way a recipe can be wrong, table-driven: each must give a finding with the
// right code at the right line, never a throw.
import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipe/parse.js';

const SHA = 'sha512-' + Buffer.alloc(64, 7).toString('base64');
const REV = '0123456789abcdef0123456789abcdef01234567';

const GOOD = `# a comment
name: sqlite
version: 3.44.2
description: SQLite shell
license: blessing
homepage: https://sqlite.org
platforms: [linux-x64, linux-arm64]
sources:
  - npm: sqlite3@5.1.7
    archive: deps/sqlite-autoconf-3440200.tar.gz
    archiveIntegrity: sha256-HGcZoUi8Qc+jQqnXK5J9w/XzCdjXjxJG/MIHZ2sXtAc=
    strip: 1
  - url: https://example.invalid/a.tgz
    mirrors: [https://mirror.invalid/a.tgz]
    integrity: ${SHA}
    path: extra
    platforms: [linux-arm64]
  - git: https://example.invalid/repo.git
    rev: ${REV}
  - file: vendor/patch-src
deps:
  - zig@0.11.0
build:
  - env: { CFLAGS: -O2 }
  - run: [zig, cc, -o, "$out/bin/sqlite3", shell.c]
    cwd: src
  - script: "make && make install"
    shell: sh
  - copy: a
    to: b
  - symlink: bin/sq
    target: sqlite3
  - write: etc/x.conf
    content: "x=1\\n"
    executable: false
  - chmod: bin/sqlite3
    mode: "0755"
  - patch: patches/fix.patch
    strip: 1
bin: [bin/sqlite3]
`;

describe('parseRecipe: a complete recipe', () => {
  it('accepts every field and step kind', () => {
    const r = parseRecipe(GOOD, 'recipes/sqlite.yaml');
    expect(r.findings).toEqual([]);
    expect(r.recipe?.recipe.name).toBe('sqlite');
    expect(r.recipe?.recipe.build).toHaveLength(8);
    expect(r.recipe?.locate(['sources', 1, 'integrity'])).toEqual({ line: 15, col: 16 });
  });
});

// [title, file name, text, expected code, expected line (or undefined), message fragment]
const BAD: [string, string, string, string, number | undefined, string][] = [
  ['YAML syntax error', 'x', 'name: x\nversion: [1.0\n', 'RECIPE_YAML', 3, 'YAML'],
  ['a tab used for indentation', 'x', 'name: x\nversion: 1.0.0\nsources:\n\t- url: a\n', 'RECIPE_YAML', 4, 'Tabs'],
  ['a duplicate key', 'x', 'name: x\nversion: 1.0.0\nversion: 1.0.1\n', 'RECIPE_YAML', 3, 'duplicate key'],
  ['two documents', 'x', 'name: x\nversion: 1.0.0\n---\nname: y\n', 'RECIPE_YAML', undefined, 'YAML'],
  ['binary garbage', 'x', '\u0000\u0001\u0002ELF', 'RECIPE_NOT_TEXT', undefined, 'not UTF-8'],
  ['an empty file', 'x', '', 'RECIPE_SCHEMA', 1, 'empty'],
  ['a list instead of a mapping', 'x', '- a\n- b\n', 'RECIPE_SCHEMA', 1, 'mapping'],
  ['a missing version', 'x', 'name: x\n', 'RECIPE_SCHEMA', 1, 'version'],
  ['an unknown field (typo)', 'x', 'name: x\nversion: 1.0.0\ndescripton: y\n', 'RECIPE_SCHEMA', 3, 'did you mean `description`'],
  ['an unknown source field', 'x', 'name: x\nversion: 1.0.0\nsources:\n  - url: https://a.invalid/x\n    sha: 1\n', 'RECIPE_SCHEMA', 5, 'unknown field `sha`'],
  ['a number version', 'x', 'name: x\nversion: 1.10\n', 'RECIPE_SCHEMA', 2, 'quote'],
  ['a wrong type for deps', 'x', 'name: x\nversion: 1.0.0\ndeps: zig@0.11.0\n', 'RECIPE_SCHEMA', 3, 'list'],
  [
    'a sandboxBin that is no dependency',
    'x',
    'name: x\nversion: 1.0.0\ntools: [make@4.3]\nsandboxBin: busybox\n',
    'DEP_UNKNOWN',
    4,
    'add busybox@<version> to tools',
  ],
  [
    'a sandboxBin that is a target dep, not a tool',
    'x',
    'name: x\nversion: 1.0.0\ntools: [make@4.3]\ndeps: [busybox@1.36.0]\nsandboxBin: busybox\n',
    'DEP_UNKNOWN',
    5,
    'not in tools',
  ],
  ['one recipe as tool and dep', 'x', 'name: x\nversion: 1.0.0\ntools: [zlib@1.3]\ndeps: [zlib@1.3]\n', 'DEP_UNKNOWN', 4, 'in both tools and deps'],
  ['a floating tool', 'x', 'name: x\nversion: 1.0.0\ntools: [make@latest]\n', 'VERSION_FLOATING', 3, 'make@latest'],
  ['a name that differs from the file', 'y', 'name: x\nversion: 1.0.0\n', 'RECIPE_NAME_MISMATCH', 1, 'recipes/y.yaml'],
  ['a name with path characters', 'x', 'name: ../x\nversion: 1.0.0\n', 'RECIPE_SCHEMA', 1, 'name'],
  ['a source without a kind', 'x', 'name: x\nversion: 1.0.0\nsources:\n  - strip: 1\n', 'RECIPE_SCHEMA', 4, 'without a kind'],
  ['a source with two kinds', 'x', 'name: x\nversion: 1.0.0\nsources:\n  - url: https://a.invalid/x\n    npm: a@1.0.0\n', 'RECIPE_SCHEMA', 4, 'several kinds'],
  ['a git source without rev', 'x', 'name: x\nversion: 1.0.0\nsources:\n  - git: https://a.invalid/x.git\n', 'RECIPE_SCHEMA', 4, 'rev'],
  ['mirrors without url', 'x', 'name: x\nversion: 1.0.0\nsources:\n  - npm: a@1.0.0\n    mirrors: [https://b.invalid]\n', 'RECIPE_SCHEMA', 5, 'mirrors'],
  ['a non-http url', 'x', 'name: x\nversion: 1.0.0\nsources:\n  - url: ftp://a.invalid/x\n', 'RECIPE_SCHEMA', 4, 'URL'],
  ['a step that is a string', 'x', 'name: x\nversion: 1.0.0\nbuild:\n  - make\n', 'RECIPE_SCHEMA', 4, 'mapping'],
  ['a step with two kinds', 'x', 'name: x\nversion: 1.0.0\nbuild:\n  - run: [a]\n    copy: b\n', 'RECIPE_SCHEMA', 4, 'several kinds'],
  ['a step with an unknown field', 'x', 'name: x\nversion: 1.0.0\nbuild:\n  - run: [a]\n    to: b\n', 'RECIPE_SCHEMA', 5, 'unknown field `to`'],
  ['a script without a shell', 'x', 'name: x\nversion: 1.0.0\nbuild:\n  - script: make\n', 'RECIPE_SCHEMA', 4, 'shell'],
  ['an unknown platform', 'x', 'name: x\nversion: 1.0.0\nplatforms: [linux-sparc]\n', 'RECIPE_SCHEMA', 3, 'linux-x64'],
  [
    'a source platform not declared',
    'x',
    'name: x\nversion: 1.0.0\nsources:\n  - url: https://a.invalid/x\n    platforms: [linux-arm64]\n',
    'PLATFORM_UNDECLARED',
    5,
    'linux-arm64',
  ],
  [
    'a declared platform no source is for',
    'x',
    'name: x\nversion: 1.0.0\nplatforms: [linux-x64, linux-arm64]\nsources:\n  - url: https://a.invalid/x\n    platforms: [linux-x64]\n',
    'PLATFORM_NO_SOURCE',
    3,
    'platform linux-arm64 is declared, but every source is for other platforms',
  ],
  ['a bin path escaping $out', 'x', 'name: x\nversion: 1.0.0\nbin: [../../etc/passwd]\n', 'RECIPE_SCHEMA', 3, 'wrong form'],
  ['an absolute patch path', 'x', 'name: x\nversion: 1.0.0\nbuild:\n  - patch: /etc/passwd\n', 'RECIPE_SCHEMA', 4, 'wrong form'],
  ['a range version', 'x', 'name: x\nversion: ^1.2.3\n', 'VERSION_FLOATING', 2, 'range'],
  ['a latest version', 'x', 'name: x\nversion: latest\n', 'VERSION_FLOATING', 2, 'moving'],
  ['an empty version', 'x', 'name: x\nversion: ""\n', 'RECIPE_SCHEMA', 2, 'empty'],
  ['a floating dep', 'x', 'name: x\nversion: 1.0.0\ndeps: [zig@^0.11.0]\n', 'VERSION_FLOATING', 3, 'zig@^0.11.0'],
  ['a dep without version', 'x', 'name: x\nversion: 1.0.0\ndeps:\n  - zig\n', 'VERSION_FLOATING', 4, 'no version'],
  ['an npm source without version', 'x', 'name: x\nversion: 1.0.0\nsources:\n  - npm: esbuild\n', 'NPM_SPEC_FLOATING', 4, 'no version'],
  ['an npm source with a tag', 'x', 'name: x\nversion: 1.0.0\nsources:\n  - npm: esbuild@next\n', 'NPM_SPEC_FLOATING', 4, 'moving'],
  ['an npm source with a partial version', 'x', 'name: x\nversion: 1.0.0\nsources:\n  - npm: esbuild@0.19\n', 'NPM_SPEC_FLOATING', 4, 'range'],
  ['a git branch', 'x', `name: x\nversion: 1.0.0\nsources:\n  - git: https://a.invalid/x.git\n    rev: main\n`, 'GIT_REV_FLOATING', 5, 'branch'],
  ['a git tag', 'x', `name: x\nversion: 1.0.0\nsources:\n  - git: https://a.invalid/x.git\n    rev: v1.0.0\n`, 'GIT_REV_FLOATING', 5, 'tag'],
  ['a short git sha', 'x', `name: x\nversion: 1.0.0\nsources:\n  - git: https://a.invalid/x.git\n    rev: abc1234\n`, 'GIT_REV_FLOATING', 5, 'short'],
  [
    'a sha1 integrity',
    'x',
    'name: x\nversion: 1.0.0\nsources:\n  - url: https://a.invalid/x\n    integrity: sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=\n',
    'INTEGRITY_WEAK',
    5,
    'sha1',
  ],
  [
    'an md5 integrity',
    'x',
    'name: x\nversion: 1.0.0\nsources:\n  - url: https://a.invalid/x\n    integrity: md5-1B2M2Y8AsgTpgAmY7PhCfg==\n',
    'INTEGRITY_WEAK',
    5,
    'md5',
  ],
  [
    'a malformed integrity',
    'x',
    'name: x\nversion: 1.0.0\nsources:\n  - url: https://a.invalid/x\n    integrity: sha512-abc\n',
    'INTEGRITY_MALFORMED',
    5,
    '64 bytes',
  ],
  [
    'two hashes in one integrity',
    'x',
    `name: x\nversion: 1.0.0\nsources:\n  - url: https://a.invalid/x\n    integrity: ${SHA} ${SHA}\n`,
    'INTEGRITY_MALFORMED',
    5,
    'several',
  ],
  [
    'an alias bomb',
    'x',
    'name: x\nversion: 1.0.0\ndescription: &a [x, x, x, x, x, x, x, x, x, x]\nbuild: [&b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b], [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]]\n',
    'RECIPE_YAML',
    undefined,
    'alias',
  ],
];

describe('parseRecipe: rejections', () => {
  it.each(BAD)('%s', (_title, name, text, code, line, fragment) => {
    const file = `recipes/${name}.yaml`;
    const r = parseRecipe(text, file);
    const f = r.findings.find((x) => x.code === code);
    expect(f, JSON.stringify(r.findings, null, 1)).toBeDefined();
    expect(f!.file).toBe(file);
    if (line !== undefined) expect(f!.line).toBe(line);
    expect(`${f!.message} ${f!.hint}`).toContain(fragment);
    expect(f!.hint).toBeTruthy();
  });

  it('accepts a declared platform that a source without `platforms` covers, and one with no sources at all', () => {
    const shared = parseRecipe(
      'name: x\nversion: 1.0.0\nplatforms: [linux-x64, linux-arm64]\nsources:\n  - url: https://a.invalid/x\n    platforms: [linux-x64]\n  - url: https://a.invalid/all\n',
      'recipes/x.yaml',
    );
    expect(shared.findings.map((f) => f.code)).toEqual([]);
    const none = parseRecipe('name: x\nversion: 1.0.0\nplatforms: [linux-x64, linux-arm64]\nbuild:\n  - write: $out/x\n    content: x\n', 'recipes/x.yaml');
    expect(none.findings.map((f) => f.code)).toEqual([]);
  });

  it('reports every problem of a recipe at once, not only the first', () => {
    const r = parseRecipe('name: x\nversion: latest\nsources:\n  - npm: a@next\n  - git: https://a.invalid/x.git\n    rev: dev\n', 'recipes/x.yaml');
    expect(r.findings.map((f) => f.code).sort()).toEqual(['GIT_REV_FLOATING', 'NPM_SPEC_FLOATING', 'VERSION_FLOATING']);
  });
});
