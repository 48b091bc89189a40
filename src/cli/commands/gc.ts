// `intact gc [--dry-run]`: remove store entries and cached downloads that no
// project's root reaches (src/store/gc.ts), and say how much space that freed.
import type { Command } from 'commander';
import { IntactError } from '../../errors.js';
import { findProject } from '../../project/find.js';
import { resolveStore, type StoreLayout } from '../../store/paths.js';
import type { CliContext } from './context.js';
import { formatBytes } from '../progress.js';

function parseMinutes(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new IntactError('USAGE', `--min-age takes a number of minutes, not "${v}"`, {
      hint: 'e.g. --min-age 60; 0 removes even what was added a moment ago',
    });
  return n;
}

/** The store: --store / INTACT_STORE needs no project; else the project's ./store. */
async function storeOf(ctx: CliContext): Promise<StoreLayout> {
  const opt = ctx.globals().store;
  return resolveStore(opt ? process.cwd() : await findProject(process.cwd()), opt);
}

export function registerGc(program: Command, ctx: CliContext): void {
  program
    .command('gc')
    .description('remove store entries and cached downloads that no project uses any more')
    .option('--dry-run', 'only say what would be removed', false)
    .option('--min-age <minutes>', 'keep anything added less than this long ago', parseMinutes, 15)
    .addHelpText(
      'after',
      `
Roots: each project's profile registers itself in the store (<store>/roots/); a
root counts while its project folder exists. Kept: the entries a root lists, what
they need (their metadata's deps, transitively), the downloads each root
project's intact.lock pins, and anything younger than --min-age. Safe while
other intact processes use the store: running installs hold a root of their own,
and an entry is removed only under its lock.`,
    )
    .action(async (opts: { dryRun: boolean; minAge: number }) => {
      const out = ctx.output();
      const store = await storeOf(ctx);
      const { collectGarbage } = await import('../../store/gc.js');
      const { projectPins } = await import('../../project/pins.js');
      const r = await collectGarbage(store, { dryRun: opts.dryRun, minAgeMs: opts.minAge * 60_000, pinsOf: (p) => projectPins(store, p) });
      if (out.json) {
        out.document({ ok: r.findings.length === 0, ...r });
      } else {
        const verb = r.dryRun ? 'would remove' : 'removed';
        for (const d of r.droppedRoots) out.info(`dropped the root of ${d.project}: ${d.reason}`);
        for (const e of r.removed) out.info(`${verb} ${e.label} (${formatBytes(e.bytes)})`);
        for (const s of r.skipped) out.debug(`kept ${s.label}: ${s.reason}`);
        for (const f of r.findings) out.finding(f);
        const cacheBytes = r.cacheRemoved.reduce((n, c) => n + c.bytes, 0);
        out.info(
          `${r.dryRun ? 'would free' : 'freed'} ${formatBytes(r.freedBytes)}: ${r.removed.length} entr${r.removed.length === 1 ? 'y' : 'ies'}, ` +
            `${r.cacheRemoved.length} cached download(s) (${formatBytes(cacheBytes)}); kept ${r.kept.entries} entr${r.kept.entries === 1 ? 'y' : 'ies'} and ${r.kept.cacheFiles} download(s)`,
        );
      }
      ctx.found(r.findings);
    });
}
