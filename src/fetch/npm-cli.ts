// The last resort for finding the npm registry: ask the user's npm. npm exports
// only settings that differ from its defaults to the programs it runs, so a user
// on the default registry with no .npmrc has it written nowhere we can read. We
// never write a registry's host name ourselves; `npm config get registry` says
// what this user's npm would use. It costs a process start (~0.3 s), paid only
// when nothing else configures a registry and an npm source must be resolved.
import { execFile } from 'node:child_process';
import { isIntactError } from '../errors.js';
import { loadNpmConfig, type LoadNpmConfigOptions, type NpmConfig } from './npmrc.js';

export function registryFromNpm(env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return new Promise((resolve) => {
    execFile(npm, ['config', 'get', 'registry'], { env, cwd, timeout: 15_000, encoding: 'utf8' }, (err, stdout) => {
      const v = typeof stdout === 'string' ? stdout.trim() : '';
      resolve(!err && /^https?:\/\//.test(v) ? v : undefined);
    });
  });
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
