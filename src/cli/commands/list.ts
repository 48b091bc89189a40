// `intact list [--json]`: the store's entries with name, version, key, size, how
// each got there, its sandbox level, and whether a project still uses it.
import type { Command } from 'commander';
import { findProject } from '../../project/find.js';
import { resolveStore, type StoreLayout } from '../../store/paths.js';
import type { CliContext } from './context.js';
import { formatBytes } from '../progress.js';

async function storeOf(ctx: CliContext): Promise<StoreLayout> {
  const opt = ctx.globals().store;
  return resolveStore(opt ? process.cwd() : await findProject(process.cwd()), opt);
}

export function registerList(program: Command, ctx: CliContext): void {
  program
    .command('list')
    .description("list the store's entries: name, version, key, size, origin, sandbox level, and whether a project uses them")
    .action(async () => {
      const out = ctx.output();
      const store = await storeOf(ctx);
      const { listEntries } = await import('../../store/list.js');
      const entries = await listEntries(store);
      if (out.json) {
        out.document({ ok: true, store: store.root, entries });
        return;
      }
      if (entries.length === 0) {
        out.info(`the store ${store.root} is empty`);
        return;
      }
      const rows = [
        ['NAME', 'VERSION', 'KEY', 'SIZE', 'ORIGIN', 'SANDBOX', 'USED'],
        ...entries.map((e) => [
          e.name ?? `(${e.entry})`,
          e.version ?? '?',
          e.key,
          e.size === undefined ? '?' : formatBytes(e.size),
          e.origin ?? '?',
          e.sandbox ?? '?',
          e.reachable ? 'yes' : 'no (gc removes it)',
        ]),
      ];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) out.info(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
      for (const e of entries) if (e.problem) out.debug(`${e.entry}: ${e.problem}`);
    });
}
