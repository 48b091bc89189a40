// `intact cache push REF [NAME...]` and `intact cache pull [REF] [NAME...]`: the
// binary cache on an OCI registry (docs/cache.md). Also the glue install uses to
// substitute (installSubstitution). The work is src/cache; this parses and prints.
import type { Command } from 'commander';
import type { BuildServices } from '../../build/context.js';
import type { BuildPlan } from '../../build/plan.js';
import { IntactError } from '../../errors.js';
import type { FetchProgress } from '../../fetch/types.js';
import type { Platform } from '../../platform.js';
import { findProject } from '../../project/find.js';
import type { CliContext } from './context.js';
import { defaultJobs, makeFetchContext } from '../fetch-context.js';
import { formatBytes, progressFor } from '../progress.js';
import { checkRecipeNames } from '../recipe-names.js';

/** The plans of the named recipes and their closure, in dependency order (install's own selection, for its target). */
async function selectPlans(project: string, names: readonly string[], platform?: Platform): Promise<BuildPlan[]> {
  const { planProject } = await import('../../project/plan.js');
  return (await planProject(project, names, platform)).plans;
}

/**
 * For `intact install`: a substitute hook over the project's configured
 * registries; undefined when intact.yaml lists no substituters. Nothing is
 * planned or fetched until the first entry turns out to be missing (a no-op
 * install pays one small file read); then every missing entry's download
 * starts at once. `say` prints the one line per entry that falls back to a build.
 */
