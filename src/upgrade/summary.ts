// The text `intact upgrade` prints for the merge request: what moved, which
// files were edited, the new pins (the diff report's Markdown), what else was
// locked again and why, the build's result, and what the reviewer should check.
import { formatPlace } from '../errors.js';
import { renderMarkdown } from './diff-markdown.js';
import type { UpgradeResult } from './upgrade.js';

export function upgradeSummary(r: UpgradeResult): string {
  const out: string[] = [];
  out.push(`## Upgrade \`${r.name}\` ${r.from} → ${r.to}`, '');
  out.push(`Edited \`${r.file}\`: ${r.changes.map((c) => `\`${c.field}\``).join(', ')}.`);
  for (const t of r.tags) out.push(`\`${t.field}\` is the commit of tag \`${t.tag}\` (${t.rev}).`);
  for (const d of r.dependents) out.push(`Edited \`${d.file}\`: ${d.changes.map((c) => `\`${c.field}\` → \`${c.to}\``).join(', ')}.`);
  const others = r.relocked.filter((n) => n !== r.name);
  if (others.length > 0) out.push(`Locked again with it (their dependency closure holds ${r.name}): ${others.map((n) => `\`${n}\``).join(', ')}.`);
  out.push('Every new pin was fetched and hashed by `intact upgrade`; no other entry of intact.lock changed.', '');
  if (r.report) out.push(renderMarkdown(r.report, { title: 'intact.lock', compared: false }).trimEnd(), '');
  if (r.build) {
    if ('error' in r.build) out.push(`**Build failed**: ${r.build.error.message}`);
    else out.push(`Build (${r.build.platform}): ${r.build.status}${r.build.output ? `, output \`${r.build.output}\`` : ''}.`);
  } else {
    out.push(`Not built here: \`intact install ${r.name}\` builds it.`);
  }
  if (r.findings.length > 0) {
    out.push('', 'To check:');
    for (const f of r.findings) out.push(`- ${formatPlace(f) ? `${formatPlace(f)}: ` : ''}${f.message}${f.hint ? ` (${f.hint})` : ''}`);
  }
  return `${out.join('\n')}\n`;
}
