// "Nothing built links against the host's libc": an ELF file in an output is
// either static (no interpreter, no needed library), or everything its loader
// would load resolves inside the store. Defence in depth: a program that works on
// the build machine because /lib64/ld-linux-x86-64.so.2 and libc.so.6 happen to be
// there would break, or behave differently, on the next machine.
//
// The rules follow the loaders (glibc's ld.so and musl's):
// - PT_INTERP must be an absolute path inside the entry or a declared dependency,
//   and exist there (the kernel resolves a relative one against the working folder);
// - every RPATH and RUNPATH folder must lie inside the entry or a dependency
//   (`$ORIGIN` is the file's own folder); a host folder anywhere in the list could
//   supply a library before ours. `$LIB` and `$PLATFORM` depend on the host: refused;
// - every DT_NEEDED must be found in the folders the loader searches first (RUNPATH
//   when present, else RPATH), since after them it falls back to the host's
//   /lib and /usr/lib. A name with a '/' is a path, taken as it is.
//
// Each file is judged on its own search path. A library that relies on the
// executable's RPATH (glibc applies it to every library loaded below it) is
// refused here: give the library its own RUNPATH.
import { stat } from 'node:fs/promises';
import type { ElfInfo } from './elf.js';
import type { Places } from './places.js';
import { problem, q, type OutputProblem } from './problem.js';
import { resolveIn, type Resolved } from './resolve.js';
import { dirOf, type Tree } from './tree.js';

/** Shared across files: whether a path inside a dependency exists, by its raw path. */
export type DepFileCache = Map<string, Promise<boolean>>;

type SearchDir = { where: 'entry'; rel: string } | { where: 'dep'; dir: string };

export async function checkElfPurity(tree: Tree, places: Places, rel: string, info: ElfInfo, cache: DepFileCache): Promise<OutputProblem[]> {
  if (info.isStatic) return [];
  const out: OutputProblem[] = [];
  const what = info.type === 'dyn' && info.interpreter === undefined ? 'shared library' : 'program';
  const libs = info.needed.length === 0 ? 'no libraries' : `the librar${info.needed.length > 1 ? 'ies' : 'y'} ${info.needed.map(q).join(', ')}`;

  if (info.interpreter !== undefined) {
    const why = await whyNotInside(tree, places, info.interpreter, cache);
    if (why !== undefined) {
      out.push(
        problem('OUTPUT_ELF_INTERP', rel, `${q(rel)} is a dynamically linked ${what} whose interpreter ${q(info.interpreter)} ${why}; it needs ${libs}`),
      );
    }
  }

  const expand = (tag: string, list: string[]): SearchDir[] => {
    const good: SearchDir[] = [];
    for (const d of list) {
      const { dir, why } = searchDir(tree, places, d, dirOf(rel));
      if (dir !== undefined) good.push(dir);
      else out.push(problem('OUTPUT_ELF_SEARCH_PATH', rel, `${q(rel)} has the ${tag} folder ${q(d)}, which ${why}`));
    }
    return good;
  };
  const rpath = expand('RPATH', info.rpath);
  const runpath = expand('RUNPATH', info.runpath);
  const search = info.runpath.length > 0 ? runpath : rpath;

  const missing: string[] = [];
  for (const name of info.needed) {
    if (name.includes('/')) {
      const why = await whyNotInside(tree, places, name, cache);
      if (why !== undefined) missing.push(`${q(name)} (${why})`);
      continue;
    }
    if (!(await findLib(tree, places, search, name, cache))) missing.push(q(name));
  }
  if (missing.length > 0) {
    const tag = info.runpath.length > 0 ? 'RUNPATH' : info.rpath.length > 0 ? 'RPATH' : undefined;
    const searched = tag === undefined ? 'it has no RUNPATH or RPATH' : `its ${tag} is ${q((tag === 'RUNPATH' ? info.runpath : info.rpath).join(':'))}`;
    const interp = info.interpreter === undefined ? '' : `, interpreter ${q(info.interpreter)}`;
    out.push(
      problem(
        'OUTPUT_ELF_NEEDED',
        rel,
        `${q(rel)} (a dynamically linked ${what}${interp}) needs ${missing.join(', ')}, not found inside the entry or its declared dependencies (${searched}); the loader would take ${missing.length > 1 ? 'them' : 'it'} from the host`,
      ),
    );
  }
  return out;
}

