// Pushing store entries as signed artifacts. Per entry: skip it when the tag
// already holds an artifact signed by our key for the same output (idempotent:
// a second push, or two CI jobs at once, costs two small requests); otherwise
// re-hash the entry (defence in depth: we sign what is on disk now, so a store
// tampered with since the build is refused, not published), pack it (archive.ts),
// sign the metadata, upload both blobs (upload.ts: HEAD, mount, PUT or PATCH)
// and put the manifest under the entry's key. Blobs go before the manifest, so a
// tag never points at missing blobs; two pushers race only on the last PUT,
// and either manifest is complete and validly signed.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { IntactError, isIntactError } from '../errors.js';
import { runLimited } from '../pool.js';
import { entryPath, hasEntry, readMeta, type EntryMeta } from '../store/entry.js';
import type { StoreLayout } from '../store/paths.js';
import { treeHash } from '../store/tree-hash.js';
import { CHUNK_BYTES, packTree, type ArchivePart } from './archive.js';
import {
  CONFIG_MEDIA_TYPE,
  LAYER_MEDIA_TYPE,
  METADATA_FORMAT,
  parseManifest,
  parseMetadata,
  renderManifest,
  renderMetadata,
  MAX_METADATA_BYTES,
  type Descriptor,
  type SignedEntry,
} from './artifact.js';
import type { SecretKey } from './keys.js';
import type { RegistryClient } from './oci/client.js';
import { uploadBlob, type UploadResult } from './oci/upload.js';
import { tempPath } from './tmp.js';
import { checkBinding, checkSignatures, signEntry } from './trust.js';

export interface PushTarget {
  key: string;
  name: string;
  version: string;
}

export type PushStatus = 'pushed' | 'present' | 'skipped';

export interface PushReport extends PushTarget {
  status: PushStatus;
  /** Why it was skipped, or what the registry already had. */
  note?: string;
  archiveBytes?: number;
  /** Archive parts (layers). */
  parts?: number;
  /** What the archive's upload came to: all sent, mounted, or already there. */
  archive?: UploadResult;
}

export interface PushOptions {
  client: RegistryClient;
  store: StoreLayout;
  key: SecretKey;
  /** Repositories on the same registry a blob may be mounted from. */
  mountFrom?: readonly string[];
  /** Entries pushed at once. */
  jobs?: number;
  /** Tar bytes per archive part (default archive.ts's PART_TAR_BYTES; tests make it small). */
  partTarBytes?: number;
  signal?: AbortSignal;
  onReport?: (r: PushReport) => void;
  onStart?: (t: PushTarget) => void;
}

/** Every target must be in the store; throws CACHE_NOT_BUILT naming those that are not. */
export async function requireBuilt(store: StoreLayout, targets: readonly PushTarget[]): Promise<void> {
  const missing: string[] = [];
  for (const t of targets) if (!(await hasEntry(store, t.key, t.name, t.version))) missing.push(`${t.name}@${t.version}`);
  if (missing.length > 0) {
    throw new IntactError('CACHE_NOT_BUILT', `not in the store, so not pushed: ${missing.join(', ')}`, {
      hint: 'run `intact install` first (push publishes what this machine built)',
    });
  }
}

export async function pushEntries(targets: readonly PushTarget[], o: PushOptions): Promise<PushReport[]> {
  await requireBuilt(o.store, targets);
  const reports: PushReport[] = new Array<PushReport>(targets.length);
  await runLimited(
    targets.map((t, i) => async () => {
      o.signal?.throwIfAborted();
      o.onStart?.(t);
      reports[i] = await pushOne(t, o);
      o.onReport?.(reports[i]!);
    }),
    o.jobs ?? 2,
  );
  return reports;
}

