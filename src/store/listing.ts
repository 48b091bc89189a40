// What is in a store: its entry folders with their metadata, the metadata left
// without an entry, and anything in the store's root that intact did not put
// there. `verify --store`, `gc`, `list` and `why` all start from this one view.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { EntryMeta } from './entry.js';
import { entryName } from './key.js';
import type { StoreLayout } from './paths.js';
import { tempOwner } from '../temp-name.js';

/** `<key>-<rest>`: a key is 32 characters of Nix's base32 alphabet (src/store/key.ts). */
const ENTRY_RE = /^([0-9abcdfghijklmnpqrsvwxyz]{32})-(.+)$/;

/** The store's own folders: every one its layout (src/store/paths.ts) places in the root. */
function storeFolders(store: StoreLayout): ReadonlySet<string> {
  return new Set(
    Object.entries(store)
      .filter(([k]) => k !== 'root')
      .map(([, p]) => basename(p)),
  );
}
/** Files a store root may hold: the project-local store ships a `.gitkeep`. */
const STORE_FILES: ReadonlySet<string> = new Set(['.gitkeep']);

export interface StoredEntry {
  /** Folder name, `<key>-<name>-<version>`. */
  folder: string;
  key: string;
  path: string;
  /** lstat says: a real folder, a symlink, or something else. */
  type: 'dir' | 'symlink' | 'other';
  /** Present and consistent with the folder name. */
  meta?: EntryMeta;
  /** Why there is no usable `meta`: absent, unreadable, or naming another entry. */
  metaProblem?: string;
  /** `name@version` from the metadata, or the folder name's tail. */
  label: string;
  /** The recipe name from the metadata, when known. */
  name?: string;
  /** ctime of the folder: rename and chmod into the store set it, so it is when the entry arrived. */
  changedMs: number;
}

export interface StoreListing {
  entries: StoredEntry[];
  /** Keys with `meta/<key>.json` or `.files` but no entry folder. */
  orphanMeta: string[];
  /** Names in the store's root that are neither the store's folders nor entries. */
  unknown: string[];
}

export function keyOfFolder(folder: string): string | undefined {
  return ENTRY_RE.exec(folder)?.[1];
}

export async function listStore(store: StoreLayout): Promise<StoreListing> {
  const names = await readdir(store.root).catch(() => [] as string[]);
  const entries: StoredEntry[] = [];
  const unknown: string[] = [];
  const own = storeFolders(store);
  for (const folder of names.sort()) {
    const key = keyOfFolder(folder);
    if (!key) {
      // An entry being published (src/store/entry.ts) is intact's own; a dead one's is a leftover (leftovers.ts).
      if (!own.has(folder) && !STORE_FILES.has(folder) && !tempOwner(folder, ['publish'])) unknown.push(folder);
      continue;
    }
    const path = join(store.root, folder);
    const st = await lstat(path).catch(() => undefined);
    if (!st) continue; // removed meanwhile (gc, repair)
    const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    const m = await loadMeta(store, key);
    const e: StoredEntry = { folder, key, path, type, label: folder.slice(key.length + 1), changedMs: st.ctimeMs };
    if (m.meta && entryName(m.meta.key, m.meta.name, m.meta.version) === folder) {
      e.meta = m.meta;
      e.label = `${m.meta.name}@${m.meta.version}`;
      e.name = m.meta.name;
    } else {
      e.metaProblem = m.meta ? `its metadata describes ${entryName(m.meta.key, m.meta.name, m.meta.version)}` : m.problem;
    }
    entries.push(e);
  }
  const present = new Set(entries.map((e) => e.key));
  const orphan = new Set<string>();
  for (const f of await readdir(store.meta).catch(() => [] as string[])) {
    const m = /^(.+)\.(json|files)$/.exec(f);
    if (m && !present.has(m[1]!)) orphan.add(m[1]!);
  }
  return { entries, orphanMeta: [...orphan].sort(), unknown };
}

/** The metadata of `key`, or why there is none. */
export async function loadMeta(store: StoreLayout, key: string): Promise<{ meta?: EntryMeta; problem: string }> {
  let text: string;
  try {
    text = await readFile(join(store.meta, `${key}.json`), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? 'it has no metadata' : `its metadata cannot be read: ${(e as Error).message}` };
  }
  try {
    const m = JSON.parse(text) as EntryMeta;
    if (
      typeof m !== 'object' ||
      m === null ||
      m.key !== key ||
      typeof m.name !== 'string' ||
      typeof m.version !== 'string' ||
      typeof m.output !== 'string' ||
      !Array.isArray(m.deps)
    ) {
      return { problem: 'its metadata is malformed' };
    }
    return { meta: m, problem: '' };
  } catch {
    return { problem: 'its metadata is not JSON' };
  }
}

/** Entries that answer to `name`: a recipe name, `name@version`, the folder name or the key. */
export function matchesName(e: StoredEntry, name: string): boolean {
  return e.name === name || e.label === name || e.folder === name || e.key === name;
}
