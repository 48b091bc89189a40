// The shape of an output folder, read once: every entry's kind and every link's
// target, keyed by its path relative to the folder. The link and ELF checks
// resolve paths against this map (as the kernel would, through the tree's own
// links) instead of asking the filesystem, which could follow a link out of the
// tree. Folders' modes are checked here, from the lstat the walk needs anyway;
// files' modes are checked when they are opened for their content.
//
// Paths are raw bytes carried as latin1 strings (one char per byte), so a name that
// is not UTF-8 is still opened, compared and reported exactly.
//
// Sync calls in time slices (slice.ts): one lstat per folder, one readlink per link.
import { lstatSync, readdirSync, readlinkSync, type Dirent } from 'node:fs';
import { IntactError } from '../../errors.js';
import { problem, q, type OutputProblem } from './problem.js';
import { slicer } from '../../store/slice.js';

// Not in @types/node's fs.constants; the values are fixed by POSIX.
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

export type Node =
  | { kind: 'd' }
  | { kind: 'f' }
  | { kind: 'l'; target: string }
  /** A fifo, socket or device: reported, and kept so that links to it still resolve inside. */
  | { kind: 's' };

export interface Tree {
  /** The output folder's path, raw. */
  root: string;
  /** Every entry by relative path ('' is the root). */
  nodes: Map<string, Node>;
  /** Regular files and symlinks, relative, in walk order. */
  files: string[];
  links: string[];
}

/** Raw form of a JS path string. */
export function raw(path: string): string {
  return Buffer.from(path, 'utf8').toString('latin1');
}

/** The filesystem path of a relative entry, as bytes. */
export function absOf(tree: Tree, rel: string): Buffer {
  return Buffer.from(rel === '' ? tree.root : `${tree.root}/${rel}`, 'latin1');
}

/** The folder of a relative path, '' for the root. */
export function dirOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** Walk `dir` (a JS path). Problems found on the way (special files, folder mode bits) go to `problems`. */
export async function readTree(dir: string, problems: OutputProblem[]): Promise<Tree | undefined> {
  let st;
  try {
    st = lstatSync(dir);
  } catch (e) {
    throw new IntactError('IO', `cannot read the build output ${dir}: ${(e as Error).message}`, { file: dir, cause: e });
  }
  if (!st.isDirectory()) {
    problems.push(
      problem('OUTPUT_SPECIAL_FILE', '', `the build output ${JSON.stringify(dir)} is not a folder`, {
        hint: 'A build must leave its output as a folder ($out); put single files inside it.',
      }),
    );
    return undefined;
  }
  const tree: Tree = { root: raw(dir).replace(/\/+$/, '') || '/', nodes: new Map([['', { kind: 'd' }]]), files: [], links: [] };
  checkModeBits(st.mode, '', problems, true);

  const tick = slicer();
  const pending: string[] = [''];
  while (pending.length > 0) {
    await tick();
    const rel = pending.pop()!;
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(absOf(tree, rel), { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      problems.push(problem('OUTPUT_UNREADABLE', rel, `the folder ${q(rel || '.')} cannot be listed: ${(e as Error).message}`));
      continue;
    }
    for (const d of entries) {
      const name = d.name.toString('latin1');
      const child = rel === '' ? name : `${rel}/${name}`;
      if (d.isDirectory()) {
        tree.nodes.set(child, { kind: 'd' });
        const cst = lstatSync(absOf(tree, child), { throwIfNoEntry: false });
        if (cst !== undefined) checkModeBits(cst.mode, child, problems, true);
        pending.push(child);
      } else if (d.isFile()) {
        tree.nodes.set(child, { kind: 'f' });
        tree.files.push(child);
      } else if (d.isSymbolicLink()) {
        let target: string;
        try {
          target = readlinkSync(absOf(tree, child), { encoding: 'buffer' }).toString('latin1');
        } catch (e) {
          problems.push(problem('OUTPUT_UNREADABLE', child, `the symlink ${q(child)} cannot be read: ${(e as Error).message}`));
          continue;
        }
        tree.nodes.set(child, { kind: 'l', target });
        tree.links.push(child);
      } else {
        tree.nodes.set(child, { kind: 's' });
        problems.push(problem('OUTPUT_SPECIAL_FILE', child, `${q(child)} is a ${specialKind(d)}; a store entry holds only folders, files and symlinks`));
      }
    }
  }
  return tree;
}

/**
 * Defence in depth: no setuid, setgid or sticky bit may enter the store, where a
 * setuid program would keep its privilege on every machine that installs it.
 * One exception, for folders: setgid on a folder only makes new files inherit its
 * group; Linux sets it on every folder made under a setgid folder (a shared store
 * owned by a group), it means nothing in a read-only entry, and normalisation drops it.
 */
export function checkModeBits(mode: number, rel: string, problems: OutputProblem[], isDir: boolean): void {
  const bits: string[] = [];
  if (mode & S_ISUID) bits.push('setuid');
  if (mode & S_ISGID && !isDir) bits.push('setgid');
  if (mode & S_ISVTX) bits.push('sticky');
  if (bits.length === 0) return;
  const what = rel === '' ? 'the output folder' : q(rel);
  problems.push(
    problem(
      'OUTPUT_MODE_BITS',
      rel,
      `${what} has the ${bits.join(' and ')} bit${bits.length > 1 ? 's' : ''} set (mode ${(mode & 0o7777).toString(8).padStart(4, '0')})`,
    ),
  );
}

function specialKind(d: { isFIFO(): boolean; isSocket(): boolean; isBlockDevice(): boolean; isCharacterDevice(): boolean }): string {
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  if (d.isBlockDevice()) return 'block device';
  if (d.isCharacterDevice()) return 'character device';
  return 'special file';
}
