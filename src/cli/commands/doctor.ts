// `intact doctor`: what this machine allows and where things are, in words.
import { execFile } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { findProject } from '../../project/find.js';
import { hostPlatform } from '../../platform.js';
import { resolveStore } from '../../store/paths.js';
import type { CliContext } from './context.js';

function version(cmd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => execFile(cmd, args, { timeout: 5000 }, (e, out) => resolve(e ? undefined : String(out).split('\n')[0])));
}

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('explain what this machine allows (sandbox level, store, registry) and how to fix what is missing')
    .action(async () => {
      const out = ctx.output();
      const { probeSandbox, explainSandbox } = await import('../../build/sandbox/index.js');
      const probe = await probeSandbox();
      const project = await findProject(process.cwd()).catch(() => undefined);
      const store = project ? resolveStore(project, ctx.globals().store) : undefined;
      let storeWritable: boolean | undefined;
      if (store)
        storeWritable = await mkdir(store.root, { recursive: true })
          .then(() => access(store.root, constants.W_OK))
          .then(
            () => true,
            () => false,
          );
      const git = await version('git', ['--version']);
      let registry: string | undefined;
      let registryError: string | undefined;
      if (project) {
        const { loadNpmConfigWithFallback } = await import('../../fetch/npm-cli.js');
        try {
          const { redactUrl } = await import('../../fetch/npmrc.js');
          registry = redactUrl((await loadNpmConfigWithFallback({ cwd: project, env: process.env })).registryFor('intact-probe'));
        } catch (e) {
          registryError = (e as Error).message;
        }
      }
      const report = {
        node: process.version,
        platform: hostPlatform() ?? `${process.platform}-${process.arch} (unsupported)`,
        uid: process.getuid?.(),
        project,
        store: store?.root,
        storeWritable,
        sandbox: probe.level,
        sandboxReasons: probe.reasons,
        git,
        npmRegistry: registry,
        npmRegistryError: registryError,
      };
      if (out.json) {
        out.document({ ok: true, ...report });
        return;
      }
      out.info(`node       ${report.node}`);
      out.info(`platform   ${report.platform}${report.uid === 0 ? ' (running as root: intact never needs it)' : ''}`);
      out.info(`project    ${project ?? 'none here (run `intact init`)'}`);
      if (store) out.info(`store      ${store.root}${storeWritable ? '' : ' (NOT writable: use --store or INTACT_STORE)'}`);
      out.info(`git        ${git ?? 'not found (needed only for git sources)'}`);
      out.info(`npm        ${registry ? `registry ${registry}` : `no registry: ${registryError ?? 'no project'}`}`);
      out.info(`sandbox    ${probe.level}`);
      for (const line of explainSandbox(probe)) out.info(`  ${line}`);
    });
}
