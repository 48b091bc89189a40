// Where an output may point: inside its own entry, or into a declared dependency.
// Each is known under several absolute names (the fixed path inside the sandbox,
// /store/<entry>, and the real store path, before and after realpath); any of them
// counts. The build folder's and the store's absolute paths are what must not
// appear in the output at all (relocatability).
import { realpath } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import { IntactError } from '../../errors.js';
import { INSIDE } from '../../store/entry-layout.js';
import { raw } from './tree.js';

export interface CheckOptions {
  /** The store folder the entry will live in. */
  storeDir: string;
  /** The build folder the output was produced in. */
  buildDir: string;
  /** Declared dependencies: `dir` is the real path of the dep's store entry, `inside` its path inside the sandbox. */
  deps: { name: string; dir: string; inside?: string }[];
  /** The entry's folder name in the store, `<key>-<name>-<version>`. */
  entryName: string;
}

export interface DepPlace {
  name: string;
  /** Real path, for the filesystem. */
  dir: string;
  /** Absolute names, raw. */
  prefixes: string[];
}

export interface Places {
  /** Absolute names (raw) of the entry itself once in the store. */
  self: string[];
  deps: DepPlace[];
  /** Where the entry's parent is taken to be when a relative path climbs out of the entry (raw): the sandbox's store, then the real one. */
  parents: string[];
  /** Absolute paths (raw) that must not appear in the output, each with what it is. */
  leaks: { path: string; what: string }[];
}

export async function placesFor(opts: CheckOptions): Promise<Places> {
  const name = opts.entryName;
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new IntactError('INTERNAL', `checkOutput: entry name ${JSON.stringify(name)} is not a single path component`);
  }
  const store = resolve(opts.storeDir);
  const realStore = await real(store);
  const build = resolve(opts.buildDir);
  const parents = unique([INSIDE.store, store, realStore]);
  const deps: DepPlace[] = [];
  for (const d of opts.deps) {
    const dir = resolve(d.dir);
    deps.push({ name: d.name, dir, prefixes: unique([dir, await real(dir), d.inside === undefined ? undefined : posix.resolve(d.inside)]).map(raw) });
  }
  return {
    self: parents.map((p) => raw(posix.join(p, name))),
    deps,
    parents: parents.map(raw),
    leaks: [
      { path: build, what: 'the build folder' },
      { path: await real(build), what: 'the build folder' },
      { path: store, what: 'the store' },
      { path: realStore, what: 'the store' },
    ]
      .filter((l, i, all) => all.findIndex((m) => m.path === l.path) === i)
      .map((l) => ({ path: raw(l.path), what: l.what })),
  };
}

/** The absolute path `abs` (raw, normalised) lies at or below `prefix`. */
export function under(abs: string, prefix: string): boolean {
  return abs === prefix || abs.startsWith(prefix === '/' ? '/' : `${prefix}/`);
}

async function real(p: string): Promise<string> {
  return realpath(p).catch(() => p);
}

function unique(xs: (string | undefined)[]): string[] {
  return [...new Set(xs.filter((x): x is string => x !== undefined))];
}
