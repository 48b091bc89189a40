// The last resort for finding the npm registry: ask the user's npm. npm exports
// only settings that differ from its defaults to the programs it runs, so a user
// on the default registry with no .npmrc has it written nowhere we can read. We
// never write a registry's host name ourselves; `npm config get registry` says
// what this user's npm would use. It costs a process start (~0.3 s), paid only
// when nothing else configures a registry and an npm source must be resolved.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIntactError } from '../errors.js';
import { loadNpmConfig, type LoadNpmConfigOptions, type NpmConfig } from './npmrc.js';

export async function registryFromNpm(env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // npm makes its cache folder and writes a debug log under ~/.npm even for a
  // question; point both at a scratch folder that is removed after, so asking
  // leaves no trace in the user's home.
  const scratch = await mkdtemp(join(tmpdir(), 'intact-npm-'));
  const quiet = { ...env, npm_config_cache: scratch, npm_config_logs_max: '0', npm_config_update_notifier: 'false' };
  try {
    return await new Promise((resolve) => {
      execFile(npm, ['config', 'get', 'registry'], { env: quiet, cwd, timeout: 15_000, encoding: 'utf8' }, (err, stdout) => {
        const v = typeof stdout === 'string' ? stdout.trim() : '';
        resolve(!err && /^https?:\/\//.test(v) ? v : undefined);
      });
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** loadNpmConfig, falling back to the npm command line for the registry itself. */
export async function loadNpmConfigWithFallback(opts: LoadNpmConfigOptions & { env: NodeJS.ProcessEnv }): Promise<NpmConfig> {
  const cfg = await loadNpmConfig(opts);
  try {
    cfg.registryFor('intact-probe');
    return cfg;
  } catch (e) {
    if (!isIntactError(e) || e.code !== 'NPM_REGISTRY_UNSET') throw e;
  }
  const registry = await registryFromNpm(opts.env, opts.cwd);
  if (registry === undefined) return cfg; // registryFor will say what to configure
  return loadNpmConfig({ ...opts, env: { ...opts.env, npm_config_registry: registry } });
}
