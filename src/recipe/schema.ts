// Structural validation against schema/recipe.schema.json, the one definition of
// the recipe format (editors use the same file for completion). Ajv's raw errors
// are turned into findings that name the field, its line, and what to write.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import { finding, type Finding } from '../errors.js';
import { classifyIntegrity } from './integrity.js';
import type { FieldPath, Locator } from './yaml.js';

/** Shipped in the package beside dist/ and src/: both are two levels below it. */
export const SCHEMA_PATH = fileURLToPath(new URL('../../schema/recipe.schema.json', import.meta.url));

const SOURCE_KINDS = ['url', 'npm', 'git', 'file', 'deb', 'debSource'] as const;
const STEP_KINDS = ['run', 'script', 'copy', 'symlink', 'write', 'chmod', 'patch', 'env', 'mkdir'] as const;

let validator: ValidateFunction | undefined;
let schemaDoc: SchemaNode | undefined;

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  definitions?: Record<string, SchemaNode>;
  oneOf?: SchemaNode[];
  required?: string[];
  $ref?: string;
}

function schema(): SchemaNode {
  schemaDoc ??= JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as SchemaNode;
  return schemaDoc;
}

/** Ajv options; scripts/compile-schema.mjs uses the same ones. */
const AJV_OPTIONS = { allErrors: true, strict: false, allowUnionTypes: true, inlineRefs: false } as const;

function compile(): ValidateFunction {
  if (validator) return validator;
  const require = createRequire(import.meta.url);
  try {
    // The build compiles the schema ahead of time (scripts/compile-schema.mjs);
    // that saves ajv's import and compile on every run.
    validator = require('./recipe-validator.cjs') as ValidateFunction;
  } catch {
    // Running from src/ (tests): compile now, from the same schema and options.
    const Ajv = require('ajv') as typeof import('ajv').default;
    validator = new Ajv(AJV_OPTIONS).compile(schema());
  }
  return validator;
}

