// `intact diff [BASE]`: the project's recipes and lock at a base revision against
// the work tree. The default base is the merge base of HEAD with the default
// branch, so a feature branch is compared with where it started, not with
// whatever landed on main since.
import type { Platform } from '../recipe/types.js';
import type { StoreLayout } from '../store/paths.js';
import { diffSnapshots, type DiffReport } from './diff.js';
import { defaultBase, openRepo, resolveRevision, type ProjectRepo } from './git.js';
import { attachSizes } from './sizes.js';
import { snapshotAt, snapshotWorkTree, type Snapshot } from './snapshot.js';

export interface CompareOptions {
  /** A revision as the user typed it; default: the merge base with the default branch. */
  base?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** With a store and a platform, sizes of built entries are reported. */
  store?: StoreLayout;
  platform?: Platform;
}

export interface Comparison {
  report: DiffReport;
  base: Snapshot;
  head: Snapshot;
  repo: ProjectRepo;
  /** The base commit. */
  baseRev: string;
}

export async function compareWithBase(projectDir: string, opts: CompareOptions = {}): Promise<Comparison> {
  const repo = await openRepo(projectDir, opts.env, opts.signal);
  let baseRev: string;
  let label: string;
  if (opts.base !== undefined) {
    baseRev = await resolveRevision(repo, opts.base);
    label = `\`${opts.base}\`${opts.base === baseRev ? '' : ` (${baseRev.slice(0, 10)})`}`;
  } else {
    const d = await defaultBase(repo);
    baseRev = d.rev;
    label = `\`${d.branch}\` (merge base ${baseRev.slice(0, 10)})`;
  }
  const [base, head] = await Promise.all([snapshotAt(repo, baseRev, label), snapshotWorkTree(projectDir)]);
  const report = diffSnapshots(base, head);
  if (opts.store && opts.platform) await attachSizes(report, base, head, opts.store, opts.platform);
  return { report, base, head, repo, baseRev };
}
