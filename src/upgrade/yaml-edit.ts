// Editing a recipe's YAML without disturbing anything else in it: comments,
// quoting, flow lists, spacing. Recipes are written and reviewed by people, so an
// upgrade's diff must show only the values that changed.
//
// The `yaml` package's Document API is the reference: parseDocument → setIn /
// deleteIn gives the document as it must read afterwards. Its toString() keeps
// comments but normalises spacing (`[a, b]` → `[ a, b ]`, comment columns), so
// the text is edited in place at the nodes' source ranges instead, and the result
// is accepted only when it parses to exactly what the Document API says. Where
// an in-place edit cannot be made safely (a key deleted from a flow map, say),
// the Document's own toString() is the answer.
import { isDeepStrictEqual } from 'node:util';
import { isMap, isPair, isScalar, parseDocument, Scalar, type Document } from 'yaml';
import { IntactError } from '../errors.js';

export type YamlPath = readonly (string | number)[];

export type YamlEdit = { path: YamlPath; value: string } | { path: YamlPath; delete: true };

const PARSE = { schema: 'core', merge: false, strict: true, uniqueKeys: true } as const;

function parse(text: string, file: string): Document {
  const doc = parseDocument(text, PARSE);
  if (doc.errors.length > 0) {
    throw new IntactError('RECIPE_YAML', `cannot edit ${file}: ${doc.errors[0]!.message.split('\n')[0]}`, {
      file,
      hint: 'fix the YAML first (`intact verify` says where)',
    });
  }
  return doc;
}

/** The text with the edits made, everything else byte for byte as it was. */
export function editYaml(text: string, file: string, edits: readonly YamlEdit[]): string {
  if (edits.length === 0) return text;
  const doc = parse(text, file);
  const reference = doc.clone();
  for (const e of edits) {
    if ('delete' in e) reference.deleteIn(e.path);
    else reference.setIn(e.path, e.value);
  }
  const expected: unknown = reference.toJS();
  const inPlace = editInPlace(text, doc, edits);
  if (inPlace !== undefined) {
    const check = parseDocument(inPlace, PARSE);
    if (check.errors.length === 0 && isDeepStrictEqual(check.toJS(), expected)) return inPlace;
  }
  return reference.toString({ lineWidth: 0, flowCollectionPadding: false, indentSeq: !/^-\s/m.test(text) });
}

type Splice = { start: number; end: number; text: string };

function editInPlace(text: string, doc: Document, edits: readonly YamlEdit[]): string | undefined {
  const splices: Splice[] = [];
  for (const e of edits) {
    const s = 'delete' in e ? deletion(text, doc, e.path) : replacement(doc, e.path, e.value);
    if (s === undefined) return undefined;
    splices.push(s);
  }
  splices.sort((a, b) => b.start - a.start);
  for (let i = 1; i < splices.length; i++) if (splices[i]!.end > splices[i - 1]!.start) return undefined; // overlapping
  let out = text;
  for (const s of splices) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}

function replacement(doc: Document, path: YamlPath, value: string): Splice | undefined {
  const node = doc.getIn(path, true);
  if (!isScalar(node) || !node.range) return undefined;
  const rendered = renderScalar(value, node.type);
  return rendered === undefined ? undefined : { start: node.range[0], end: node.range[1], text: rendered };
}

/** A string in the same style as the scalar it replaces; plain only where it stays a plain string. */
function renderScalar(value: string, type: Scalar['type']): string | undefined {
  if (/[\n\r\t\0]/.test(value)) return undefined;
  if (type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  if (type === Scalar.PLAIN) {
    const probe = parseDocument(`k: ${value}\n`, PARSE);
    if (probe.errors.length === 0 && isDeepStrictEqual(probe.toJS(), { k: value }) && !/[#]|:\s|^[-?:,[\]{}&*!|>'"%@`]/.test(value)) return value;
  }
  if (type === Scalar.PLAIN || type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  return undefined; // block scalars: let the Document API write them
}

/** The whole line(s) of a `key: value` pair in a block map, when it stands on lines of its own. */
function deletion(text: string, doc: Document, path: YamlPath): Splice | undefined {
  const parent = doc.getIn(path.slice(0, -1), true);
  const key = path[path.length - 1];
  if (!isMap(parent) || parent.flow) return undefined;
  const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
  if (!pair || !isScalar(pair.key) || !pair.key.range) return undefined;
  const value = pair.value as { range?: [number, number, number] } | null;
  const keyStart = pair.key.range[0];
  const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1;
  // Only a pair that starts its line (not the first key after a "- ").
  if (text.slice(lineStart, keyStart).trim() !== '') return undefined;
  const valueEnd = value?.range?.[1] ?? pair.key.range[1];
  const nl = text.indexOf('\n', valueEnd);
  const end = nl < 0 ? text.length : nl + 1;
  return { start: lineStart, end, text: '' };
}
