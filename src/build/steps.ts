// Running a recipe's build steps. `run` and `script` go through the sandbox; the
// other kinds (copy, symlink, write, chmod, mkdir, patch, env) are done by intact
// itself, confined to the build folder: a step may name paths only inside it
// (the sandbox's /build, or the real build folder without a sandbox).
import { chmod, cp, mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { LIMIT_CODES } from './limits.js';
import { IntactError } from '../errors.js';
import type { Step } from '../recipe/types.js';
import { substitute, type BuildPaths } from './plan.js';
import { findTool } from './tool-lookup.js';
import type { Mount, SandboxLevel, StepProcess, StepResult } from './types.js';
import type { StepLimits } from './sandbox/supervise.js';

export interface StepContext {
  /** The real build folder on the host. */
  realBuild: string;
  /** Paths as the steps see them. */
  paths: BuildPaths;
  /** Real path of each dependency's entry, by name (to look for tools). */
  realDeps: Record<string, string>;
  vars: Record<string, string>;
  /** The environment; `env` steps add to it. */
  env: Record<string, string>;
  level: SandboxLevel;
  mounts: Mount[];
  projectDir: string;
  recipe: string;
  log: (s: string | Buffer) => void;
  run: (p: StepProcess, level: SandboxLevel) => Promise<StepResult>;
  signal?: AbortSignal;
  timeoutMs?: number;
  limits?: StepLimits;
  hostname?: string;
}

function stepError(ctx: StepContext, i: number, message: string, hint: string, cause?: unknown): IntactError {
  // A build limit keeps its own code and field: it names the limit to raise, not the step to fix.
  const limit = cause instanceof IntactError && LIMIT_CODES.has(cause.code) ? cause : undefined;
  return new IntactError(limit?.code ?? 'BUILD_FAILED', `${ctx.recipe}: build step ${i + 1}: ${message}`, {
    hint,
    field: limit?.field ?? `build[${i}]`,
    cause,
  });
}

/** Map a path as steps see it to the real one, refusing anything outside the build folder. */
export function toReal(ctx: StepContext, p: string, cwd: string): string {
  const seen = posix.normalize(isAbsolute(p) ? p : posix.join(cwd, p));
  const base = ctx.paths.build;
  if (seen !== base && !seen.startsWith(`${base}/`)) {
    throw new IntactError('BUILD_STEP', `${p} is outside the build folder`, { hint: 'steps may only touch $src, $out and $TMPDIR (the build folder)' });
  }
  return join(ctx.realBuild, seen.slice(base.length));
}

/** Defence in depth: the real parent folder (after symlinks) must stay inside the build folder. */
async function checkInside(ctx: StepContext, real: string): Promise<void> {
  let dir = dirname(real);
  for (;;) {
    try {
      const r = await realpath(dir);
      const root = await realpath(ctx.realBuild);
      const rel = relative(root, r);
      if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
        throw new IntactError('BUILD_STEP', `${real} leads outside the build folder through a symlink`, {
          hint: 'steps may not write through links that leave the build folder',
        });
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const up = dirname(dir);
      if (up === dir) return;
      dir = up;
    }
  }
}

/** Find a tool: a path, or a name on the deps' PATH (tool-lookup.ts). Never the host's PATH. */
async function resolveTool(ctx: StepContext, tool: string, cwd: string, i: number): Promise<string> {
  const found = await findTool(tool, cwd, ctx.env['PATH'], (seen) => mapAny(ctx, seen));
  if (found) return found.seen;
  if (tool.includes('/')) {
    throw new IntactError('STEP_TOOL_MISSING', `${ctx.recipe}: build step ${i + 1}: ${tool} is not an executable file`, {
      field: `build[${i}]`,
      hint: 'check the path; steps run tools from $src, $out or a declared dependency',
    });
  }
  const deps = Object.keys(ctx.realDeps);
  throw new IntactError('STEP_TOOL_MISSING', `${ctx.recipe}: build step ${i + 1}: no declared dependency provides "${tool}"`, {
    field: `build[${i}]`,
    hint:
      deps.length === 0
        ? `the recipe has no deps; add the recipe that provides ${tool} to \`deps\` (the host's tools are never used)`
        : `the deps (${deps.join(', ')}) put their \`bin\` entries on PATH; add the recipe that provides ${tool} to \`deps\``,
  });
}

/** Real path for a path inside the build folder or a dependency; undefined elsewhere. */
function mapAny(ctx: StepContext, seen: string): string | undefined {
  const b = ctx.paths.build;
  if (seen === b || seen.startsWith(`${b}/`)) return join(ctx.realBuild, seen.slice(b.length));
  for (const [name, inside] of Object.entries(ctx.paths.deps)) {
    if (seen === inside || seen.startsWith(`${inside}/`)) return join(ctx.realDeps[name]!, seen.slice(inside.length));
  }
  return undefined;
}

function parseMode(mode: string): number {
  return Number.parseInt(mode, 8);
}

export async function runSteps(steps: readonly Step[], ctx: StepContext): Promise<void> {
  for (let i = 0; i < steps.length; i++) {
    ctx.signal?.throwIfAborted();
    await runOne(steps[i]!, i, ctx);
  }
}

async function runOne(step: Step, i: number, ctx: StepContext): Promise<void> {
  const sub = (s: string) => substitute(s, ctx.vars);
  const cwdOf = (c: string | undefined) => (c === undefined ? ctx.paths.src : posix.normalize(isAbsolute(sub(c)) ? sub(c) : posix.join(ctx.paths.src, sub(c))));
  const real = async (p: string, cwd = ctx.paths.src) => {
    const r = toReal(ctx, sub(p), cwd);
    await checkInside(ctx, r);
    return r;
  };
  try {
    if ('run' in step || 'script' in step) {
      const cwd = cwdOf(step.cwd);
      let argv: string[];
      if ('run' in step) {
        argv = step.run.map(sub);
        argv[0] = await resolveTool(ctx, argv[0]!, cwd, i);
      } else {
        const file = `${ctx.paths.tmp}/step-${i + 1}.sh`;
        await writeFile(toReal(ctx, file, cwd), step.script, { mode: 0o644 });
        argv = [await resolveTool(ctx, step.shell, cwd, i), '-e', file];
      }
      ctx.log(`$ ${argv.join(' ')}\n`);
      const r = await ctx.run(
        {
          argv,
          env: { ...ctx.env },
          cwd,
          mounts: ctx.mounts,
          log: (b) => ctx.log(b),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          ...(ctx.timeoutMs ? { timeoutMs: ctx.timeoutMs } : {}),
          ...(ctx.limits ? { limits: ctx.limits } : {}),
          ...(ctx.hostname ? { hostname: ctx.hostname } : {}),
        },
        ctx.level,
      );
      if (r.exitCode !== 0) {
        const how = r.signal ? `was killed by ${r.signal}` : `exited with status ${r.exitCode}`;
        throw stepError(
          ctx,
          i,
          `${posix.basename(argv[0]!)} ${how}`,
          `see the log above (\`intact log ${ctx.recipe}\`); \`intact build ${ctx.recipe} --keep-failed\` keeps the build folder`,
        );
      }
      return;
    }
    if ('copy' in step) {
      ctx.log(`copy ${step.copy} -> ${step.to}\n`);
      const from = await real(step.copy);
      const to = await real(step.to);
      await mkdir(dirname(to), { recursive: true });
      await cp(from, to, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
      return;
    }
    if ('symlink' in step) {
      ctx.log(`symlink ${step.symlink} -> ${step.target}\n`);
      const at = await real(step.symlink);
      await mkdir(dirname(at), { recursive: true });
      await symlink(sub(step.target), at);
      return;
    }
    if ('write' in step) {
      ctx.log(`write ${step.write}\n`);
      const at = await real(step.write);
      await mkdir(dirname(at), { recursive: true });
      await writeFile(at, sub(step.content), { mode: step.executable ? 0o755 : 0o644, flag: 'w' });
      return;
    }
    if ('chmod' in step) {
      ctx.log(`chmod ${step.mode} ${step.chmod}\n`);
      await chmod(await real(step.chmod), parseMode(step.mode));
      return;
    }
    if ('mkdir' in step) {
      ctx.log(`mkdir ${step.mkdir}\n`);
      await mkdir(await real(step.mkdir), { recursive: true });
      return;
    }
    if ('patch' in step) {
      ctx.log(`patch ${step.patch}\n`);
      const { applyPatchFile } = await import('./patch.js');
      const cwd = cwdOf(step.cwd);
      await applyPatchFile(ctx.projectDir, step.patch, step.strip ?? 1, async (p) => real(p, cwd));
      return;
    }
    if ('env' in step) {
      for (const [k, v] of Object.entries(step.env)) {
        ctx.env[k] = sub(v);
        ctx.log(`env ${k}=${ctx.env[k]}\n`);
      }
      return;
    }
  } catch (e) {
    if (e instanceof IntactError) {
      if (e.code === 'BUILD_FAILED') throw e;
      throw stepError(ctx, i, e.message, e.hint ?? 'fix the step', e);
    }
    throw stepError(ctx, i, (e as Error).message, 'fix the step: paths are relative to $src unless absolute inside the build folder', e);
  }
}
