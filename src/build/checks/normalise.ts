// Normalisation of a checked output before it is hashed and moved into the store:
// every entry's access and modification times become SOURCE_DATE_EPOCH, and every
// write bit goes (files 0444, or 0555 when the owner may execute them, the same
// "executable" the tree hash records; folders 0555). Two builds of one recipe then
// leave byte-identical trees, and nothing writes into an entry by accident.
//
// Folders are finished after their children, and keep their read and search bits
// throughout, so the tree stays traversable while it is being worked on.
//
// Defence in depth: nothing here follows a symlink out of the tree. Times are set
// with lutimes (never follows); modes through a descriptor opened with O_NOFOLLOW;
// symlinks have no mode of their own on Linux and are left alone.
//
// Sync calls in time slices, as in the checks (slice.ts): on a 16k-file tree the
// async version took 1.1-1.5 s.
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, lutimesSync, openSync, readdirSync, type Dirent } from 'node:fs';
import { IntactError } from '../../errors.js';
import { slicer, type Tick } from '../../store/slice.js';

const FILE_MODE = 0o444;
const EXEC_MODE = 0o555;
const DIR_MODE = 0o555;

interface Walked {
  files: Buffer[];
  links: Buffer[];
  /** Deepest first. */
  dirs: Buffer[];
  /** Fifos, sockets, devices. */
  specials: Buffer[];
}

/** Set times to `epochSeconds` and drop write bits on the whole tree below (and including) `dir`. */
export async function normaliseOutput(dir: string, epochSeconds: number): Promise<void> {
  if (!Number.isSafeInteger(epochSeconds) || epochSeconds < 0) {
    throw new IntactError('USAGE', `SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not ${String(epochSeconds)}`, {
      hint: 'Set SOURCE_DATE_EPOCH to an integer such as 1700000000.',
    });
  }
  const t = epochSeconds;
  const tick = slicer();
  const w = await walk(dir, tick);
  const special = w.specials[0];
  if (special !== undefined) {
    throw new IntactError('OUTPUT_SPECIAL_FILE', `${special.toString()} is not a folder, file or symlink; it cannot be normalised`, {
      file: special.toString(),
      hint: 'Run the output checks (checkOutput) before normalising; they refuse such files.',
    });
  }
  for (const p of w.files) {
    await tick();
    io(p, () => {
      setFileMode(p);
      lutimesSync(p, t, t);
    });
  }
  for (const p of w.links) {
    await tick();
    io(p, () => lutimesSync(p, t, t));
  }
  for (const p of w.dirs) {
    await tick();
    io(p, () => {
      setMode(p, DIR_MODE, constants.O_DIRECTORY);
      lutimesSync(p, t, t);
    });
  }
}

/** Give the owner write access to every folder and file below `dir`, so that it can be changed or removed (gc, tests). */
export async function makeWritable(dir: string): Promise<void> {
  const tick = slicer();
  const w = await walk(dir, tick);
  for (const p of w.files) {
    await tick();
    io(p, () => {
      const st = lstatSync(p);
      if (st.isFile() && (st.mode & 0o200) === 0) chmodSync(p, (st.mode & 0o7777) | 0o200);
    });
  }
  for (const p of w.dirs) {
    io(p, () => {
      const st = lstatSync(p);
      if (st.isDirectory() && (st.mode & 0o700) !== 0o700) chmodSync(p, (st.mode & 0o7777) | 0o700);
    });
  }
}

/** List the tree top-down, giving each folder u+rx first if it lacks them (a build may leave a folder unreadable). */
async function walk(dir: string, tick: Tick): Promise<Walked> {
  const out: Walked = { files: [], links: [], dirs: [], specials: [] };
  const levels: Buffer[][] = [];
  let level: Buffer[] = [Buffer.from(dir)];
  const root = lstatSync(dir, { throwIfNoEntry: false });
  if (root === undefined) throw new IntactError('IO', `cannot read ${dir}: it does not exist`, { file: dir });
  if (!root.isDirectory()) throw new IntactError('IO', `${dir} is not a folder`, { file: dir });
  while (level.length > 0) {
    levels.push(level);
    const nextLevel: Buffer[] = [];
    for (const d of level) {
      await tick();
      const entries = io(d, (): Dirent<Buffer>[] => {
        const st = lstatSync(d);
        if ((st.mode & 0o500) !== 0o500) chmodSync(d, (st.mode & 0o7777) | 0o500);
        return readdirSync(d, { withFileTypes: true, encoding: 'buffer' });
      });
      for (const e of entries) {
        const p = Buffer.concat([d, SLASH, e.name]);
        if (e.isDirectory()) nextLevel.push(p);
        else if (e.isFile()) out.files.push(p);
        else if (e.isSymbolicLink()) out.links.push(p);
        else out.specials.push(p);
      }
    }
    level = nextLevel;
  }
  for (let i = levels.length - 1; i >= 0; i--) out.dirs.push(...levels[i]!);
  return out;
}

function setFileMode(p: Buffer): void {
  let fd: number;
  try {
    fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    // The owner may chmod a file it cannot read (mode 0200, 0000): do it by path, after
    // checking that the path is still a plain file.
    if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
    const st = lstatSync(p);
    if (!st.isFile()) throw e;
    chmodSync(p, st.mode & constants.S_IXUSR ? EXEC_MODE : FILE_MODE);
    return;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new IntactError('OUTPUT_SPECIAL_FILE', `${p.toString()} changed into something other than a file while it was normalised`, { file: p.toString() });
    const mode = st.mode & constants.S_IXUSR ? EXEC_MODE : FILE_MODE;
    if ((st.mode & 0o7777) !== mode) fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

function setMode(p: Buffer, mode: number, extraFlags: number): void {
  const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW | extraFlags);
  try {
    if ((fstatSync(fd).mode & 0o7777) !== mode) fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/** Run one filesystem step; a failure becomes an IntactError naming the path. */
function io<T>(p: Buffer, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof IntactError) throw e;
    throw new IntactError('IO', `cannot normalise ${p.toString()}: ${(e as Error).message}`, { file: p.toString(), cause: e });
  }
}

const SLASH = Buffer.from('/');
