// JUnit XML for CI: GitLab and GitHub show test cases natively, so each recipe
// and check becomes one test case, failing with the findings that concern it.
import { writeFile } from 'node:fs/promises';
import { byCodePoint } from '../canonical-json.js';
import { formatPlace, type Finding } from '../errors.js';

export interface JunitCase {
  suite: string;
  name: string;
  failures: Finding[];
}

const escapeXml = (s: string): string =>
  s
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 cannot carry most control characters, even escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function renderJunit(cases: readonly JunitCase[]): string {
  const suites = new Map<string, JunitCase[]>();
  for (const c of cases) suites.set(c.suite, [...(suites.get(c.suite) ?? []), c]);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failures = cases.filter((c) => c.failures.length > 0).length;
  out.push(`<testsuites name="intact verify" tests="${cases.length}" failures="${failures}">`);
  for (const [suite, list] of [...suites].sort((a, b) => byCodePoint(a[0], b[0]))) {
    out.push(`  <testsuite name="${escapeXml(suite)}" tests="${list.length}" failures="${list.filter((c) => c.failures.length > 0).length}">`);
    for (const c of list) {
      if (c.failures.length === 0) {
        out.push(`    <testcase classname="${escapeXml(suite)}" name="${escapeXml(c.name)}"/>`);
        continue;
      }
      const first = c.failures[0]!;
      const text = c.failures
        .map((f) => `${formatPlace(f) ? `${formatPlace(f)}: ` : ''}[${f.code}] ${f.message}${f.hint ? `\nhint: ${f.hint}` : ''}`)
        .join('\n\n');
      out.push(`    <testcase classname="${escapeXml(suite)}" name="${escapeXml(c.name)}">`);
      out.push(`      <failure type="${first.code}" message="${escapeXml(first.message)}">${escapeXml(text)}</failure>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** Which recipe a finding is about: its `recipe` field, else its recipe file. Never read from the message. */
export function recipeOf(f: Finding, names: readonly string[]): string | undefined {
  if (f.recipe !== undefined && names.includes(f.recipe)) return f.recipe;
  const m = /^recipes\/([^/]+)\.yaml$/.exec(f.file ?? '');
  return m && names.includes(m[1]!) ? m[1] : undefined;
}

/** One case per recipe for a check, plus one for the project when a finding concerns no recipe. */
export function casesFor(suite: string, names: readonly string[], findings: readonly Finding[]): JunitCase[] {
  const errors = findings.filter((f) => f.severity === 'error');
  const cases: JunitCase[] = names.map((n) => ({ suite, name: n, failures: errors.filter((f) => recipeOf(f, names) === n) }));
  const rest = errors.filter((f) => recipeOf(f, names) === undefined);
  cases.push({ suite, name: '(project)', failures: rest });
  return cases;
}

export async function writeJunit(file: string, cases: readonly JunitCase[]): Promise<void> {
  await writeFile(file, renderJunit(cases));
}
