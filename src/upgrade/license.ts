// Recipe licenses as SPDX expressions (`MIT`, `Apache-2.0 OR MIT`,
// `GPL-2.0-only WITH Classpath-exception-2.0`, `LicenseRef-acme`), checked with
// spdx-expression-parse against the SPDX license list it ships. Policy: an
// unknown license is a warning (LICENSE_UNKNOWN), never an error: the SBOM still
// records it (as a LicenseRef in SPDX, as a license name in CycloneDX), and a
// recipe's license is metadata, not an input of the build.
import { createRequire } from 'node:module';

interface LicenseNode {
  license?: string;
  exception?: string;
  plus?: boolean;
  conjunction?: 'and' | 'or';
  left?: LicenseNode;
  right?: LicenseNode;
}

type Parse = (expression: string) => LicenseNode;
let parser: Parse | undefined;

function parse(): Parse {
  parser ??= createRequire(import.meta.url)('spdx-expression-parse') as Parse;
  return parser;
}

export type LicenseVerdict = { ok: true; expression: string; ids: string[]; single: boolean } | { ok: false; reason: string };

export function checkLicense(expression: string): LicenseVerdict {
  let tree: LicenseNode;
  try {
    tree = parse()(expression);
  } catch {
    const word = /^[A-Za-z0-9.+-]+$/.test(expression.trim());
    return { ok: false, reason: `"${expression}" is not an SPDX license ${word ? 'identifier' : 'expression'}` };
  }
  const ids: string[] = [];
  const walk = (n: LicenseNode): void => {
    if (n.license !== undefined) ids.push(n.license);
    if (n.left) walk(n.left);
    if (n.right) walk(n.right);
  };
  walk(tree);
  const single = tree.license !== undefined && tree.exception === undefined && !tree.plus;
  return { ok: true, expression, ids, single };
}

/** A hint that names the usual spelling for a few common mistakes. */
export function licenseHint(expression: string): string {
  const common: Record<string, string> = {
    'apache 2.0': 'Apache-2.0',
    'apache 2': 'Apache-2.0',
    'apache-2': 'Apache-2.0',
    apache2: 'Apache-2.0',
    'apache license 2.0': 'Apache-2.0',
    gpl: 'GPL-3.0-only',
    gplv2: 'GPL-2.0-only',
    gplv3: 'GPL-3.0-only',
    bsd: 'BSD-3-Clause',
    'mit license': 'MIT',
    'public domain': 'Unlicense',
    lgpl: 'LGPL-2.1-only',
  };
  const guess = common[expression.trim().toLowerCase()];
  return guess !== undefined
    ? `write the SPDX identifier, e.g. \`license: ${guess}\` (https://spdx.org/licenses/)`
    : 'write an SPDX license expression (https://spdx.org/licenses/), or LicenseRef-<name> for a license that has none';
}
