// `intact verify --store`: tamper detection. Every entry (or the named ones) is
// read again and hashed; the result must equal the output hash its metadata
// recorded when it was added. On a difference, the entry's file manifest (taken
// at add time, and itself checked against that hash) names each file modified,
// added, removed or replaced by a symlink. Entries must also still be read-only.
// Around the entries: entries without metadata, metadata without entries, entries
// a project's root lists but that are gone, anything unknown in the store's root,
// and download-cache files that no longer match the hash they are named by.
//
// Findings have the shape of the static verify's (code, file, message, hint), so
// one report, `--json` document or JUnit file carries both. Nothing is written.
//
// Speed: one synchronous walk in 20 ms slices with a reused 1 MiB buffer per
// entry (src/store/tree-scan.ts); bench/verify-store.mjs compares it with
// `find -type f -print0 | xargs -0 sha256sum` (target: at least 0.8x its throughput).
import { join } from 'node:path';
import { byCodePoint } from '../canonical-json.js';
import { exitStatusOf, finding, IntactError, type ErrorCode, type Finding } from '../errors.js';
import { hashCacheFile, listCache } from './cache-files.js';
import { findLeftovers } from './leftovers.js';
import { listStore, matchesName, type StoredEntry } from './listing.js';
import { readManifest } from './manifest.js';
import type { StoreLayout } from './paths.js';
import { readRoots } from './roots.js';
import { diffRecords, type TreeChange } from './tree-diff.js';
import { hashRecords } from './tree-hash.js';
import { scanTree } from './tree-scan.js';

export interface VerifyStoreOptions {
  /** Recipe names (or `name@version`, entry folder names, keys); default: the whole store. */
  names?: readonly string[];
  /** Re-hash the download cache too; default: only when no names are given. */
  cache?: boolean;
  /** Called as each entry is done, for progress output. */
  onEntry?: (r: EntryResult) => void;
}

/** What a repair must do for an entry; `none` when it is whole. */
export type Damage =
  /** Content differs from the recorded output, or cannot be read: rebuild. */
  | 'content'
  /** Content is intact but something has a write bit: make it read-only again. */
  | 'modes'
  /** Content and modes are intact, the file manifest is missing or damaged: record it again. */
  | 'manifest'
  /** No usable metadata: what the entry should hold is unknown. */
  | 'unknown'
  | 'none';

export interface EntryResult {
  /** Folder name in the store. */
  entry: string;
  key: string;
  /** `name@version` (or the folder's tail when the metadata is gone). */
  label: string;
  name?: string;
  /** The recorded output hash. */
  expected?: string;
  /** The hash of what is there now. */
  found?: string;
  damage: Damage;
  bytes: number;
  findings: Finding[];
}

export interface StoreVerifyReport {
  ok: boolean;
  exitCode: 0 | 1 | 2;
  findings: Finding[];
  /** Entries checked. */
  entries: number;
  /** Bytes of entry content and cache files read. */
  bytes: number;
  /** Per entry, in folder-name order (JUnit: one test case each). */
  results: EntryResult[];
  /** Download-cache files checked. */
  cacheFiles: number;
}

/** At most this many per-file findings per entry; the entry's summary gives the totals. */
const MAX_FILE_FINDINGS = 50;

