// Receiving an artifact's archive: its parts download one after another (sha256
// and size checked while each streams, resumed after a cut connection), and
// each verified part is unpacked by src/fetch/extract while the next one is
// still on the wire, then merged into one tree (merge.ts). So a large entry
// costs about its download time plus the unpacking of one part, and the archive
// parser still only ever sees verified bytes. The result is a folder inside
// `<store>/tmp` that admit.ts checks and moves into the store; on any failure
// it is removed.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FetchEvent, FetchProgress } from '../fetch/types.js';
import { FileSink } from './file-sink.js';
import type { FoundArtifact } from './find-artifact.js';
import { mergeTree } from './merge.js';
import { removeTree, tempPath } from './tmp.js';
import type { EntryChecks } from './admit.js';

export interface Received {
  /** The work folder (removed by whoever consumes this). */
  work: string;
  /** The unpacked tree, inside `work`. */
  out: string;
  /** Bytes of file content unpacked. */
  bytes: number;
}

export async function receiveEntry(found: FoundArtifact, what: { name: string; version: string }, checks: Pick<EntryChecks, 'store' | 'extract'>, opts: { signal?: AbortSignal; onEvent?: FetchProgress }): Promise<Received> {
  const where = `${found.client.name}:${found.metadata.entry.key}`;
  const work = tempPath(checks.store, `unpack-${what.name}`);
  const out = join(work, 'out');
  const id = `${what.name}@${what.version} from ${found.client.name}`;
  const total = found.layers.reduce((n, l) => n + l.size, 0);
  let bytes = 0;
  let failed: unknown;
  let unpacking: Promise<void> = Promise.resolve();
  try {
    await mkdir(work, { recursive: true });
    let offset = 0;
    for (const [i, layer] of found.layers.entries()) {
      if (failed !== undefined) break;
      const file = join(work, `part-${i}.tar.gz`);
      const sink = new FileSink(file);
      try {
        await found.client.downloadBlob(layer.digest, layer.size, sink, id, partEvents(opts.onEvent, i, offset, total));
      } finally {
        sink.close();
      }
      offset += layer.size;
      const dest = i === 0 ? out : join(work, `part-${i}`);
      const name = found.layers.length > 1 ? `${where} (part ${i + 1} of ${found.layers.length})` : where;
      unpacking = unpacking.then(async () => {
        if (failed !== undefined) return;
        const r = (await checks.extract(file, dest, { name, ...(opts.signal ? { signal: opts.signal } : {}) })) as { bytes?: number } | undefined;
        bytes += typeof r?.bytes === 'number' ? r.bytes : 0;
        await rm(file, { force: true });
        if (i > 0) {
          await mergeTree(dest, out, where);
          await removeTree(dest);
        }
      });
      unpacking.catch((e: unknown) => {
        failed ??= e;
      });
    }
    await unpacking;
    if (failed !== undefined) throw failed;
    opts.onEvent?.({ type: 'done', id, bytes: total, cached: false });
    return { work, out, bytes };
  } catch (e) {
    opts.onEvent?.({ type: 'fail', id, message: (e as Error).message });
    await unpacking.catch(() => undefined);
    await removeTree(work);
    throw e;
  }
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
