// The file manifest of a store entry: `<store>/meta/<key>.files`, written when the
// entry is added, listing every record its output hash was made of. With it,
// `verify --store` names the files that were modified, added or removed instead
// of only saying "the hash differs". It cannot go stale unnoticed: hashing its
// records must give the entry's recorded output hash, or it is not used.
//
// Format, exactly (deterministic: records in the tree hash's order):
//
//   line 1   {"format":"intact-manifest-1","output":"sha256-...","records":N}
//   then     one JSON array per record, one per line:
//              ["d", PATH]
//              ["f", PATH, SHA256-HEX]      (x for an executable file)
//              ["l", PATH, TARGET]
//
// PATH and TARGET are JSON strings when their bytes are valid UTF-8 (always, in
// practice), else {"hex": "..."} of the raw bytes, so no name is lost. The hex
// sha256 is what `sha256sum` prints, so a person can check one file by hand.
// Not `.json`: the store's size summary reads every `meta/*.json` as entry
// metadata, and a manifest can be megabytes.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';
import type { StoreLayout } from './paths.js';
import { hashRecords } from './tree-hash.js';
import type { Kind, TreeRecord } from './tree-scan.js';
import { tempName } from '../temp-name.js';

export const MANIFEST_FORMAT = 'intact-manifest-1';

export interface Manifest {
  output: string;
  records: TreeRecord[];
}

export function manifestPath(store: StoreLayout, key: string): string {
  return join(store.meta, `${key}.files`);
}

export function renderManifest(m: Manifest): string {
  const lines = [JSON.stringify({ format: MANIFEST_FORMAT, output: m.output, records: m.records.length })];
  for (const r of m.records) {
    const row: unknown[] = [r.kind, bytesJson(r.rel)];
    if (r.kind === 'f' || r.kind === 'x') row.push(r.payload!.toString('hex'));
    else if (r.kind === 'l') row.push(bytesJson(r.payload!));
    lines.push(JSON.stringify(row));
  }
  return `${lines.join('\n')}\n`;
}

/** Parse a manifest; throws on anything malformed (a damaged manifest is never half-used). */
export function parseManifest(text: string): Manifest {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const bad = (why: string): IntactError => new IntactError('STORE_MANIFEST_MISMATCH', `the file manifest is malformed: ${why}`);
  let head: { format?: unknown; output?: unknown; records?: unknown };
  try {
    head = JSON.parse(lines[0] ?? '') as typeof head;
  } catch {
    throw bad('line 1 is not JSON');
  }
  if (head.format !== MANIFEST_FORMAT) throw bad(`format is ${JSON.stringify(head.format)}, not ${MANIFEST_FORMAT}`);
  if (typeof head.output !== 'string') throw bad('no output hash');
  if (head.records !== lines.length - 1) throw bad(`it announces ${String(head.records)} records and holds ${lines.length - 1}`);
  const records: TreeRecord[] = [];
  for (let i = 1; i < lines.length; i++) {
    let row: unknown;
    try {
      row = JSON.parse(lines[i]!);
    } catch {
      throw bad(`line ${i + 1} is not JSON`);
    }
    if (!Array.isArray(row) || !['d', 'f', 'x', 'l'].includes(row[0] as string)) throw bad(`line ${i + 1} is not a record`);
    const kind = row[0] as Kind;
    const rel = bytesOf(row[1]);
    if (!rel || rel.length === 0) throw bad(`line ${i + 1} has no path`);
    if (kind === 'd') {
      if (row.length !== 2) throw bad(`line ${i + 1}: a folder has no payload`);
      records.push({ kind, rel });
      continue;
    }
    if (row.length !== 3) throw bad(`line ${i + 1} has ${row.length} fields`);
    const payload = kind === 'l' ? bytesOf(row[2]) : typeof row[2] === 'string' && /^[0-9a-f]{64}$/.test(row[2]) ? Buffer.from(row[2], 'hex') : undefined;
    if (!payload) throw bad(`line ${i + 1} has a malformed ${kind === 'l' ? 'link target' : 'sha256'}`);
    records.push({ kind, rel, payload });
  }
  for (let i = 1; i < records.length; i++) {
    if (Buffer.compare(records[i - 1]!.rel, records[i]!.rel) >= 0) throw bad(`records are not in order at line ${i + 2}`);
  }
  return { output: head.output, records };
}

/** Write atomically (temp file in the store's tmp, then rename), read-only like the rest of the metadata. */
export async function writeManifest(store: StoreLayout, key: string, m: Manifest): Promise<void> {
  await mkdir(store.meta, { recursive: true });
  await mkdir(store.tmp, { recursive: true });
  const tmp = join(store.tmp, tempName('files', randomBytes(6).toString('hex')));
  try {
    await writeFile(tmp, renderManifest(m), { flag: 'wx', mode: 0o444 });
    await rename(tmp, manifestPath(store, key));
  } finally {
    await rm(tmp, { force: true });
  }
}

export type ManifestRead =
  | { status: 'ok'; manifest: Manifest }
  | { status: 'missing' }
  /** Malformed, or its records do not hash to the output it claims. */
  | { status: 'invalid'; why: string };

/**
 * Read and check a manifest; `whole`: the entry's records as just scanned, when
 * they hash to `output`. Security: it is trusted only when its records hash
 * to `output` (the entry's recorded output hash), so an edited manifest cannot
 * hide an edited file.
 */
export async function readManifest(store: StoreLayout, key: string, output: string, whole?: TreeRecord[]): Promise<ManifestRead> {
  let text: string;
  try {
    text = await readFile(manifestPath(store, key), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    return { status: 'invalid', why: (e as Error).message };
  }
  // The usual case: `whole`, the records of an entry just scanned that hash to
  // `output`, rendered are the manifest's exact text (rendering is deterministic),
  // which costs a fraction of parsing and hashing every record again. Any other
  // text takes the full check.
  if (whole && renderManifest({ output, records: whole }) === text) return { status: 'ok', manifest: { output, records: whole } };
  let m: Manifest;
  try {
    m = parseManifest(text);
  } catch (e) {
    return { status: 'invalid', why: (e as Error).message };
  }
  if (m.output !== output) return { status: 'invalid', why: `it describes output ${m.output}, the metadata records ${output}` };
  const h = hashRecords(m.records);
  if (h !== output) return { status: 'invalid', why: `its records hash to ${h}, not to the recorded ${output}` };
  return { status: 'ok', manifest: m };
}

function bytesJson(b: Buffer): string | { hex: string } {
  const s = b.toString('utf8');
  // Only invalid UTF-8 decodes to U+FFFD: without one, the round trip is exact
  // and costs nothing (verify renders every record of every entry).
  if (!s.includes('\uFFFD')) return s;
  return Buffer.from(s, 'utf8').equals(b) ? s : { hex: b.toString('hex') };
}

function bytesOf(v: unknown): Buffer | undefined {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v !== null && typeof v === 'object' && typeof (v as { hex?: unknown }).hex === 'string' && /^(?:[0-9a-f]{2})+$/.test((v as { hex: string }).hex)) {
    return Buffer.from((v as { hex: string }).hex, 'hex');
  }
  return undefined;
}
