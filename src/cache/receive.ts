// Receiving an artifact's archive. Its parts download one after another over
// the registry client's pooled connection, each into a VerifiedPart, which
// checks every signed chunk digest as the bytes arrive (and the part's digest
// and size at its end). Each part is unpacked by src/fetch/extract while it is
// still downloading, as far as it is verified, so the archive parser never sees
// an unverified byte, and a large entry costs about its download time plus the
// unpacking of its last chunk. The extractor hashes what it writes into the
// tree-hash records admit.ts needs; the parts' trees are merged into one
// (merge.ts). The result is a folder inside `<store>/tmp` that admit.ts checks
// and moves into the store; on any failure it is removed.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExtractResult } from '../fetch/extract/index.js';
import type { FetchEvent, FetchProgress } from '../fetch/types.js';
import { scanTree, type TreeRecord } from '../store/tree-scan.js';
import type { FoundArtifact } from './find-artifact.js';
import { mergeTree } from './merge.js';
import { removeTree, tempPath } from './tmp.js';
import type { EntryChecks } from './entry-checks.js';
import type { SignedEntry } from './artifact.js';
import { VerifiedPart, type PartChunks } from './verified-part.js';

export interface Received {
  /** The work folder (removed by whoever consumes this). */
  work: string;
  /** The unpacked tree, inside `work`. */
  out: string;
  /** Bytes of file content unpacked. */
  bytes: number;
  /** Per part, the tree-hash records of what it unpacked (relative to `out`): admit.ts joins them. */
  records: TreeRecord[][];
}

export async function receiveEntry(
  found: FoundArtifact,
  what: { name: string; version: string },
  checks: Pick<EntryChecks, 'store' | 'extract'>,
  opts: { signal?: AbortSignal; onEvent?: FetchProgress },
): Promise<Received> {
  const where = `${found.client.name}:${found.metadata.entry.key}`;
  const work = tempPath(checks.store, `unpack-${what.name}`);
  const out = join(work, 'out');
  const id = `${what.name}@${what.version} from ${found.client.name}`;
  const total = found.layers.reduce((n, l) => n + l.size, 0);
  const { archive } = found.metadata.entry;
  // An unpacking failure stops the download in flight too.
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const parts: VerifiedPart[] = [];
  let bytes = 0;
  const records: TreeRecord[][] = [];
  let failed: unknown;
  const fail = (e: unknown): void => {
    failed ??= e;
    stop.abort(e);
  };
  let unpacking: Promise<void> = Promise.resolve();
  try {
    await mkdir(work, { recursive: true });
    let offset = 0;
    for (const [i, layer] of found.layers.entries()) {
      if (failed !== undefined) break;
      const file = join(work, `part-${i}.tar.gz`);
      const name = found.layers.length > 1 ? `${where} (part ${i + 1} of ${found.layers.length})` : where;
      // checkBinding made the layers exactly the signed parts.
      const part = new VerifiedPart(file, layer.size, chunksOf(archive, i), name);
      parts.push(part);
      const dest = i === 0 ? out : join(work, `part-${i}`);
      // Unpacks once the part before is unpacked and this one's first bytes are verified
      // (enough to tell its format), reading on as more of it is verified.
      unpacking = unpacking.then(async () => {
        if (failed !== undefined) return;
        await part.verified(HEAD_BYTES);
        const r = (await checks.extract(file, dest, { name, records: true, input: () => part.reader(), signal })) as Partial<ExtractResult> | undefined;
        bytes += typeof r?.bytes === 'number' ? r.bytes : 0;
        await rm(file, { force: true });
        // The extractor hashed what it wrote; an extractor that did not, is read back
        // (before the merge: `dest` holds this part alone; part 0 unpacks into `out`).
        records.push(r?.records ?? (await scanTree(dest)).records);
        if (i > 0) {
          await mergeTree(dest, out, where);
          await removeTree(dest);
        }
      });
      unpacking.catch(fail);
      try {
        await found.client.downloadBlob(layer.digest, layer.size, part, id, partEvents(opts.onEvent, i, offset, total), signal);
      } catch (e) {
        part.fail(e as Error);
        fail(failed ?? e);
        break;
      }
      offset += layer.size;
    }
    await unpacking.catch(() => undefined);
    if (failed !== undefined) throw failed;
    opts.onEvent?.({ type: 'done', id, bytes: total, cached: false });
    return { work, out, bytes, records };
  } catch (e) {
    opts.onEvent?.({ type: 'fail', id, message: (e as Error).message });
    await unpacking.catch(() => undefined);
    await removeTree(work);
    throw e;
  } finally {
    for (const p of parts) p.close();
  }
}

/** Enough of a part to tell its format (a tar header block). */
const HEAD_BYTES = 512;

/** The digests a part is verified by: its signed chunks, or (an older artifact) the part whole. */
function chunksOf(archive: SignedEntry['archive'], i: number): PartChunks {
  const p = archive.parts[i]!;
  if (archive.chunk !== undefined && p.chunks !== undefined) return { size: archive.chunk, digests: p.chunks.map((h) => Buffer.from(h, 'hex')) };
  return { size: p.size, digests: [Buffer.from(p.digest.slice('sha256:'.length), 'hex')] };
}

/** One progress bar for the whole archive: part events shifted by the bytes of the parts before. */
function partEvents(onEvent: FetchProgress | undefined, part: number, offset: number, total: number): FetchProgress | undefined {
  if (onEvent === undefined) return undefined;
  return (e: FetchEvent) => {
    if (e.type === 'start') {
      if (part === 0) onEvent({ ...e, total });
    } else if (e.type === 'progress') {
      onEvent({ ...e, bytes: offset + e.bytes, total });
    } else {
      onEvent(e);
    }
  };
}
