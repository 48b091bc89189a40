// Getting one blob into a repository with as few bytes on the wire as the
// registry allows: HEAD first (already there: nothing to send); else a
// cross-repository mount from a repository on the same registry that has it;
// else an upload, in one PUT when small, in PATCH chunks when large (proxies
// and registries cap request sizes; a chunk is also all that is lost when a
// connection breaks). A failed session is restarted whole, a few times: a
// half-written session cannot be trusted to resume on every registry.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isIntactError } from '../../errors.js';
import { backoffDelay } from '../../fetch/http-policy.js';
import type { RegistryClient } from './client.js';

export interface BlobSource {
  digest: string;
  size: number;
  /** A file holding exactly the blob, or the bytes themselves. */
  file?: string;
  bytes?: Buffer;
}

export type UploadResult = 'present' | 'mounted' | 'uploaded';

const SESSIONS = 3;

export async function uploadBlob(
  client: RegistryClient,
  blob: BlobSource,
  mountFrom: readonly string[] = [],
  onProgress?: (sent: number) => void,
): Promise<UploadResult> {
  if (await client.hasBlob(blob.digest)) return 'present';
  let from: string | undefined;
  for (const repo of mountFrom) {
    if (repo === client.ref.repository) continue;
    if (await client.hasBlob(blob.digest, repo).catch(() => false)) {
      from = repo;
      break;
    }
  }
  for (let session = 1; ; session++) {
    try {
      const started = await client.startUpload(blob.digest, from);
      if (started === 'mounted') return 'mounted';
      from = undefined;
      await send(client, blob, started, onProgress);
      return 'uploaded';
    } catch (e) {
      const again = isIntactError(e) && (e.code === 'CACHE_UNREACHABLE' || (e.code === 'CACHE_REGISTRY' && /^(429|5\d\d)$/.test(e.found ?? '')));
      if (!again || session >= SESSIONS) throw e;
      await sleep(backoffDelay(session, client.limits.backoffMs));
    }
  }
}

async function send(client: RegistryClient, blob: BlobSource, session: URL, onProgress?: (sent: number) => void): Promise<void> {
  const open = (start: number, length: number) => (): Readable =>
    blob.bytes !== undefined
      ? Readable.from([blob.bytes.subarray(start, start + length)])
      : createReadStream(blob.file!, { start, end: start + length - 1, highWaterMark: 1024 * 1024 });
  if (blob.size <= client.limits.monolithicMaxBytes) {
    await client.putBlob(session, blob.digest, blob.size, blob.size === 0 ? () => Readable.from([]) : open(0, blob.size));
    onProgress?.(blob.size);
    return;
  }
  let at = session;
  for (let start = 0; start < blob.size; start += client.limits.chunkBytes) {
    const length = Math.min(client.limits.chunkBytes, blob.size - start);
    at = await client.patchChunk(at, start, length, open(start, length));
    onProgress?.(start + length);
  }
  await client.finishUpload(at, blob.digest);
}
