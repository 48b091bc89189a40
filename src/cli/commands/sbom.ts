// `intact sbom`: the locked set as CycloneDX 1.5 or SPDX 2.3 JSON, on stdout or
// into a file (written atomically). The logic is src/upgrade/sbom.ts.
import type { Command } from 'commander';
import { IntactError } from '../../errors.js';
import { findProject } from '../../project/find.js';
import type { CliContext } from './context.js';

function parseFormat(v: string): 'cyclonedx' | 'spdx' {
  const f = v.toLowerCase();
  if (f === 'cyclonedx' || f === 'cdx') return 'cyclonedx';
  if (f === 'spdx') return 'spdx';
  throw new IntactError('USAGE', `--format takes cyclonedx or spdx, not "${v}"`, { hint: 'e.g. --format spdx' });
}

export function registerSbom(program: Command, ctx: CliContext): void {
  program
    .command('sbom')
    .description('write a software bill of materials of the locked set (CycloneDX 1.5 or SPDX 2.3 JSON)')
    .option('--format <format>', 'cyclonedx | spdx', parseFormat, 'cyclonedx')
    .option('-o, --output <file>', 'write it to this file instead of stdout')
    .addHelpText(
      'after',
      `
Components: every recipe at its version, with its license, and every pinned
source with its hashes (from the lock) and, for npm sources, its package URL;
the dependency graph from the recipes' deps. The lock must be current. The same
lock gives the same document (set SOURCE_DATE_EPOCH for a fixed timestamp).`,
    )
    .action(async (opts: { format: 'cyclonedx' | 'spdx'; output?: string }) => {
      const out = ctx.output();
      const project = await findProject(process.cwd());
      const { makeSbom } = await import('../../upgrade/sbom.js');
      const sbom = await makeSbom(project, { format: opts.format, env: process.env });
      for (const w of sbom.warnings) out.finding(w);
      if (opts.output === undefined) {
        out.out.write(sbom.text);
        return;
      }
      const { randomBytes } = await import('node:crypto');
      const { rename, rm, writeFile } = await import('node:fs/promises');
      const { resolve } = await import('node:path');
      const final = resolve(process.cwd(), opts.output);
      const tmp = `${final}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, sbom.text, { flag: 'wx' });
        await rename(tmp, final);
      } catch (e) {
        await rm(tmp, { force: true });
        throw new IntactError('IO', `cannot write ${opts.output}: ${(e as Error).message}`, {
          file: opts.output,
          cause: e,
          hint: 'check that its folder exists and is writable',
        });
      }
      if (out.json) out.document({ ok: true, format: opts.format, file: final });
      else out.info(`wrote ${opts.output} (${opts.format === 'cyclonedx' ? 'CycloneDX 1.5' : 'SPDX 2.3'})`);
    });
}
