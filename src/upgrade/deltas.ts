// How big a change is, for the micro-change budget of `intact review
// --max-deltas N`: lines added plus lines removed over the whole repository since
// the base. Generated files are counted apart and reported, never held against
// the budget: intact.lock, other tools' lockfiles, and whatever .gitattributes
// marks `linguist-generated` (or `-diff`), as code hosts do.
import { LOCK_FILE } from '../lock/index.js';
import { deltasSince, generatedByAttributes, type FileDelta, type ProjectRepo } from './git.js';

/** Lockfiles that tools write; reviewing them line by line is not the point. */
const GENERATED_NAMES = new Set([
  LOCK_FILE,
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'bun.lock',
  'Cargo.lock',
  'go.sum',
  'poetry.lock',
  'uv.lock',
  'Pipfile.lock',
  'composer.lock',
  'Gemfile.lock',
  'flake.lock',
]);

export interface Deltas {
  /** Lines added + removed in files that count. */
  counted: number;
  files: FileDelta[];
  generated: FileDelta[];
}

export async function measureDeltas(repo: ProjectRepo, base: string): Promise<Deltas> {
  const all = await deltasSince(repo, base);
  const byAttr = await generatedByAttributes(
    repo,
    all.map((d) => d.path),
  );
  const files: FileDelta[] = [];
  const generated: FileDelta[] = [];
  for (const d of all) (GENERATED_NAMES.has(d.path.split('/').pop()!) || byAttr.has(d.path) ? generated : files).push(d);
  return { counted: files.reduce((n, d) => n + d.added + d.removed, 0), files, generated };
}