async function pushOne(t: PushTarget, o: PushOptions): Promise<PushReport> {
  const meta = await readMeta(o.store, t.key);
  if (meta === undefined || meta.key !== t.key) {
    throw new IntactError('CACHE_NOT_BUILT', `${t.name}@${t.version} has no metadata in the store`, {
      file: `${o.store.meta}/${t.key}.json`,
      hint: 'run `intact verify --store`, then `intact install` to rebuild it',
    });
  }
  if (meta.origin === 'substituted') {
    return { ...t, status: 'skipped', note: 'it came from a binary cache; only entries built here are signed and pushed' };
  }
  if (await alreadyThere(o, meta)) return { ...t, status: 'present', note: 'the registry has it, signed by this key' };

  const dir = entryPath(o.store, t.key, t.name, t.version);
  const prefix = tempPath(o.store, t.name);
  let parts: ArchivePart[] = [];
  try {
    const [output, packed] = await Promise.all([treeHash(dir), packTree(dir, prefix, o.signal, o.partTarBytes)]);
    parts = packed;
    if (output !== meta.output) {
      throw new IntactError('OUTPUT_MISMATCH', `${t.name}@${t.version} in the store no longer hashes to the output recorded when it was built`, {
        file: dir,
        expected: meta.output,
        found: output,
        hint: 'the store was changed after the build; it is not pushed. Run `intact verify --store`, remove the entry and install again',
      });
    }
    const entry: SignedEntry = {
      key: meta.key,
      name: meta.name,
      version: meta.version,
      platform: meta.platform,
      output,
      size: meta.size,
      deps: [...meta.deps].sort(),
      sandbox: meta.sandbox,
      bin: meta.bin,
      archive: { mediaType: LAYER_MEDIA_TYPE, chunk: CHUNK_BYTES, parts: parts.map((p) => ({ digest: p.digest, size: p.size, chunks: p.chunks })) },
    };
    const metadata = renderMetadata({ format: METADATA_FORMAT, entry, signatures: [signEntry(entry, o.key)] });
    const config: Descriptor = { mediaType: CONFIG_MEDIA_TYPE, digest: `sha256:${createHash('sha256').update(metadata).digest('hex')}`, size: metadata.length };
    const uploaded: UploadResult[] = [];
    for (const p of parts) uploaded.push(await uploadBlob(o.client, { digest: p.digest, size: p.size, file: p.file }, o.mountFrom ?? []));
    await uploadBlob(o.client, { digest: config.digest, size: config.size, bytes: metadata });
    await o.client.putManifest(t.key, renderManifest(config, entry));
    const archive: UploadResult = uploaded.includes('uploaded') ? 'uploaded' : uploaded.includes('mounted') ? 'mounted' : 'present';
    return { ...t, status: 'pushed', archiveBytes: parts.reduce((n, p) => n + p.size, 0), parts: parts.length, archive };
  } finally {
    await Promise.all(parts.map((p) => rm(p.file, { force: true })));
  }
}

/** The tag holds an artifact for this output that our key signed: nothing to do. */
async function alreadyThere(o: PushOptions, meta: EntryMeta): Promise<boolean> {
  try {
    const got = await o.client.getManifest(meta.key);
    if (got === undefined) return false;
    const manifest = parseManifest(got.bytes, meta.key);
    const md = parseMetadata(await o.client.getSmallBlob(manifest.config.digest, manifest.config.size, MAX_METADATA_BYTES), meta.key);
    checkSignatures(md, [o.key.public], meta.key);
    if (md.entry.key !== meta.key || md.entry.output !== meta.output) return false;
    // Pushed before chunks were signed: replaced, so pullers can unpack while downloading.
    if (md.entry.archive.chunk === undefined) return false;
    checkBinding(
      md.entry,
      manifest.layers,
      { key: meta.key, name: meta.name, version: meta.version, platform: meta.platform, deps: [...meta.deps].sort() },
      meta.key,
    );
    for (const p of md.entry.archive.parts) if (!(await o.client.hasBlob(p.digest))) return false;
    return true;
  } catch (e) {
    // Whatever is there (nothing valid, another signer, a broken artifact) is replaced.
    if (isIntactError(e) && (e.code === 'CACHE_AUTH' || e.code === 'CACHE_UNREACHABLE')) throw e;
    return false;
  }
}