export async function installSubstitution(o: {
  project: string;
  names: readonly string[];
  /** install's `--platform`: the substituter plans what install plans (a cross build's keys are its own). */
  platform?: Platform;
  build: BuildServices;
  say: (line: string) => void;
  onEvent?: FetchProgress;
  signal?: AbortSignal;
}): Promise<{ substitute: (plan: BuildPlan) => Promise<boolean>; close: () => Promise<void> } | undefined> {
  const { loadCacheConfig } = await import('../../cache/config.js');
  const config = await loadCacheConfig(o.project);
  if (config.substituters.length === 0) return undefined;
  let hook: Promise<{ run: (plan: BuildPlan) => Promise<boolean>; close: () => Promise<void> }> | undefined;
  const start = async () => {
    const { makeSubstituter, credentialLookup } = await import('../../cache/index.js');
    const sub = makeSubstituter({
      config,
      checks: o.build,
      plans: await selectPlans(o.project, o.names, o.platform),
      lookup: credentialLookup(process.env),
      env: process.env,
      ...(o.onEvent ? { onEvent: o.onEvent } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    sub.prefetch();
    return { run: sub.hook((p, why) => o.say(`cache: ${p.name}@${p.version} not substituted, building it from source: ${why}`)), close: () => sub.close() };
  };
  return {
    substitute: async (plan) => (await (hook ??= start())).run(plan),
    close: async () => {
      if (hook) await (await hook.catch(() => undefined))?.close();
    },
  };
}

export function registerCache(program: Command, ctx: CliContext): void {
  const cache = program.command('cache').description('share built entries through an OCI registry, signed (see docs/cache.md)');

  cache
    .command('push')
    .description('sign and push store entries (the named recipes and what they need; default: all) to a registry')
    .argument('<ref>', 'registry and repository, e.g. ghcr.io/acme/intact-cache (http://127.0.0.1:5000/x for a local test registry)')
    .argument('[names...]', 'recipes to push, with their dependency closure')
    .option('--key <file>', 'the secret key to sign with (default: INTACT_SIGNING_KEY_FILE, INTACT_SIGNING_KEY, or the only key in ~/.config/intact/keys)')
    .addHelpText(
      'after',
      `
Credentials: docker's config.json (docker login, credential helpers), or
INTACT_REGISTRY_USER/INTACT_REGISTRY_PASSWORD, or INTACT_REGISTRY_TOKEN.
Entries that came from a binary cache are not re-signed; build them here first.`,
    )
    .action(async (refText: string, names: string[], opts: { key?: string }) => {
      const out = ctx.output();
      const globals = ctx.globals();
      const project = await findProject(process.cwd());
      await checkRecipeNames(project, names);
      const { loadCacheConfig, parseRef, findSecretKey, RegistryClient, credentialLookup, pushEntries, requireBuilt } = await import('../../cache/index.js');
      const { resolveStore } = await import('../../store/paths.js');
      const config = await loadCacheConfig(project);
      const ref = parseRef(refText, config.insecureRegistries);
      const store = resolveStore(project, globals.store);
      const plans = await selectPlans(project, names);
      await requireBuilt(store, plans);
      const key = await findSecretKey({ ...(opts.key !== undefined ? { file: opts.key } : {}), env: process.env, projectDir: project });
      const client = new RegistryClient(ref, { lookup: credentialLookup(process.env), env: process.env, signal: ctx.signal });
      const mountFrom = config.substituters.filter((s) => s.origin === ref.origin && s.repository !== ref.repository).map((s) => s.repository);
      let reports;
      try {
        reports = await pushEntries(plans, {
          client,
          store,
          key,
          mountFrom,
          jobs: defaultJobs(globals),
          signal: ctx.signal,
          onReport: (r) => {
            if (out.json) return;
            if (r.status === 'pushed')
              out.info(
                `pushed ${r.name}@${r.version} (${formatBytes(r.archiveBytes ?? 0)} archive${(r.parts ?? 1) > 1 ? ` in ${r.parts} parts` : ''}${r.archive === 'uploaded' ? '' : `, ${r.archive === 'mounted' ? 'mounted' : 'already there'}`})`,
              );
            else if (r.status === 'present') out.info(`present ${r.name}@${r.version}: ${r.note}`);
            else out.info(`skipped ${r.name}@${r.version}: ${r.note}`);
          },
        });
      } finally {
        await client.close();
      }
      const count = (s: string) => reports.filter((r) => r.status === s).length;
      if (out.json) {
        out.document({ ok: true, ref: client.name, signedBy: key.name, entries: reports });
        return;
      }
      out.info(`${client.name}: ${count('pushed')} pushed, ${count('present')} present, ${count('skipped')} skipped; signed by ${key.name}`);
    });

  cache
    .command('pull')
    .description('fill the store from the binary cache without building (the named recipes and what they need; default: all)')
    .argument('[ref-and-names...]', 'optionally a registry reference first (default: cache.substituters of intact.yaml), then recipe names')
    .action(async (args: string[]) => {
      const out = ctx.output();
      const globals = ctx.globals();
      const project = await findProject(process.cwd());
      const [first, ...rest] = args;
      // A first argument with a slash is a registry reference, not a recipe name.
      const explicit = first?.includes('/') ? first : undefined;
      const names = explicit !== undefined ? rest : args;
      await checkRecipeNames(project, names);
      const { loadCacheConfig, parseRef, makeSubstituter, credentialLookup, pullEntries } = await import('../../cache/index.js');
      const config = await loadCacheConfig(project);
      const substituters = explicit !== undefined ? [parseRef(explicit, config.insecureRegistries)] : config.substituters;
      if (substituters.length === 0 || config.trustedKeys.length === 0) {
        throw new IntactError(
          'CACHE_NOT_CONFIGURED',
          substituters.length === 0
            ? 'no registry to pull from: intact.yaml lists no cache.substituters'
            : 'intact.yaml lists no cache.trusted-keys, so nothing could be accepted',
          {
            file: 'intact.yaml',
            hint: 'add cache.substituters and cache.trusted-keys to intact.yaml (docs/cache.md), or name a registry: `intact cache pull REF`',
          },
        );
      }
      const progress = progressFor(out);
      const { ctx: fetch, store } = await makeFetchContext(project, globals, { offline: true, signal: ctx.signal });
      const { makeBuildContext } = await import('../build-context.js');
      const built = await makeBuildContext({ projectDir: project, store, fetch, mode: 'off', keepFailed: false, signal: ctx.signal });
      const plans = await selectPlans(project, names);
      const sub = makeSubstituter({
        config: { substituters, trustedKeys: config.trustedKeys },
        checks: built.ctx,
        plans,
        lookup: credentialLookup(process.env),
        env: process.env,
        onEvent: progress.onEvent,
        signal: ctx.signal,
        downloads: defaultJobs(globals),
      });
      let reports;
      try {
        reports = await pullEntries(plans, sub, built.ctx, (r) => {
          if (out.json) return;
          if (r.status === 'pulled') out.info(`pulled ${r.name}@${r.version} from ${r.note}`);
          else if (r.status === 'failed') out.err.write(`not pulled ${r.name}@${r.version}: ${r.note}\n`);
          else if (r.status === 'skipped') out.err.write(`skipped ${r.name}@${r.version}: ${r.note}\n`);
        });
      } finally {
        progress.stop();
        await sub.close();
      }
      const missing = reports.filter((r) => r.status === 'failed' || r.status === 'skipped');
      if (out.json) out.document({ ok: missing.length === 0, entries: reports });
      else
        out.info(
          `${reports.filter((r) => r.status === 'pulled').length} pulled, ${reports.filter((r) => r.status === 'present').length} already present, ${missing.length} not available`,
        );
      if (missing.length > 0) {
        if (out.json) ctx.failed('CACHE_INCOMPLETE');
        else
          throw new IntactError('CACHE_INCOMPLETE', `not in the cache (or not acceptable): ${missing.map((r) => r.name).join(', ')}`, {
            hint: '`intact install` builds them from source; the reasons are above',
          });
      }
    });
}
