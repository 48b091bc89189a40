// Resolve a path the way the kernel would once the entry is in the store: through
// the entry's own links (read from the Tree, never from the filesystem), inside a
// virtual root that is the entry. A path that climbs out of the entry or is
// absolute continues lexically from where the entry will live (/store/<entry> in
// the sandbox, <store>/<entry> outside it): there it may re-enter the entry or land
// in a declared dependency; anywhere else it is outside. A dependency's own links
// were checked when it was built, so its content is taken as it is.
//
// Used for symlinks, PT_INTERP and RUNPATH folders alike, so the three agree on
// what "inside" means.
import { posix } from 'node:path';
import { under, type DepPlace, type Places } from './places.js';
import type { Node } from './tree.js';

/** Linux gives up after 40 links (ELOOP); so do we. */
const MAX_HOPS = 40;

export type Resolved =
  | { where: 'entry'; rel: string; node: Node | undefined }
  | { where: 'dep'; dep: DepPlace /** Path below the dep's folder, '' or starting with '/'. */; rest: string }
  | { where: 'outside'; path: string }
  | { where: 'loop' };

/**
 * Resolve `target` as seen from the folder `from` (relative, '' for the entry's
 * root). Tries each place the entry's parent may be; the first answer that is not
 * "outside" wins, because the entry is reachable under every one of them.
 */
export function resolveIn(nodes: ReadonlyMap<string, Node>, places: Places, from: string, target: string): Resolved {
  let first: Resolved | undefined;
  for (const parent of places.parents) {
    const r = resolveOnce(nodes, places, parent, from, target);
    if (r.where !== 'outside') return r;
    first ??= r;
  }
  return first!;
}

function resolveOnce(nodes: ReadonlyMap<string, Node>, places: Places, parent: string, from: string, target: string): Resolved {
  const todo = components(target).reverse();
  /** Inside the entry: the components below its root. Undefined once outside. */
  let inside: string[] | undefined = target.startsWith('/') ? undefined : components(from);
  /** Outside the entry: the absolute path reached so far, lexically. */
  let outside = '/';
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.pop()!;
    if (inside === undefined) {
      outside = c === '..' ? posix.dirname(outside) : outside === '/' ? `/${c}` : `${outside}/${c}`;
      if (places.self.includes(outside)) inside = [];
      continue;
    }
    if (c === '..') {
      if (inside.length > 0) inside.pop();
      else {
        inside = undefined;
        outside = parent;
      }
      continue;
    }
    inside.push(c);
    const node = nodes.get(inside.join('/'));
    if (node?.kind !== 'l') continue;
    if (++hops > MAX_HOPS) return { where: 'loop' };
    inside.pop();
    if (node.target.startsWith('/')) {
      inside = undefined;
      outside = '/';
    }
    for (const n of components(node.target).reverse()) todo.push(n);
  }
  if (inside !== undefined) {
    const rel = inside.join('/');
    return { where: 'entry', rel, node: nodes.get(rel) };
  }
  for (const dep of places.deps) {
    const prefix = dep.prefixes.find((p) => under(outside, p));
    if (prefix !== undefined) return { where: 'dep', dep, rest: outside.slice(prefix.length) };
  }
  return { where: 'outside', path: outside };
}

/** Path components, without the empty and '.' ones (they never interact with links). */
function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}
