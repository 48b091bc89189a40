// Shared bits for fetch tests: quick limits and an in-memory ByteSink.
import type { ByteSink, FetchEvent, FetchLimits } from '../../src/fetch/types.js';

/** Tight limits so failure paths finish in well under a second. */
export function fastLimits(over: Partial<FetchLimits> = {}): FetchLimits {
  return {
    maxBytes: 64 * 1024 * 1024,
    connectTimeoutMs: 1000,
    idleTimeoutMs: 300,
    totalTimeoutMs: 4000,
    retries: 2,
    backoffMs: 5,
    maxRedirects: 5,
    ...over,
  };
}

export class MemorySink implements ByteSink {
  chunks: Buffer[] = [];
  resets = 0;
  #bytes = 0;
  /** Busy-waits this long per chunk: a slow, synchronous consumer. */
  constructor(readonly slowMs = 0) {}
  get bytes(): number {
    return this.#bytes;
  }
  write(chunk: Uint8Array): void {
    if (this.slowMs > 0) {
      const until = performance.now() + this.slowMs;
      while (performance.now() < until);
    }
    this.chunks.push(Buffer.from(chunk));
    this.#bytes += chunk.length;
  }
  reset(): void {
    this.chunks = [];
    this.#bytes = 0;
    this.resets++;
  }
  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export function recorder(): { events: FetchEvent[]; onEvent: (e: FetchEvent) => void } {
  const events: FetchEvent[] = [];
  return { events, onEvent: (e) => void events.push(e) };
}
