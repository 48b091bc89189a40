// zstd. Node 20's zlib has no zstd (it arrives in Node 22.15), so we use
// node:zlib's stream when it is there and otherwise fzstd: pure JS, by the author
// of fflate, no native build to fail on a user's machine. fzstd is ~10x slower
// than the zstd CLI (about 90 MB/s unpacked here), which is acceptable for the
// sources intact fetches, and disappears on newer Node. fzstd runs on our thread,
// so it is driven directly by the tar reader (decoder.ts says why).
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import * as zlib from 'node:zlib';
import type { SyncDecoder } from './decoder.js';

type NativeZstd = (opts?: { chunkSize?: number }) => Duplex;

/** Node's own zstd stream, when this Node has one. */
export function nativeUnzstd(): Duplex | undefined {
  const make = (zlib as unknown as { createZstdDecompress?: NativeZstd }).createZstdDecompress;
  return typeof make === 'function' ? make({ chunkSize: 128 * 1024 }) : undefined;
}

export function unzstd(deliver: (data: Uint8Array) => void): SyncDecoder {
  const require = createRequire(import.meta.url);
  const { Decompress } = require('fzstd') as typeof import('fzstd');
  const d = new Decompress((data) => {
    if (data.length > 0) deliver(data);
  });
  return {
    push: (chunk) => d.push(chunk),
    end: () => d.push(new Uint8Array(0), true),
  };
}
