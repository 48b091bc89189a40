// The contract between the fetchers, the download cache and extraction.
// Fetchers only produce bytes (into a ByteSink); one place (the cache) hashes,
// verifies and stores them; extraction reads only verified files from the cache.

/**
 * Where a fetcher writes bytes. `write` is synchronous on purpose: the HTTP body
 * must never pause (undici on Node 20 can crash on a paused body when the server
 * closes the connection; see docs/measured.md §1), so each chunk goes to the temp
 * file and the hash in the same handler.
 */
export interface ByteSink {
  write(chunk: Uint8Array): void;
  /** Bytes written so far (for Range resume). */
  readonly bytes: number;
  /** Drop everything written so far (a retry that cannot resume). */
  reset(): void;
}

export interface FetchLimits {
  /** Hard cap on a single download's bytes, enforced while streaming. */
  maxBytes: number;
  connectTimeoutMs: number;
  /** No byte for this long ends the attempt. */
  idleTimeoutMs: number;
  /** A whole download (all attempts on one URL) must finish within this. */
  totalTimeoutMs: number;
  /** Attempts per URL on retryable failures (network errors, 5xx, 429). */
  retries: number;
  /** First backoff delay; doubles per attempt (with jitter), capped. */
  backoffMs: number;
  maxRedirects: number;
  /**
   * The minimum-throughput rule: fewer than minBytesPerSecond on average over any
   * slowWindowMs ends the attempt (FETCH_TOO_SLOW), as a stall does. Without it a
   * server sending a byte every 20 s holds a fetch for the whole total deadline.
   */
  minBytesPerSecond?: number;
  slowWindowMs?: number;
}

export const DEFAULT_LIMITS: FetchLimits = {
  maxBytes: 2 * 1024 ** 3,
  connectTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  totalTimeoutMs: 30 * 60_000,
  retries: 4,
  backoffMs: 500,
  maxRedirects: 10,
  minBytesPerSecond: 1024,
  slowWindowMs: 60_000,
};

/** Progress events; the CLI turns them into bars or plain lines. */
export type FetchEvent =
  | { type: 'start'; id: string; url: string; total?: number }
  | { type: 'progress'; id: string; bytes: number; total?: number }
  | { type: 'retry'; id: string; url: string; attempt: number; reason: string; delayMs: number }
  | { type: 'done'; id: string; bytes: number; cached: boolean }
  | { type: 'fail'; id: string; message: string };

export type FetchProgress = (e: FetchEvent) => void;
