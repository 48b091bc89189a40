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
import jsyaml from 'js-yaml';
import { lazyLocator, parseFull, type ParsedYaml } from './yaml-full.js';

export type { FieldPath, Locator, ParsedYaml } from './yaml-full.js';

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
    if (ok) return { value, locate: lazyLocator(text, file), findings: [] };
  }
  return parseFull(text, file);
}
