// xz as a stream. Node has no xz. xz-decompress (by HTTP Toolkit) runs the
// xz-embedded decoder compiled to WebAssembly: streaming, no native build, and
// measured within 1.5x of the xz CLI on the Zig tar. The native alternatives
// need Node >= 22 (@napi-rs/lzma, node-liblzma) or a compiler at install time
// (lzma-native). Its API is a WHATWG stream, so we bridge it to a Node Duplex.
//
// Caveat: xz-decompress serialises decoders behind a process-wide mutex that is
// released only when a stream ends, errors or is cancelled; stream.pipeline
// cancels on every error path, which is why callers must use pipeline.
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';

export function unxz(): Duplex {
  const require = createRequire(import.meta.url);
  const { XzReadableStream } = require('xz-decompress') as typeof import('xz-decompress');
  const input = new TransformStream<Uint8Array, Uint8Array>();
  const output = new XzReadableStream(input.readable);
  return Duplex.fromWeb({ readable: output, writable: input.writable });
}
