// The two YAML parsers of src/recipe/yaml.ts agree: js-yaml reads recipes on the
// happy path and `yaml` reports errors and positions, so any input the first
// accepts must mean the same to the second, and any input the second refuses the
// first must not accept silently.
import { readdirSync, readFileSync } from 'node:fs';
import jsyaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/recipe/yaml.js';
import { parseFull } from '../../src/recipe/yaml-full.js';

const recipesDir = new URL('../../recipes/', import.meta.url);
const shipped = readdirSync(recipesDir)
  .filter((n) => n.endsWith('.yaml'))
  .map((n) => [`recipes/${n}`, readFileSync(new URL(n, recipesDir), 'utf8')] as const);

// YAML 1.2 core schema corners where YAML 1.1 parsers differ, and the shapes recipes use.
const corners: (readonly [string, string])[] = [
  ['1.1 booleans stay strings', 'a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\n'],
  ['1.2 booleans and null', 'a: true\nb: false\nc: null\nd: ~\ne:\nf: True\ng: NULL\n'],
  ['numbers', 'a: 1\nb: -2\nc: 0x1f\nd: 0o17\ne: 017\nf: 1.5\ng: 1e3\nh: .inf\ni: -.Inf\nj: .nan\nk: 1_000\n'],
  ['versions and dates stay strings', 'version: 3.44.2\nb: 1.2\nc: 2024-01-02\nd: 12:30:00\ne: 0.11.0\n'],
  ['quoted strings', `a: "x: y"\nb: 'it''s'\nc: "tab\\there"\nd: "\\u00e9"\ne: '#not a comment'\n`],
  ['block scalars', 'a: |\n  line one\n  line two\nb: >\n  folded\n  text\nc: |-\n  no newline\nd: |+\n  keep\n\n'],
  ['flow collections', 'deps: [zig@0.11.0, bb@1.36.0]\nm: {a: 1, b: [x, y]}\nempty: []\nnone: {}\n'],
  [
    'nested sequences of maps',
    'sources:\n  - npm: sqlite3@5.1.7\n    archive: deps/x.tar.gz\n    strip: 1\n  - url: https://example.invalid/a.tar.gz\n    integrity: sha256-AAAA\nbuild:\n  - run: [make, -j, $JOBS]\n  - script: |\n      echo "$out"\n    shell: sh\n',
  ],
  ['comments everywhere', '# head\na: 1 # trailing\n# between\nb:\n  - x # item\n'],
  ['keys that look like other types', '1: one\ntrue: t\nnull: n\n'],
];

describe('js-yaml (fast path) and yaml (full path) agree', () => {
  it.each([...shipped, ...corners])('%s', (_name, text) => {
    const fast = parseYaml(text, 'x.yaml');
    const full = parseFull(text, 'x.yaml');
    expect(fast.findings).toEqual([]);
    expect(full.findings).toEqual([]);
    expect(fast.value).toEqual(full.value);
  });

  it('has shipped recipes to compare', () => {
    expect(shipped.length).toBeGreaterThan(0);
  });
});

describe('where js-yaml keeps a YAML 1.1 habit, the full parser reads the file', () => {
  it.each([
    ['a number with _', 'k: 1_000\n', { k: '1_000' }],
    ['a null-like key', 'null: n\n', { '': 'n' }],
  ])('%s', (_name, text, value) => {
    // The fast parser alone would read these differently (the reason for the detour).
    expect(jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, json: false })).not.toEqual(value);
    expect(parseYaml(text, 'x.yaml').value).toEqual(value);
  });
});

describe('what yaml refuses, js-yaml does not accept either', () => {
  it.each([
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['a tab as indentation', 'a:\n\t- x\n'],
    ['an unclosed quote', 'a: "x\n'],
    ['a bad indentation', 'a:\n  b: 1\n c: 2\n'],
  ])('%s', (_name, text) => {
    expect(parseFull(text, 'x.yaml').findings.length).toBeGreaterThan(0);
    expect(() => jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, json: false })).toThrow();
    // So the public entry falls back to the full parser and reports the error.
    expect(parseYaml(text, 'x.yaml').findings.length).toBeGreaterThan(0);
  });
});
