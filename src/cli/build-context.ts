// Assembling what builds need from the global options: the store, fetchers,
// the sandbox at the level this machine allows (or the one demanded), output
// checks and normalisation. Heavy modules load here, only for commands that build.
import type { BuildServices } from '../build/context.js';
import type { BuildLimits } from '../recipe/limits.js';
import { lost } from '../build/sandbox/lost.js';
import type { SandboxLevel, SandboxMode } from '../build/types.js';
import type { StoreLayout } from '../store/paths.js';
import type { FetchContext } from '../fetch/context.js';
import { IntactError } from '../errors.js';
import { PLATFORMS, type Platform } from '../platform.js';
import type { Output } from './output.js';
import type { CliContext } from './commands/context.js';

export function parseSandboxMode(v: string): SandboxMode {
  if (v === 'require' || v === 'auto' || v === 'off') return v;
  throw new IntactError('USAGE', `--sandbox takes require, auto or off, not "${v}"`, { hint: 'e.g. --sandbox=require in CI' });
}

/** `--platform`: a platform name recipes use; the target of the builds (docs/recipes.md, cross-building). */
export function parsePlatform(v: string): Platform {
  if ((PLATFORMS as readonly string[]).includes(v)) return v as Platform;
  throw new IntactError('USAGE', `--platform takes ${PLATFORMS.join(', ')}, not "${v}"`, {
    hint: 'e.g. --platform linux-arm64 to cross-build for 64-bit Arm Linux',
  });
}

/** `--limits time=4h,processes=8192` (docs/builds.md), checked against the bounds as the flag is read. */
export const LIMITS_FLAG = [
  '--limits <list>',
  "build limits for this run, over the recipes' own: time=4h,silent=1h,log=128MiB,disk=32GiB,processes=8192 (bounds: docs/builds.md)",
] as const;
export async function parseLimitsFlag(v: string | undefined): Promise<Partial<BuildLimits> | undefined> {
  if (v === undefined) return undefined;
  const { parseLimitList } = await import('../build/limits.js');
  return parseLimitList(v);
}

/**
 * How a command's builds talk to the user: logs as they come with --verbose, and
 * one warning when the sandbox is weaker than full, naming what it loses
 * (docs/builds.md: a weaker sandbox is never silent).
 */
export function reporting(out: Output): { onLog?: (name: string, chunk: string) => void; onLevel: (level: SandboxLevel, reasons: string[]) => void } {
  return {
    ...(out.verbose && !out.json ? { onLog: (_n: string, s: string) => out.err.write(s) } : {}),
    onLevel: (level, reasons) => {
      // On stderr even with --json: stdout stays machine output, and the loss is never silent.
      if (level !== 'full')
        out.err.write(
          `warning: builds run with sandbox level "${level}", which loses this protection: ${lost(level)}; because ${reasons.join('; ')} (see \`intact doctor\`)\n`,
        );
    },
  };
}

export async function makeBuildContext(opts: {
  projectDir: string;
  store: StoreLayout;
  fetch: FetchContext;
  mode: SandboxMode;
  keepFailed: boolean;
  limits?: Partial<BuildLimits>;
  onLog?: (name: string, chunk: string) => void;
  signal?: AbortSignal;
  /** Told once, when the level is known (to warn about a weak sandbox). */
  onLevel?: (level: SandboxLevel, reasons: string[]) => void;
}): Promise<{ ctx: BuildServices; sandbox: () => { level: SandboxLevel; reasons: string[] } | undefined }> {
  // Each service loads its modules on first use: a no-op install builds nothing
  // and loads none of the sandbox, the checks or the extractors (~100 modules).
  const sandbox = once(() => import('../build/sandbox/index.js'));
  const checks = once(() => import('../build/checks/index.js'));
  const normalise = once(() => import('../build/checks/normalise.js'));
  const tree = once(() => import('../store/tree-hash.js'));
  const extract = once(() => import('../fetch/extract/index.js'));
  // Probing spawns processes (~30 ms): only when something is built.
  let resolved: { level: SandboxLevel; reasons: string[] } | undefined;
  let probing: Promise<SandboxLevel> | undefined;
  const sandboxLevel = (): Promise<SandboxLevel> => {
    probing ??= (async () => {
      const sb = await sandbox();
      const probe = opts.mode === 'off' ? { level: 'none' as const, reasons: ['--sandbox=off'], tools: {} } : await sb.probeSandbox();
      const level = sb.resolveMode(opts.mode, probe);
      resolved = { level, reasons: probe.reasons };
      opts.onLevel?.(level, probe.reasons);
      return level;
    })();
    return probing;
  };
  return {
    sandbox: () => resolved,
    ctx: {
      store: opts.store,
      fetch: opts.fetch,
      projectDir: opts.projectDir,
      sandboxLevel,
      keepFailed: opts.keepFailed,
      runStep: async (p, level) => (await sandbox()).runStep(p, level),
      checkOutput: async (dir, input) => {
        await (await checks()).assertOutputOk(dir, input);
      },
      normalise: async (dir, epoch) => (await normalise()).normaliseOutput(dir, epoch),
      treeHash: async (dir) => (await tree()).treeHash(dir),
      extract: async (file, dest, o) => (await extract()).extract(file, dest, o),
      ...(opts.onLog ? { onLog: opts.onLog } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
    },
  };
}

/** A module import made on the first call and shared by the later ones. */
function once<M>(load: () => Promise<M>): () => Promise<M> {
  let p: Promise<M> | undefined;
  return () => (p ??= load());
}

/**
 * Everything a building command sets up, in one place: the project, progress
 * display, fetch context and build context (install, build, repair).
 */
export async function openBuildSession(
  ctx: CliContext,
  opts: { offline: boolean; keepFailed: boolean; sandbox: SandboxMode; limits?: string; onFetchEvent?: (e: import('../fetch/types.js').FetchEvent) => void },
) {
  const out = ctx.output();
  const globals = ctx.globals();
  const limits = await parseLimitsFlag(opts.limits);
  const { findProject } = await import('../project/find.js');
  const { progressFor } = await import('./progress.js');
  const { makeFetchContext } = await import('./fetch-context.js');
  const project = await findProject(process.cwd());
  const progress = progressFor(out);
  const onEvent = (e: import('../fetch/types.js').FetchEvent): void => {
    opts.onFetchEvent?.(e);
    progress.onEvent(e);
  };
  const { ctx: fetch, store } = await makeFetchContext(project, globals, { offline: opts.offline, onEvent, signal: ctx.signal });
  const built = await makeBuildContext({
    projectDir: project,
    store,
    fetch,
    mode: opts.sandbox,
    keepFailed: opts.keepFailed,
    signal: ctx.signal,
    ...(limits ? { limits } : {}),
    ...reporting(out),
  });
  return { out, globals, project, progress, fetch, store, built, onEvent };
}