export async function verifyStore(store: StoreLayout, opts: VerifyStoreOptions = {}): Promise<StoreVerifyReport> {
  const names = opts.names ?? [];
  const whole = names.length === 0;
  const listing = await listStore(store);
  const roots = await readRoots(store);
  const findings: Finding[] = [];
  const results: EntryResult[] = [];

  let selected = listing.entries;
  const missing: { folder: string; projects: string[] }[] = [];
  const present = new Set(listing.entries.map((e) => e.folder));
  for (const r of roots.live) {
    for (const folder of r.entries) {
      if (present.has(folder)) continue;
      const m = missing.find((x) => x.folder === folder);
      if (m) m.projects.push(r.project);
      else missing.push({ folder, projects: [r.project] });
    }
  }
  let missingSelected = missing;
  if (!whole) {
    selected = listing.entries.filter((e) => names.some((n) => matchesName(e, n)));
    missingSelected = missing.filter((m) => names.some((n) => folderAnswers(m.folder, n)));
    const unmatched = names.filter((n) => !selected.some((e) => matchesName(e, n)) && !missingSelected.some((m) => folderAnswers(m.folder, n)));
    if (unmatched.length > 0) {
      throw new IntactError('NOT_INSTALLED', `the store ${store.root} has no entry for ${unmatched.join(', ')}`, {
        hint: '`intact list` shows what the store holds; install it first with `intact install NAME`',
      });
    }
  }

  let bytes = 0;
  for (const e of selected) {
    const r = await verifyEntry(store, e);
    bytes += r.bytes;
    results.push(r);
    findings.push(...r.findings);
    opts.onEntry?.(r);
  }

  for (const m of missingSelected) {
    findings.push(
      finding('STORE_ENTRY_MISSING', `${m.folder} is gone from the store, but ${m.projects.join(', ')} still use${m.projects.length === 1 ? 's' : ''} it`, {
        file: join(store.root, m.folder),
        hint: 'run `intact repair` (or `intact install`) in that project to build it again',
      }),
    );
  }

  let cacheFiles = 0;
  if (opts.cache ?? whole) {
    const c = await verifyCache(store);
    cacheFiles = c.files;
    bytes += c.bytes;
    findings.push(...c.findings);
  }

  if (whole) {
    for (const u of listing.unknown) {
      findings.push(
        finding('STORE_UNKNOWN_FILE', `${u} in the store was not put there by intact`, {
          file: join(store.root, u),
          hint: 'find out what made it; remove it if nothing should be there (the store holds only entries and its own folders)',
        }),
      );
    }
    for (const p of await findLeftovers(store)) {
      findings.push(
        finding('STORE_LEFTOVER', `${p} was left by an intact process that is gone (killed or crashed)`, {
          file: p,
          hint: 'harmless; the next `intact install`, `fetch`, `lock` or `gc` removes it',
        }),
      );
    }
    for (const key of listing.orphanMeta) {
      findings.push(
        finding('STORE_META_ORPHAN', `metadata of ${key} without an entry (a build that stopped between the two, or an entry removed by hand)`, {
          file: join(store.meta, `${key}.json`),
          hint: 'harmless; `intact gc` removes it',
        }),
      );
    }
    for (const u of roots.unreadable) {
      findings.push(
        finding('STORE_UNKNOWN_FILE', `the gc root ${u.file} cannot be read: ${u.why}`, {
          file: u.file,
          hint: 'remove it, then run `intact install` in the project it belonged to (gc keeps everything while a root is unreadable)',
        }),
      );
    }
  }

  const exitCode = exitStatusOf(findings);
  return { ok: exitCode === 0, exitCode, findings, entries: results.length, bytes, results, cacheFiles };
}

/** Check one entry against its metadata and manifest. */
export async function verifyEntry(store: StoreLayout, e: StoredEntry): Promise<EntryResult> {
  const r: EntryResult = { entry: e.folder, key: e.key, label: e.label, ...(e.name ? { name: e.name } : {}), damage: 'none', bytes: 0, findings: [] };
  const hint = `run \`intact repair ${e.name ?? e.folder}\` to replace it with a fresh build; find out what wrote into the store`;
  const add = (code: ErrorCode, message: string, file: string, extra: { expected?: string; found?: string; hint?: string } = {}): void => {
    r.findings.push(finding(code, `${e.label}: ${message}`, { file, hint, ...(e.name ? { recipe: e.name } : {}), ...extra }));
  };

  if (e.type !== 'dir') {
    r.damage = 'content';
    add(
      e.type === 'symlink' ? 'STORE_FILE_SYMLINKED' : 'STORE_ENTRY_MODIFIED',
      e.type === 'symlink' ? 'the entry folder was replaced by a symlink' : 'the entry is not a folder any more',
      e.path,
    );
    return r;
  }
  if (!e.meta) {
    r.damage = 'unknown';
    add(
      e.metaProblem === 'it has no metadata' ? 'STORE_ENTRY_NO_META' : 'STORE_META_INVALID',
      `${e.metaProblem ?? 'it has no metadata'}: nothing says what it should hold`,
      join(store.meta, `${e.key}.json`),
      {
        hint: 'an entry appears only after its metadata is written: this one was put there by hand or its metadata was removed; `intact repair` rebuilds it when a recipe of this project has its key, else `intact gc` removes it',
      },
    );
    return r;
  }

  r.expected = e.meta.output;
  const scan = await scanTree(e.path, { collect: true, writable: true });
  r.bytes = scan.bytes;
  const found = hashRecords(scan.records);
  r.found = found;

  for (const issue of scan.issues.slice(0, MAX_FILE_FINDINGS)) {
    const what =
      issue.what === 'special' ? `is a ${issue.detail}, which no entry may hold` : issue.what === 'changed' ? issue.detail : `cannot be read: ${issue.detail}`;
    add('STORE_ENTRY_UNREADABLE', `${issue.rel.toString() || '.'} ${what}`, join(e.path, issue.rel.toString()));
  }

  const whole = found === e.meta.output && scan.issues.length === 0;
  const manifest = await readManifest(store, e.key, e.meta.output, whole ? scan.records : undefined);
  if (found !== e.meta.output || scan.issues.length > 0) {
    r.damage = 'content';
    let changes: TreeChange[] | undefined;
    if (manifest.status === 'ok') changes = diffRecords(manifest.manifest.records, scan.records);
    const counts = changes ? summarise(changes) : '';
    add('STORE_ENTRY_MODIFIED', `its content no longer matches the output hash recorded when it was added${counts ? ` (${counts})` : ''}`, e.path, {
      expected: e.meta.output,
      found,
      ...(manifest.status === 'ok'
        ? {}
        : {
            hint: `${hint}; no usable file manifest (${manifest.status === 'missing' ? 'none was recorded' : manifest.why}), so the changed files cannot be named`,
          }),
    });
    for (const c of (changes ?? []).slice(0, MAX_FILE_FINDINGS)) {
      add(CHANGE_CODE[c.change], `${c.path}: ${c.detail}`, join(e.path, c.path));
    }
    if (changes && changes.length > MAX_FILE_FINDINGS) {
      add('STORE_ENTRY_MODIFIED', `and ${changes.length - MAX_FILE_FINDINGS} more changed paths not listed`, e.path);
    }
  }

  if (scan.writable.length > 0) {
    if (r.damage === 'none') r.damage = 'modes';
    const first = scan.writable
      .slice(0, 3)
      .map((p) => p.toString() || '.')
      .join(', ');
    add(
      'STORE_ENTRY_WRITABLE',
      `${scan.writable.length} path(s) can be written to (${first}${scan.writable.length > 3 ? ', ...' : ''}); entries are read-only`,
      join(e.path, scan.writable[0]!.toString()),
      {
        hint: `run \`intact repair ${e.name ?? e.folder}\` to make it read-only again; whatever made it writable may also change it`,
      },
    );
  }

  if (manifest.status === 'invalid' && r.damage !== 'content') {
    add('STORE_MANIFEST_MISMATCH', `its file manifest does not describe it: ${manifest.why}`, join(store.meta, `${e.key}.files`), {
      hint: `the entry's content is intact; run \`intact repair ${e.name ?? e.folder}\` to record the manifest again, and find out what wrote into the store`,
    });
    if (r.damage === 'none') r.damage = 'manifest';
  } else if (manifest.status === 'missing' && r.damage !== 'content') {
    add(
      'STORE_MANIFEST_MISSING',
      'no file manifest was recorded (it was added by an older intact): a change could be detected but not located',
      join(store.meta, `${e.key}.files`),
      {
        hint: `run \`intact repair ${e.name ?? e.folder}\` to record one`,
      },
    );
    if (r.damage === 'none') r.damage = 'manifest';
  }
  return r;
}

