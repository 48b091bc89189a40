// One closing line that says what was skipped and why, so a run where the
// machine could not give a test what it needs (no unprivileged user namespaces,
// not root, no glibc for docker-registry) neither fails nor passes silently.
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipSummary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const reasons = new Map<string, number>();
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const r = t.result();
        if (r.state !== 'skipped') continue;
        // A skip with a note (ctx.skip(note)) says why; a skipped suite says it in its name.
        const why = r.note ?? t.fullName.split(' > ').find((part) => part.includes('(skipped:')) ?? t.fullName.split(' > ')[0]!;
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
    }
    const total = [...reasons.values()].reduce((a, b) => a + b, 0);
    if (total === 0) return;
    const list = [...reasons].map(([why, n]) => (n > 1 ? `${why} (${n} tests)` : why)).join('; ');
    process.stdout.write(`\nskipped: ${total} test${total === 1 ? '' : 's'}: ${list}\n`);
  }
}
