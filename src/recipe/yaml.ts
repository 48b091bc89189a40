// YAML text → plain data plus a way to find any field's line and column again,
// so every later check (schema, exact versions, deps) can point at the input.
//
// Two parsers, one job each (measured: bench/verify-static.mjs). The `yaml`
// package keeps source positions and gives precise syntax errors, but costs about
// 1 ms per recipe in a cold process; js-yaml parses the same YAML 1.2 core schema
// five times faster. So js-yaml reads files on the happy path, and `yaml` is
// loaded only when an error must be reported or a position is asked for. Files
// with anchors or aliases always take the `yaml` path, which limits alias
// expansion (defence against "billion laughs"). So do the two inputs where
// js-yaml keeps a YAML 1.1 habit the core schema dropped: a number with `_`
// (1_000 is a string in YAML 1.2) and a null-like key (`null:` is the key "" in
// `yaml`). test/recipe/yaml.test.ts checks that both parsers agree on the
// shipped recipes and on the schema's corners, and refuse the same bad input.
import { createRequire } from 'node:module';
import jsyaml from 'js-yaml';
import type { Document, LineCounter as LineCounterT, Node } from 'yaml';
import { finding, type Finding } from '../errors.js';

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;
function yamlLib(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

export type FieldPath = readonly (string | number)[];
export type Locator = (path: FieldPath, key?: boolean) => { line: number; col: number } | undefined;

export interface ParsedYaml {
  value: unknown;
  locate: Locator;
  findings: Finding[];
}

const ANCHOR_OR_ALIAS = /(^|[\s[{,:-])[&*][^\s]/m;
const PARSERS_DIFFER = /[\s:[{,-][-+]?[0-9][0-9_.]*_[0-9_.]*[ \t]*(?:$|[,\]}]| #)|(^|[\s[{,?-])(null|Null|NULL|~)\s*:/m;

/** Parse one YAML document. Syntax problems come back as findings, never as throws. */
export function parseYaml(text: string, file: string): ParsedYaml {
  if (!ANCHOR_OR_ALIAS.test(text) && !PARSERS_DIFFER.test(text)) {
    let value: unknown;
    let ok = true;
    try {
      value = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, json: false });
    } catch {
      ok = false;
    }
    if (ok) {
      let full: ParsedYaml | undefined;
      const locate: Locator = (path, key) => (full ??= parseFull(text, file)).locate(path, key);
      return { value, locate, findings: [] };
    }
  }
  return parseFull(text, file);
}

/** The `yaml` package: exact errors and positions. */
export function parseFull(text: string, file: string): ParsedYaml {
  const { LineCounter, parseDocument } = yamlLib();
  const lineCounter: LineCounterT = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: true,
    uniqueKeys: true,
    // YAML 1.2 core schema: `yes`/`no` stay strings, no merge keys, no custom tags.
    schema: 'core',
    merge: false,
    strict: true,
  });
  const findings: Finding[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    const pos = e.linePos?.[0];
    findings.push(
      finding('RECIPE_YAML', yamlMessage(e.code, e.message), {
        file,
        line: pos?.line,
        col: pos?.col,
        hint: yamlHint(e.code, e.message),
      }),
    );
  }
  const locate: Locator = (path, key = false) => {
    const node = nodeAt(doc, path, key);
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset);
  };
  if (findings.length > 0) return { value: undefined, locate, findings };
  try {
    // Defence in depth against alias bombs ("billion laughs"): toJS counts aliases.
    return { value: doc.toJS({ maxAliasCount: 100 }), locate, findings };
  } catch (e) {
    return { value: undefined, locate, findings: [finding('RECIPE_YAML', `YAML error: ${(e as Error).message}`, { file, hint: 'remove the excessive aliases (*name) from the recipe' })] };
  }
}

function nodeAt(doc: Document, path: FieldPath, key: boolean): Node | undefined {
  const { isMap, isNode, isPair, isScalar, isSeq } = yamlLib();
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return isNode(node) ? node : undefined;
      node = last && key ? pair.key : pair.value ?? pair.key;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return node;
      node = item;
    } else {
      return isNode(node) ? node : undefined;
    }
  }
  return isNode(node) ? node : undefined;
}

function yamlMessage(code: string, message: string): string {
  // yaml's pretty messages end with a code frame; keep the first line for ours.
  const first = message.split('\n')[0] ?? message;
  if (code === 'DUPLICATE_KEY') return `duplicate key: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
  return `YAML syntax error: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
}

function yamlHint(code: string, message: string): string {
  if (/tab/i.test(message)) return 'indent with spaces; YAML does not allow tabs for indentation';
  if (code === 'DUPLICATE_KEY') return 'each field may appear once; remove or merge the repeated one';
  if (code === 'MULTIPLE_DOCS') return 'a recipe is one YAML document; remove the `---` separator';
  return 'fix the YAML at this place (check indentation, quotes and colons)';
}
