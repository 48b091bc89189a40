// The `yaml` package's parse: exact syntax errors and the line and column of any
// field. Loaded (and `yaml` required) only when an error must be reported or a
// position is asked for; the fast path is js-yaml (yaml.ts), and a recipe read
// from the memo (memo.ts) has no parse at all until a finding needs a place.
import { createRequire } from 'node:module';
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

/** A locator that parses `text` with `yaml` on its first call, never before. */
export function lazyLocator(text: string, file: string): Locator {
  let full: ParsedYaml | undefined;
  return (path, key) => (full ??= parseFull(text, file)).locate(path, key);
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
    return {
      value: undefined,
      locate,
      findings: [finding('RECIPE_YAML', `YAML error: ${(e as Error).message}`, { file, hint: 'remove the excessive aliases (*name) from the recipe' })],
    };
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
      node = last && key ? pair.key : (pair.value ?? pair.key);
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
