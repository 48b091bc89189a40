// Symlinks checked as a whole, once every entry is known. Each link is checked
// lexically when it is created (paths.ts), but a chain can still escape:
// `a -> .`, then `b -> a/../..` looks like one level up from the root's child,
// yet resolves through `a` to the parent of the root. Here every link is resolved
// the way the kernel would, through the other links of the tree, inside a virtual
// root: stepping above the root, or an absolute target, is an escape. Components
// that do not exist are taken lexically (conservative: the link could only get
// more dangerous once something is created there later).
import { problem } from './problem.js';

export const DIR = 0;
export const FILE = 1;
/** What the writer created at a path: a directory, a regular file, or a symlink (its target). */
export type Node = typeof DIR | typeof FILE | string;

/** Linux gives up after 40 links (ELOOP); so do we, and call it what it is. */
const MAX_HOPS = 40;

export function checkLinkChains(nodes: ReadonlyMap<string, Node>, where: string): void {
  for (const [key, node] of nodes) {
    if (typeof node !== 'string') continue;
    const why = resolve(nodes, key.split('/').slice(0, -1), node);
    if (why !== undefined) throw problem('EXTRACT_LINK_ESCAPE', where, key, `is a symlink to ${JSON.stringify(node)} that ${why}.`);
  }
}

function resolve(nodes: ReadonlyMap<string, Node>, start: string[], target: string): string | undefined {
  const parts = [...start];
  const todo = target.split('/').reverse();
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.pop() as string;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (parts.length === 0) return 'leads outside the destination through a chain of links';
      parts.pop();
      continue;
    }
    parts.push(c);
    const next = nodes.get(parts.join('/'));
    if (typeof next !== 'string') continue;
    if (++hops > MAX_HOPS) return `loops or chains through more than ${MAX_HOPS} links`;
    if (next.startsWith('/')) return `leads to the absolute path ${JSON.stringify(next)} through a chain of links`;
    parts.pop();
    for (const n of next.split('/').reverse()) todo.push(n);
  }
  return undefined;
}