/** For an entry that is gone (no metadata to ask): does its folder name answer to `name`? */
function folderAnswers(folder: string, name: string): boolean {
  const tail = folder.slice(33);
  return folder === name || folder.startsWith(`${name}-`) || tail === name.replace(/@(?=[^@]*$)/, '-') || tail.startsWith(`${name}-`);
}

const CHANGE_CODE: Record<TreeChange['change'], ErrorCode> = {
  modified: 'STORE_FILE_MODIFIED',
  added: 'STORE_FILE_ADDED',
  missing: 'STORE_FILE_MISSING',
  symlinked: 'STORE_FILE_SYMLINKED',
};

function summarise(changes: readonly TreeChange[]): string {
  const n = { modified: 0, added: 0, missing: 0, symlinked: 0 };
  for (const c of changes) n[c.change]++;
  const parts = [
    n.modified ? `${n.modified} modified` : '',
    n.added ? `${n.added} added` : '',
    n.missing ? `${n.missing} removed` : '',
    n.symlinked ? `${n.symlinked} replaced by symlinks` : '',
  ].filter(Boolean);
  return parts.join(', ');
}

/** Each download-cache file must hash to its own name. */
async function verifyCache(store: StoreLayout): Promise<{ findings: Finding[]; files: number; bytes: number }> {
  const listing = await listCache(store.cache);
  const findings: Finding[] = [];
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let bytes = 0;
  for (const f of listing.files) {
    const hex = await hashCacheFile(f, buf);
    bytes += f.size;
    if (hex !== f.hex) {
      findings.push(
        finding('STORE_CACHE_CORRUPT', `a cached download no longer matches its hash${hex === undefined ? ' (it cannot be read)' : ''}`, {
          file: f.path,
          expected: `${f.algorithm} ${f.hex}`,
          ...(hex ? { found: `${f.algorithm} ${hex}` } : {}),
          hint: 'harmless to installs (a cached file is re-hashed before use), but something wrote into the store; `intact repair` removes it and fetches it again',
        }),
      );
    }
  }
  for (const s of listing.strays) {
    findings.push(
      finding('STORE_UNKNOWN_FILE', 'the download cache holds something intact did not put there', {
        file: s,
        hint: 'find out what made it; remove it (the cache holds only `<algorithm>/<2 hex>/<hex>` files)',
      }),
    );
  }
  findings.sort((a, b) => byCodePoint(a.file ?? '', b.file ?? ''));
  return { findings, files: listing.files.length, bytes };
}
