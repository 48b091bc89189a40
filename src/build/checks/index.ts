// The checks a build's output must pass before it may enter the store, and its
// normalisation. Every check runs and every problem is reported, so a recipe
// author sees all of them after one build. Order of work: one walk (kinds, link
// targets, folder modes), one read of every file (file modes, hard links, ELF
// headers, path leaks), then the link and ELF checks against the walked tree.
import { join } from 'node:path';
import { IntactError, type ErrorCode } from '../../errors.js';
import { checkElfPurity, type DepFileCache } from './elf-purity.js';
import { checkHardLinks, readFiles } from './files.js';
import { checkLinks, checkLinkTargets } from './links.js';
import { placesFor, type CheckOptions } from './places.js';
import { show, type OutputProblem } from './problem.js';
import { patternsFor } from './scan.js';
import { readTree } from './tree.js';

export { parseElf, readElf, type ByteSource, type ElfInfo, type ElfType } from './elf.js';
export { makeWritable, normaliseOutput } from './normalise.js';
export type { CheckOptions } from './places.js';
export type { OutputProblem } from './problem.js';

/** Check the output folder `dir`; every problem found, sorted by file. Throws only when `dir` cannot be read at all. */
export async function checkOutput(dir: string, opts: CheckOptions): Promise<OutputProblem[]> {
  const problems: OutputProblem[] = [];
  const places = await placesFor(opts);
  const tree = await readTree(dir, problems);
  if (tree === undefined) return problems;
  const patterns = patternsFor(places.leaks);

  const facts = await readFiles(tree, patterns, problems);
  checkHardLinks(facts, problems);
  checkLinks(tree, places, problems);
  checkLinkTargets(tree, patterns, problems);
  const cache: DepFileCache = new Map();
  for (const [rel, info] of facts.elves) problems.push(...(await checkElfPurity(tree, places, rel, info, cache)));

  for (const p of problems) p.file = show(p.file);
  return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : ORDER.indexOf(a.code) - ORDER.indexOf(b.code)));
}

/** Check the output and throw one IntactError (the first problem's code) naming the first few problems. */
export async function assertOutputOk(dir: string, opts: CheckOptions): Promise<void> {
  const problems = await checkOutput(dir, opts);
  if (problems.length > 0) throw summarise(dir, opts.entryName, problems);
}

const LISTED = 5;

export function summarise(dir: string, entryName: string, problems: readonly OutputProblem[]): IntactError {
  const first = problems[0]!;
  const lines = problems.slice(0, LISTED).map((p) => `  - ${p.message} [${p.code}]`);
  if (problems.length > LISTED) lines.push(`  … and ${problems.length - LISTED} more`);
  const n = problems.length;
  return new IntactError(
    first.code,
    `the build output of ${entryName} failed ${n} check${n > 1 ? 's' : ''} and may not enter the store:\n${lines.join('\n')}`,
    {
      file: first.file === '' ? dir : join(dir, first.file),
      hint: first.hint,
    },
  );
}

/** Report order within one file: what the file is, then what it points at, then what it contains. */
const ORDER: ErrorCode[] = [
  'OUTPUT_SPECIAL_FILE',
  'OUTPUT_UNREADABLE',
  'OUTPUT_MODE_BITS',
  'OUTPUT_HARDLINK_OUTSIDE',
  'OUTPUT_LINK_ESCAPE',
  'OUTPUT_LINK_LOOP',
  'ELF_MALFORMED',
  'OUTPUT_ELF_INTERP',
  'OUTPUT_ELF_SEARCH_PATH',
  'OUTPUT_ELF_NEEDED',
  'OUTPUT_PATH_LEAK',
];
