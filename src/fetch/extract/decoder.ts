// Decompressors that run on our own thread (bzip2, and zstd where Node has no
// native zstd) are driven directly by the tar reader instead of sitting in a
// Transform stage. The reason is memory: such a decoder turns one input chunk
// into all the output it implies, synchronously. Behind a Transform that output
// would pile up in the stream buffer before any limit could look at it, and a
// zstd or bzip2 bomb expands 256 KiB into gigabytes. Handing each block of
// output straight to the parser lets the byte limits stop it within one block;
// `out` may throw to stop the decoder at once.

export interface SyncDecoder {
  push(chunk: Uint8Array): void;
  /** The input is complete; throws if the compressed stream is not. */
  end(): void;
}

export type SyncDecoderFactory = (out: (data: Uint8Array) => void) => SyncDecoder;
