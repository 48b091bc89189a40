// `intact verify`: the CI gate. Static checks of recipes and lock (this file only
// prints; the checks live in src/lock/verify.ts).
import type { Command } from 'commander';
import { findProject } from '../../project.js';
import type { CliContext } from '../main.js';

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('prove that recipes and lock are whole, exact and pinned (never writes anything)')
    .addHelpText('after', `
Checks: every recipe parses and validates; no floating versions; the lock exists,
parses, has an entry for every recipe and none extra; each entry matches its
recipe; every source is pinned by a strong hash; every dependency exists at its
exact version; no cycles. Exit 0 when clean, 1 on findings, 2 on unusable input.`)
    .action(async () => {
      const out = ctx.output();
      const { verifyStatic } = await import('../../lock/index.js');
      const project = await findProject(process.cwd());
      const report = await verifyStatic(project);
      if (out.json) {
        out.document({
          ok: report.ok,
          recipes: report.recipes,
          lockEntries: report.lockEntries,
          findings: report.findings,
        });
      } else {
        for (const f of report.findings) out.finding(f);
        const errors = report.findings.filter((f) => f.severity === 'error').length;
        if (report.ok) out.info(`verified ${report.recipes} recipe(s) against intact.lock: all pinned and current`);
        else out.err.write(`verify failed: ${errors} finding(s) in ${report.recipes} recipe(s)\n`);
      }
      ctx.setExit(report.exitCode);
    });
}