/**
 * Expand one RPATH/RUNPATH item; a folder inside the store, or why not. A leading
 * `$ORIGIN` is resolved relative to the file's folder, so it reaches a dependency
 * beside the entry under any store path; elsewhere it is replaced by the file's
 * folder as the sandbox sees it.
 */
function searchDir(tree: Tree, places: Places, item: string, fileDir: string): { dir?: SearchDir; why?: string } {
  const lead = /^\$(?:ORIGIN(?![A-Za-z0-9_])|\{ORIGIN\})/.exec(item);
  const from = lead === null ? '' : fileDir;
  const origin = fileDir === '' ? places.self[0]! : `${places.self[0]!}/${fileDir}`;
  const rest = (lead === null ? item : item.slice(lead[0].length)).replace(/\$(?:ORIGIN(?![A-Za-z0-9_])|\{ORIGIN\})/g, origin);
  const token = /\$\{?(?:LIB|PLATFORM)\b\}?/.exec(rest);
  if (token !== null) return { why: `uses ${token[0]}, which the loader expands differently on each host` };
  if (lead === null && item === '') return { why: 'is empty, which means the working folder at run time' };
  if (lead === null && !item.startsWith('/')) return { why: 'is relative, so it names a folder below the working folder at run time' };
  const target = lead === null ? rest : rest.replace(/^\/+/, '');
  const r = resolveIn(tree.nodes, places, from, target);
  if (r.where === 'entry') return { dir: { where: 'entry', rel: r.rel } };
  if (r.where === 'dep') return { dir: { where: 'dep', dir: depPath(r) } };
  if (r.where === 'loop') return { why: 'goes through a loop of symlinks' };
  return { why: `lies outside the entry and its declared dependencies (${q(r.path)})` };
}

async function findLib(tree: Tree, places: Places, search: SearchDir[], name: string, cache: DepFileCache): Promise<boolean> {
  for (const dir of search) {
    if (dir.where === 'dep') {
      if (await depFileExists(`${dir.dir}/${name}`, cache)) return true;
      continue;
    }
    const r = resolveIn(tree.nodes, places, dir.rel, name);
    if (await exists(r, cache)) return true;
  }
  return false;
}

/** Why the absolute path `path` is not a file inside the entry or a dependency; undefined when it is. */
async function whyNotInside(tree: Tree, places: Places, path: string, cache: DepFileCache): Promise<string | undefined> {
  if (!path.startsWith('/')) return 'is a relative path, taken from the working folder at run time';
  const r = resolveIn(tree.nodes, places, '', path);
  if (r.where === 'outside') return 'lies outside the entry and its declared dependencies (on the host)';
  if (r.where === 'loop') return 'goes through a loop of symlinks';
  if (await exists(r, cache)) return undefined;
  return r.where === 'entry' ? 'is not a file in the entry' : `is not a file in the dependency ${r.dep.name}`;
}

async function exists(r: Resolved, cache: DepFileCache): Promise<boolean> {
  if (r.where === 'entry') return r.node?.kind === 'f';
  if (r.where === 'dep') return depFileExists(depPath(r), cache);
  return false;
}

function depPath(r: Extract<Resolved, { where: 'dep' }>): string {
  return Buffer.from(r.dep.dir).toString('latin1') + r.rest;
}

function depFileExists(rawPath: string, cache: DepFileCache): Promise<boolean> {
  let p = cache.get(rawPath);
  if (p === undefined) {
    p = stat(Buffer.from(rawPath, 'latin1')).then(
      (s) => s.isFile(),
      () => false,
    );
    cache.set(rawPath, p);
  }
  return p;
}
