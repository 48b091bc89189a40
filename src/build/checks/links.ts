// Symlinks in an output. Defence in depth: a store entry is shared by every
// project that uses it, so a link out of it (to /etc/passwd, to ../../x beside
// the entry, to the host's /usr/lib) would make the entry's meaning depend on the
// machine, or hand a reader a path into the host. A link may point inside the
// entry, or into a declared dependency by its real store path or its path inside
// the sandbox (the relocatability check still refuses a link that spells out the
// store's real path: use the sandbox path or a relative one).
//
// A dangling link is allowed when it stays inside the entry: it cannot reach
// anything outside, however the entry is used, and packages do ship them (a
// `lib/libfoo.so` dev link whose target lives in a split-off package). Links that
// loop, or chain through more than 40 links, are refused: the kernel gives up on them.
import type { Places } from './places.js';
import { problem, q, type OutputProblem } from './problem.js';
import { resolveIn } from './resolve.js';
import { findIn, type Pattern } from './scan.js';
import { dirOf, type Tree } from './tree.js';

export function checkLinks(tree: Tree, places: Places, problems: OutputProblem[]): void {
  for (const rel of tree.links) {
    const node = tree.nodes.get(rel);
    if (node?.kind !== 'l') continue;
    const r = resolveIn(tree.nodes, places, dirOf(rel), node.target);
    if (r.where === 'loop') {
      problems.push(problem('OUTPUT_LINK_LOOP', rel, `the symlink ${q(rel)} -> ${q(node.target)} loops or chains through more than 40 links`));
    } else if (r.where === 'outside') {
      problems.push(
        problem('OUTPUT_LINK_ESCAPE', rel, `the symlink ${q(rel)} -> ${q(node.target)} leads to ${q(r.path)}, outside the entry and its declared dependencies`),
      );
    }
  }
}

/** Relocatability of link targets: a target that spells out the store's or the build folder's path ties the entry to this machine. */
export function checkLinkTargets(tree: Tree, patterns: readonly Pattern[], problems: OutputProblem[]): void {
  for (const rel of tree.links) {
    const node = tree.nodes.get(rel);
    if (node?.kind !== 'l') continue;
    const m = findIn(Buffer.from(node.target, 'latin1'), patterns);
    if (m === undefined) continue;
    problems.push(
      problem('OUTPUT_PATH_LEAK', rel, `the symlink ${q(rel)} -> ${q(node.target)} spells out the absolute path of ${m.pattern.what}`, { offset: m.offset }),
    );
  }
}
