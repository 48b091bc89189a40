// The text of a new recipe written by `intact add`: the pinned source(s), what
// the package says about itself, and commented sections for what only its
// author can know (build steps, programs, dependencies). Every value is written
// as a JSON string where YAML could read it otherwise (JSON strings are YAML).
import type { Platform } from '../recipe/types.js';

export interface TemplateSource {
  kind: 'npm' | 'url' | 'git' | 'deb' | 'debSource';
  value: string;
  rev?: string;
  /** debSource: the file of the source package. */
  file?: string;
  platforms?: Platform[];
}

export interface TemplateInput {
  name: string;
  version: string;
  /** The argument `intact add` was given, for the header comment. */
  added: string;
  description?: string;
  license?: string;
  /** A license the package declares that is not SPDX; written as a comment. */
  licenseNote?: string;
  homepage?: string;
  platforms?: Platform[];
  sources: TemplateSource[];
  /** Program names the package declares (`bin` of package.json), as a hint. */
  binHint?: string[];
}

/** Plain when YAML reads it back as the same string, quoted otherwise. */
function str(s: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_./+-]*$/.test(s) && !/^(?:true|false|null|~|[0-9.eE+-]+|0x[0-9a-f]+|0o[0-7]+|\.inf|\.nan)$/i.test(s) ? s : JSON.stringify(s);
}

export function renderRecipe(t: TemplateInput): string {
  const l: string[] = [];
  l.push(`# Added by \`intact add ${t.added}\`. Check the fields, write the build steps,`);
  l.push('# then commit this file with intact.lock. Format: docs/recipes.md.');
  l.push(`name: ${str(t.name)}`);
  l.push(`version: ${JSON.stringify(t.version)}`);
  if (t.description) l.push(`description: ${JSON.stringify(t.description.replace(/\s+/g, ' ').trim())}`);
  if (t.license) l.push(`license: ${JSON.stringify(t.license)}`);
  else l.push(`# license: <SPDX expression>${t.licenseNote ? `  (the package says: ${t.licenseNote.replace(/\s+/g, ' ')})` : ''}`);
  if (t.homepage) l.push(`homepage: ${JSON.stringify(t.homepage)}`);
  if (t.platforms && t.platforms.length > 0) l.push(`platforms: [${t.platforms.join(', ')}]`);
  l.push('sources:');
  for (const s of t.sources) {
    l.push(`  - ${s.kind}: ${JSON.stringify(s.value)}`);
    if (s.rev !== undefined) l.push(`    rev: ${JSON.stringify(s.rev)}`);
    if (s.file !== undefined) l.push(`    debFile: ${JSON.stringify(s.file)}`);
    if (s.platforms) l.push(`    platforms: [${s.platforms.join(', ')}]`);
    if (s.kind === 'url' || s.kind === 'debSource') l.push("    # strip: 1    # drop the archive's top folder");
  }
  l.push('# Other recipes this one needs, as exact name@version:');
  l.push('# deps: [zig@0.11.0]');
  l.push('# Build steps run in order with only the declared deps on PATH, never the');
  l.push("# host's shell or tools. With no steps, the unpacked sources are the output,");
  l.push('# which is how a prebuilt static binary is packaged.');
  l.push('build: []');
  l.push('#  - run: [zig, cc, -target, x86_64-linux-musl, -O2, -static, -o, "$out/bin/tool", tool.c]');
  l.push('# Paths under $out to put on PATH' + (t.binHint && t.binHint.length > 0 ? ` (the package declares: ${t.binHint.join(', ')}):` : ':'));
  l.push('bin: []');
  return `${l.join('\n')}\n`;
}
