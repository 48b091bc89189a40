// A ByteSink into a temporary file: each chunk is written synchronously in the
// body handler, so the HTTP body never pauses (shared TRAPS.md #1) and memory
// stays flat whatever the blob's size.
import { closeSync, ftruncateSync, openSync, writeSync, constants } from 'node:fs';
import type { ByteSink } from '../fetch/types.js';

export class FileSink implements ByteSink {
  #fd: number;
  #bytes = 0;

  constructor(readonly path: string) {
    this.#fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  }

  get bytes(): number {
    return this.#bytes;
  }

  write(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) off += writeSync(this.#fd, chunk, off, chunk.length - off, this.#bytes + off);
    this.#bytes += chunk.length;
  }

  reset(): void {
    ftruncateSync(this.#fd, 0);
    this.#bytes = 0;
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