/** Validate a parsed recipe document; returns findings (empty when valid). */
export function validateShape(value: unknown, file: string, locate: Locator): Finding[] {
  if (value === null || value === undefined) {
    return [
      finding('RECIPE_SCHEMA', 'the recipe is empty', { file, line: 1, col: 1, hint: 'a recipe needs at least `name:` and `version:`; see docs/recipes.md' }),
    ];
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return [
      finding('RECIPE_SCHEMA', `a recipe must be a mapping of fields, found ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`, {
        file,
        line: 1,
        col: 1,
        hint: 'start with `name: <name>` and `version: <exact version>`; see docs/recipes.md',
      }),
    ];
  }
  const validate = compile();
  if (validate(value)) return [];
  const errors = pruneErrors(validate.errors ?? [], value);
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const f = toFinding(e, value, file, locate);
    const k = `${f.line}:${f.col}:${f.message}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(f);
    }
  }
  return out;
}

function pathOf(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function fieldName(path: FieldPath): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}

function at(value: unknown, path: FieldPath): unknown {
  let v = value;
  for (const seg of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

/**
 * `oneOf` over sources and steps makes ajv report every branch's complaint.
 * Keep only what matters: for an object with exactly one kind key, the errors of
 * that kind's branch; otherwise one clear "needs exactly one of" finding.
 */
function pruneErrors(errors: ErrorObject[], value: unknown): ErrorObject[] {
  const out: ErrorObject[] = [];
  for (const e of errors) {
    // Refs are not inlined, so schema paths are relative to the source/step definition.
    const m = /^#\/(oneOf|if|then)(?:\/(\d+))?/.exec(e.schemaPath);
    const kind = kindOf(e.instancePath);
    if (m && kind) {
      // `/sources/0/...` or `/build/2/...`: the source or step object itself.
      const objPath = e.instancePath.split('/').slice(0, 3).join('/');
      const obj = at(value, pathOf(objPath));
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) continue; // its `type` error says it
      const keys = kind === 'source' ? SOURCE_KINDS : STEP_KINDS;
      const present = keys.filter((k) => k in obj);
      if (m[1] === 'if') continue; // the `then` error says it better
      if (present.length !== 1) {
        if (m[1] === 'oneOf' && m[2] === undefined) out.push({ ...e, keyword: `${kind}Kind`, instancePath: objPath, params: { present } });
        continue;
      }
      if (m[1] === 'oneOf' && m[2] === undefined) continue;
      if (kind === 'step' && m[1] === 'oneOf' && Number(m[2]) !== STEP_KINDS.indexOf(present[0] as (typeof STEP_KINDS)[number])) continue;
      if (kind === 'source' && m[1] === 'oneOf') continue; // the branches only say "required"
    }
    out.push(e);
  }
  return out;
}

function kindOf(instancePath: string): 'source' | 'step' | undefined {
  if (/^\/sources\/\d+(\/|$)/.test(instancePath)) return 'source';
  if (/^\/build\/\d+(\/|$)/.test(instancePath)) return 'step';
  return undefined;
}

function toFinding(e: ErrorObject, value: unknown, file: string, locate: Locator): Finding {
  const path = pathOf(e.instancePath);
  const field = fieldName(path);
  const where = field === '' ? 'the recipe' : `\`${field}\``;
  let message: string;
  let hint: string;
  let pos = locate(path);
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const known = knownFields(e, path);
      const guess = closest(extra, known);
      pos = locate([...path, extra], true) ?? pos;
      message = `unknown field \`${extra}\` in ${where}`;
      hint = guess ? `did you mean \`${guess}\`? Known fields: ${known.join(', ')}` : `known fields: ${known.join(', ')}`;
      return finding('RECIPE_SCHEMA', message, { file, ...pos, field: fieldName([...path, extra]), hint });
    }
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      message = `${where} is missing the field \`${missing}\``;
      hint = missing === 'rev' ? 'a git source needs `rev:` with the full 40-hex commit id' : `add \`${missing}:\``;
      break;
    }
    case 'type': {
      const want = String((e.params as { type: string }).type);
      const got = at(value, path);
      message = `${where} must be ${article(want)}, found ${describe(got)}`;
      hint =
        typeof got === 'number' && want === 'string'
          ? `quote it, e.g. "${String(got)}" (YAML reads unquoted 1.10 as the number 1.1)`
          : `write ${article(want)} here; see docs/recipes.md`;
      break;
    }
    case 'dependencies': {
      const p = e.params as { property: string; missingProperty: string };
      message = `\`${p.property}\` in ${where} only goes with \`${p.missingProperty}\``;
      hint = `add \`${p.missingProperty}\` or remove \`${p.property}\``;
      pos = locate([...path, p.property], true) ?? pos;
      break;
    }
    case 'sourceKind':
    case 'stepKind': {
      const present = (e.params as { present: string[] }).present;
      const kinds = e.keyword === 'sourceKind' ? SOURCE_KINDS : STEP_KINDS;
      const noun = e.keyword === 'sourceKind' ? 'a source' : 'a build step';
      message = present.length === 0 ? `${where} is ${noun} without a kind` : `${where} is ${noun} with several kinds (${present.join(', ')})`;
      hint = `give exactly one of: ${kinds.join(', ')}`;
      break;
    }
    case 'enum': {
      const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
      message = `${where} is ${JSON.stringify(at(value, path))}, which is not one of the known values`;
      hint = `use one of: ${allowed.join(', ')}`;
      break;
    }
    case 'pattern': {
      const last = path[path.length - 1];
      if (last === 'integrity' || last === 'archiveIntegrity') {
        // The integrity rules say precisely why (weak algorithm, malformed, several hashes).
        const v = classifyIntegrity(at(value, path));
        if (!v.ok)
          return finding(v.weak ? 'INTEGRITY_WEAK' : 'INTEGRITY_MALFORMED', `${where} is refused: ${v.reason}`, {
            file,
            ...pos,
            field,
            hint: v.hint,
            found: String(at(value, path)),
          });
      }
      message = `${where} is ${JSON.stringify(at(value, path))}, which has the wrong form`;
      hint = patternHint(path, (e.params as { pattern: string }).pattern);
      break;
    }
    case 'uniqueItems':
      message = `${where} lists the same item twice`;
      hint = 'remove the repeated item';
      break;
    case 'minItems':
    case 'minLength':
      message = `${where} is empty`;
      hint = 'give a value, or remove the field';
      break;
    default:
      message = `${where} ${e.message ?? 'is not valid'}`;
      hint = 'see docs/recipes.md for the format';
  }
  return finding('RECIPE_SCHEMA', message, { file, ...pos, field: field || undefined, hint });
}

function knownFields(e: ErrorObject, path: FieldPath): string[] {
  const doc = schema();
  const defs = doc.definitions ?? {};
  const kind = path.length === 2 ? kindOf(e.instancePath) : undefined;
  if (kind === 'source') return Object.keys(defs['source']?.properties ?? {});
  const step = /^#\/oneOf\/(\d+)/.exec(e.schemaPath);
  if (kind === 'step' && step) return Object.keys(defs['step']?.oneOf?.[Number(step[1])]?.properties ?? {});
  return Object.keys(doc.properties ?? {});
}

/** Suggest the known name nearest to a typo (edit distance at most 2). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function patternHint(path: FieldPath, pattern: string): string {
  const last = path[path.length - 1];
  if (last === 'name') return 'recipe names use lower-case letters, digits and . _ - (and must match the file name)';
  if (last === 'url' || path.includes('mirrors') || last === 'homepage') return 'write a full http:// or https:// URL';
  if (last === 'integrity' || last === 'archiveIntegrity') return 'write an SRI string: sha512-<base64> (or sha384-, sha256-)';
  if (last === 'mode') return 'write an octal mode such as "0755" (quoted)';
  if (pattern.includes('\\.\\.')) return 'use a relative path that stays inside its folder (no leading / and no ..)';
  return 'see docs/recipes.md for the format';
}

function article(type: string): string {
  return type === 'array' ? 'a list' : type === 'object' ? 'a mapping' : /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  return `the ${typeof v} ${String(v)}`;
}
