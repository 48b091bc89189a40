// What a build is given, in two parts. The services are set up once per command
// (the store, the fetchers, the sandbox runner, the output checks, a binary cache
// to substitute from) and live as long as it; the run options belong to one set
// of builds (its plans, the job count, what to vary). A command opens the
// services once and starts any number of runs with them.
import type { Readable } from 'node:stream';
import type { FetchContext } from '../fetch/context.js';
import type { StoreLayout } from '../store/paths.js';
import type { BuildPlan } from './plan.js';
import type { BuildLimits } from '../recipe/limits.js';
import type { SandboxLevel, StepProcess, StepResult } from './types.js';

export interface OutputCheckInput {
  storeDir: string;
  buildDir: string;
  deps: { name: string; dir: string; inside?: string }[];
  entryName: string;
}

/** Long-lived: what a command sets up once for all of its builds. */
export interface BuildServices {
  store: StoreLayout;
  fetch: FetchContext;
  projectDir: string;
  /** The sandbox level builds run at; probed on first use, so a no-op install never pays for it. */
  sandboxLevel: () => Promise<SandboxLevel>;
  keepFailed: boolean;
  runStep: (p: StepProcess, level: SandboxLevel) => Promise<StepResult>;
  checkOutput: (dir: string, input: OutputCheckInput) => Promise<void>;
  normalise: (dir: string, epochSeconds: number) => Promise<void>;
  treeHash: (dir: string) => Promise<string>;
  extract: (
    file: string,
    dest: string,
    opts: {
      strip?: number;
      archive?: string;
      archiveIntegrity?: string;
      path?: string;
      name?: string;
      signal?: AbortSignal;
      records?: boolean;
      input?: () => Readable;
    },
  ) => Promise<unknown>;
  onLog?: (name: string, chunk: string) => void;
  signal?: AbortSignal;
  /**
   * Try to get the entry from a binary cache instead of building it (src/cache).
   * Resolves true when the entry was added to the store; false to build from source.
   */
  substitute?: (plan: BuildPlan) => Promise<boolean>;
  /** The command line's `--limits`, over the defaults and each recipe's own (src/build/limits.ts). */
  limits?: Partial<BuildLimits>;
}

/** Per run: one set of plans and how to build them. */
export interface BuildRun {
  /** Every plan of this run, by name, to reach a dependency's own dependencies. */
  plans: ReadonlyMap<string, BuildPlan>;
  /** Parallelism offered to the build itself (JOBS, MAKEFLAGS). */
  jobs: number;
  /** Accept an output that differs from the one the lock records (for investigation). */
  allowMismatch?: boolean;
  /**
   * `verify --rebuild`: build under deliberately different conditions (job
   * count, umask, extra locale variables, the full sandbox's hostname) to
   * expose what a recipe lets leak in.
   */
  vary?: { jobs: number; umask: number; env: Record<string, string>; hostname: string };
  timeoutMs?: number;
  /** Told when a build from source really starts: not for an entry present or substituted. */
  onBuildStart?: (plan: BuildPlan) => void;
}

export type BuildContext = BuildServices & BuildRun;
