// The seal of a store entry: `<store>/meta/<key>.seal`, written when the entry is
// published, records each path's lstat as it was then (type, size, mode, inode,
// ctime in ns). `install` checks it before reusing an entry or putting its
// programs on .intact/bin, so an entry edited in place (chmod, then change a
// file) is caught on use, not only by `verify --store`.
//
// Why stat and not a hash: the check runs on every install, even a no-op one
// (bench/install-noop.mjs), and a hash would read every byte. Any write to a file
// changes its ctime; chmod and link changes do too; replacing a file changes its
// inode; adding, removing or renaming a name changes its folder's ctime. Only
// root can set a ctime back, and a co-user with root is out of scope
// (docs/security.md). The full hash stays `verify --store`'s job.
//
// A seal that does not match (or none: an entry from before seals, or a store
// copied elsewhere, which keeps contents but not inodes) is not yet a verdict:
// the entry is then hashed in full against its recorded output and checked
// read-only; if it passes, it is sealed again, else it is refused.
import { lstatSync, readdirSync, readFileSync, type BigIntStats } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import { writeNoFollow } from './no-follow.js';
import type { StoreLayout } from './paths.js';
import { hashRecords } from './tree-hash.js';
import { scanTree } from './tree-scan.js';

const FORMAT = 'intact-seal-1';

/** [path relative to the entry ('' is its folder), type+mode, size, inode, ctime ns]. */
type SealRow = [string, number, string, string, string];

export function sealPath(store: StoreLayout, key: string): string {
  return join(store.meta, `${key}.seal`);
}

/** Record the entry's stat seal; `bin` paths are listed first, so they are checked first. */
export async function writeSeal(store: StoreLayout, key: string, dir: string, bin: readonly string[] = []): Promise<void> {
  const rows: SealRow[] = [];
  const walk = (rel: string): void => {
    const st = lstatSync(rel === '' ? dir : join(dir, rel), { bigint: true });
    rows.push(row(rel, st));
    if (!st.isDirectory()) return;
    for (const name of readdirSync(rel === '' ? dir : join(dir, rel)).sort()) walk(rel === '' ? name : `${rel}/${name}`);
  };
  walk('');
  const first = new Set(bin);
  rows.sort((a, b) => Number(first.has(b[0])) - Number(first.has(a[0])));
  await writeNoFollow(store.meta, `${key}.seal`, `${JSON.stringify({ format: FORMAT, rows })}\n`, 0o444);
}

export interface SealedEntry {
  key: string;
  name: string;
  /** The entry folder. */
  dir: string;
  /** The recorded output hash (metadata), for the full check. */
  output: string;
}

/**
 * Refuse an entry changed since it was published (STORE_ENTRY_MODIFIED). The
 * cheap stat check first; a full hash only when the stat check cannot vouch.
 */
export async function checkSeal(store: StoreLayout, e: SealedEntry): Promise<void> {
  const why = statDifference(store, e);
  if (why === undefined) return;
  const scan = await scanTree(e.dir, { collect: true, writable: true }).catch(() => undefined);
  const found = scan ? hashRecords(scan.records) : undefined;
  // Half-published (a kill between the rename into place and the chmod, by an
  // intact before publish.ts): the content is whole and only the entry's own
  // folder kept its write bit, so finishing the publication is safe.
  const halfPublished = scan !== undefined && scan.writable.length === 1 && scan.writable[0]!.length === 0;
  if (scan && found === e.output && scan.issues.length === 0 && (scan.writable.length === 0 || halfPublished)) {
    if (halfPublished) await chmod(e.dir, 0o555);
    await writeSeal(store, e.key, e.dir);
    return;
  }
  throw new IntactError('STORE_ENTRY_MODIFIED', `${e.name}: the store entry ${e.dir} was changed after it was published (${why}); it is not used`, {
    file: e.dir,
    expected: e.output,
    ...(found !== undefined ? { found } : {}),
    hint: `\`intact verify --store ${e.name}\` names what changed; \`intact repair ${e.name}\` replaces it with a fresh build. Find out what wrote into the store: nothing was put on .intact/bin`,
  });
}

/** Undefined when every path is as sealed, else the first difference. */
function statDifference(store: StoreLayout, e: SealedEntry): string | undefined {
  let rows: SealRow[];
  try {
    const seal = JSON.parse(readFileSync(sealPath(store, e.key), 'utf8')) as { format?: unknown; rows?: unknown };
    if (seal.format !== FORMAT || !Array.isArray(seal.rows)) return 'its seal is unreadable';
    rows = seal.rows as SealRow[];
  } catch {
    return 'it has no seal';
  }
  for (const want of rows) {
    const st = lstatSync(want[0] === '' ? e.dir : join(e.dir, want[0]), { bigint: true, throwIfNoEntry: false });
    if (st === undefined) return `${want[0] || '.'} is gone`;
    const got = row(want[0], st);
    if (got[1] !== want[1]) return `${want[0] || '.'} changed type or mode`;
    if (got[2] !== want[2]) return `${want[0] || '.'} changed size`;
    if (got[3] !== want[3] || got[4] !== want[4]) return `${want[0] || '.'} was modified or replaced`;
  }
  return undefined;
}

function row(rel: string, st: BigIntStats): SealRow {
  return [rel, Number(st.mode), st.size.toString(), st.ino.toString(), st.ctimeNs.toString()];
}
