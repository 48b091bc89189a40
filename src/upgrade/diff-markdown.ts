// A diff report as Markdown, written to be pasted (or posted by CI) as a merge
// request comment: one table that says what moved, then one short section per
// recipe with the details a reviewer checks — new locations, new pins, closure
// changes, rebuilds (store keys), output hashes. Hashes are shortened for
// reading; `--format json` carries them whole.
import type { Change, DiffReport, RecipeDiff, RecipeStatus } from './diff.js';
import { formatBytes } from '../format-bytes.js';

const ORDER: RecipeStatus[] = ['upgraded', 'downgraded', 'added', 'removed', 'changed', 'relocked'];

export function renderMarkdown(report: DiffReport, opts: { title?: string; compared?: boolean } = {}): string {
  const out: string[] = [];
  const counts = ORDER.filter((s) => report.counts[s] > 0).map((s) => `${report.counts[s]} ${s}`);
  out.push(`### ${opts.title ?? 'intact'}: ${counts.length > 0 ? counts.join(', ') : 'no recipe changes'}`, '');
  if (opts.compared !== false) out.push(`Compared ${report.head.label} with ${report.base.label}.`, '');
  if (report.recipes.length === 0) {
    out.push('Recipes and intact.lock are unchanged.', '');
    return out.join('\n');
  }
  const sized = report.recipes.some((r) => r.size !== undefined);
  out.push(sized ? '| recipe | change | version | size |' : '| recipe | change | version |');
  out.push(sized ? '| --- | --- | --- | --- |' : '| --- | --- | --- |');
  for (const r of sorted(report.recipes)) {
    const cells = [code(r.name), r.status, versionCell(r)];
    if (sized) cells.push(sizeCell(r.size));
    out.push(`| ${cells.join(' | ')} |`);
  }
  out.push('');
  const fold = report.recipes.length > 5;
  for (const r of sorted(report.recipes)) {
    const lines = details(r);
    if (lines.length === 0) continue;
    const head = `${code(r.name)} ${versionCell(r).replace(/\*\*/g, '')}`;
    if (fold) out.push(`<details><summary>${head}</summary>`, '', ...lines, '', '</details>', '');
    else out.push(`#### ${head}`, '', ...lines, '');
  }
  return out.join('\n');
}

function sorted(rs: readonly RecipeDiff[]): RecipeDiff[] {
  return [...rs].sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status) || (a.name < b.name ? -1 : 1));
}

function details(r: RecipeDiff): string[] {
  const out: string[] = [];
  if (r.status === 'removed') {
    out.push(`- removed with its lock entry${r.version.before ? ` (was ${r.version.before})` : ''}`);
    return out;
  }
  for (const s of r.sources) {
    const where = `\`sources[${s.index}]\``;
    if (s.location.before === undefined) out.push(`- ${where} added: ${code(s.location.after)}`);
    else if (s.location.after === undefined) out.push(`- ${where} removed: ${code(s.location.before)}`);
    else if (s.location.before !== s.location.after) out.push(`- ${where}: ${code(s.location.before)} → ${code(s.location.after)}`);
    else out.push(`- ${where} ${code(s.location.after)}`);
    if (s.integrity.before !== s.integrity.after) out.push(`  - integrity: ${pin(s.integrity)}`);
    if (s.archiveIntegrity.before !== s.archiveIntegrity.after) out.push(`  - archive integrity: ${pin(s.archiveIntegrity)}`);
  }
  for (const f of r.files) out.push(`- file ${code(f.path)}: ${pin(f)}`);
  if (r.deps.added.length + r.deps.removed.length > 0) out.push(`- deps: ${listChange(r.deps)}`);
  if (r.closure.added.length + r.closure.removed.length > 0) out.push(`- closure: ${listChange(r.closure)}`);
  out.push(...keyLines(r));
  for (const o of r.outputs) out.push(`- output ${code(o.platform)}: ${pin(o)}`);
  if (r.license) out.push(`- license: ${r.license.before ?? 'none'} → ${r.license.after ?? 'none'}`);
  const moved = r.sources.length + r.files.length + r.deps.added.length + r.deps.removed.length + (r.license ? 1 : 0);
  if (r.status === 'changed' && moved === 0 && r.recipeChanged) out.push(`- ${code(r.file)} changed (build steps or metadata); sources and pins are the same`);
  if (r.recipeChanged && !r.lockChanged) out.push(`- **the lock entry did not change**: run \`intact lock ${r.name}\``);
  if (
    !r.recipeChanged &&
    r.lockChanged &&
    r.status === 'relocked' &&
    r.closure.added.length + r.closure.removed.length === 0 &&
    r.outputs.length === 0 &&
    r.keys.length === 0
  )
    out.push('- **only the lock entry changed**: check why');
  return out;
}

/** What the store keys say about builds, one line each kind: rebuilt, newly keyed, no longer keyed. */
function keyLines(r: RecipeDiff): string[] {
  const on = (f: (k: RecipeDiff['keys'][number]) => boolean) =>
    r.keys
      .filter(f)
      .map((k) => code(k.platform))
      .join(', ');
  const out: string[] = [];
  const rebuilt = on((k) => k.before !== undefined && k.after !== undefined);
  if (rebuilt) out.push(`- rebuilds on ${rebuilt} (new store key)`);
  if (r.status === 'added') return out;
  const recorded = on((k) => k.before === undefined);
  if (recorded) out.push(`- store key recorded for ${recorded}`);
  const dropped = on((k) => k.after === undefined);
  if (dropped) out.push(`- no store key for ${dropped} any more`);
  return out;
}

function versionCell(r: RecipeDiff): string {
  const { before, after } = r.version;
  if (before !== undefined && after !== undefined && before !== after) return `${before} → **${after}**`;
  return after ?? before ?? '?';
}

function sizeCell(s: Change<number> | undefined): string {
  if (!s) return '';
  if (s.before !== undefined && s.after !== undefined) {
    const d = s.after - s.before;
    return `${bytes(s.before)} → ${bytes(s.after)} (${d >= 0 ? '+' : '−'}${bytes(Math.abs(d))})`;
  }
  return s.after !== undefined ? `${bytes(s.after)} (new)` : `${bytes(s.before!)} (before)`;
}

/** A hash change, shortened: `sha512-AbCdEfGhIjKl…`. */
function pin(c: Change): string {
  const short = (h: string | undefined): string => (h === undefined ? 'none' : code(h.length > 24 ? `${h.slice(0, h.indexOf('-') + 13)}…` : h));
  return `${short(c.before)} → ${short(c.after)}`;
}

function listChange(c: { added: string[]; removed: string[] }): string {
  return [...c.added.map((d) => `+${code(d)}`), ...c.removed.map((d) => `−${code(d)}`)].join(', ');
}

function code(s: string | undefined): string {
  return `\`${(s ?? '').replace(/`/g, "'")}\``;
}

export const bytes = formatBytes;
