// Shared shapes of the build layer: the sandbox a step runs in, and the checks an
// output must pass before it may enter the store.
import type { StepLimits } from './sandbox/supervise.js';

// The level is defined where it is recorded, with every store entry (the store
// layer may not import this one).
export type { SandboxLevel } from '../store/entry.js';

export type SandboxMode = 'require' | 'auto' | 'off';

export interface Mount {
  /** Real path on the host. */
  real: string;
  /** Where it appears inside the sandbox (absolute). */
  inside: string;
  writable: boolean;
}

export interface StepProcess {
  /** argv[0] is an absolute path as seen from inside (or the real path at level none). */
  argv: string[];
  /** The complete environment; nothing of the caller's leaks in. */
  env: Record<string, string>;
  /** Working folder, as seen from inside. */
  cwd: string;
  /** What the step sees: the build folder (writable) and each dependency (read-only). */
  mounts: Mount[];
  /** Receives stdout and stderr, interleaved, as they come. */
  log: (chunk: Buffer) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The build's limits (src/build/limits.ts), enforced while the step runs. */
  limits?: StepLimits;
  /** The hostname inside a full sandbox (default "intact"); `verify --rebuild` varies it. Other levels keep the host's. */
  hostname?: string;
}

export interface StepResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}
