// bzip2, decoded on our thread (see decoder.ts for why it is not a stream). Node
// has no bzip2, and no native-free library is both fast and lean: unbzip2-stream
// (pure JS, 40M downloads a month) carries a sound decoder, but its stream
// wrapper collects output one byte at a time into a JS array (measured on the
// Zig tar: 22 s and 184 MB peak). We reuse its decoder and bit reader
// (exact-pinned) and collect into reused 1 MiB buffers: 11.7 s and 83 MB, on par
// with the `bzip2` CLI on this machine.
import { createRequire } from 'node:module';
import type { SyncDecoder } from './decoder.js';

type BitReader = ((n: number | null) => number) & { bytesRead: number };
interface Decoder {
  header(bits: BitReader): number;
  /** Decodes one block into `out`; returns the running stream CRC, or null at the end of a stream. */
  decompress(bits: BitReader, out: (byte: number) => void, work: Int32Array, size: number, crc: number | null): number | null;
}

const OUT = 1 << 20;

export function bunzip2(deliver: (data: Uint8Array) => void): SyncDecoder {
  const require = createRequire(import.meta.url);
  const decoder = require('unbzip2-stream/lib/bzip2.js') as Decoder;
  const bitIterator = require('unbzip2-stream/lib/bit_iterator.js') as (next: () => Uint8Array | undefined) => BitReader;

  const queue: Uint8Array[] = [];
  let have = 0;
  let bits: BitReader | undefined;
  let level = 0; // 0 between streams; else the block size in 100 kB
  let crc: number | null = null;
  let work: Int32Array | undefined;
  let out = Buffer.allocUnsafe(OUT);
  let pos = 0;

  const emit = (byte: number): void => {
    out[pos++] = byte;
    if (pos === OUT) {
      const full = out;
      out = Buffer.allocUnsafe(OUT);
      pos = 0;
      deliver(full);
    }
  };

  const step = (b: BitReader): void => {
    if (level === 0) {
      level = decoder.header(b);
      crc = 0;
      return;
    }
    const size = 100_000 * level;
    if (work === undefined || work.length < size) work = new Int32Array(size);
    crc = decoder.decompress(b, emit, work, size, crc);
    if (crc === null) level = 0;
  };

  return {
    push(chunk) {
      queue.push(chunk);
      have += chunk.length;
      bits ??= bitIterator(() => queue.shift());
      // Decode only with a whole compressed block buffered: the decoder cannot pause mid-block.
      while (have - bits.bytesRead + 1 >= 25_000 + 100_000 * level) step(bits);
    },
    end() {
      while (bits !== undefined && have > bits.bytesRead) step(bits);
      if (bits === undefined || crc !== null) throw new Error('bzip2 data ends in the middle of a stream (truncated file)');
      if (pos > 0) deliver(out.subarray(0, pos));
    },
  };
}
