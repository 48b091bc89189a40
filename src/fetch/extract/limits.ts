// Limits against decompression bombs, counted while streaming so that a bomb is
// stopped after a bounded amount of work, not after it filled the disk. The
// defaults leave ample room for real toolchains (the Zig package: 330 MB in
// 13,550 files, ratio 4.6) and stop the classic bombs (gzip of zeros: ratio
// ~1000; xz/zstd/bzip2 of zeros: far more; millions of empty entries).
import { problem } from './problem.js';

export interface ExtractLimits {
  /** Total bytes of entry bodies. */
  maxBytes: number;
  /** Entries of any kind, directories included. */
  maxEntries: number;
  /** Unpacked bytes per compressed byte read, checked once `ratioAfterBytes` were unpacked. */
  maxRatio: number;
  /** Below this many unpacked bytes the ratio is not checked (small, very compressible files are normal). */
  ratioAfterBytes: number;
  /** Bytes of one entry name (PATH_MAX is 4096 with its NUL). */
  maxPathBytes: number;
  /** Bytes of one path component (NAME_MAX). */
  maxNameBytes: number;
}

export const DEFAULT_EXTRACT_LIMITS: Readonly<ExtractLimits> = Object.freeze({
  maxBytes: 4 * 1024 ** 3,
  maxEntries: 200_000,
  maxRatio: 250,
  ratioAfterBytes: 128 * 1024 ** 2,
  maxPathBytes: 4095,
  maxNameBytes: 255,
});

/** Counts what a reader has unpacked and throws EXTRACT_LIMIT the moment a limit is passed. */
export class Budget {
  entries = 0;
  bytes = 0;
  readonly #limits: ExtractLimits;
  readonly #where: string;
  readonly #compressedBytes: () => number;

  constructor(limits: ExtractLimits, where: string, compressedBytes: () => number) {
    this.#limits = limits;
    this.#where = where;
    this.#compressedBytes = compressedBytes;
  }

  entry(name: string): void {
    if (++this.entries > this.#limits.maxEntries) {
      throw problem('EXTRACT_LIMIT', this.#where, name, `is past the limit of ${this.#limits.maxEntries} entries.`, {
        expected: `at most ${this.#limits.maxEntries} entries`,
      });
    }
  }

  /** A declared size, checked before any byte of it is read (zip knows sizes up front). */
  declare(name: string, size: number): void {
    if (this.bytes + size > this.#limits.maxBytes) this.#tooBig(name, this.bytes + size);
  }

  add(name: string, n: number): void {
    this.bytes += n;
    const l = this.#limits;
    if (this.bytes > l.maxBytes) this.#tooBig(name, this.bytes);
    if (this.bytes > l.ratioAfterBytes) {
      const ratio = this.bytes / Math.max(1, this.#compressedBytes());
      if (ratio > l.maxRatio) {
        throw problem(
          'EXTRACT_LIMIT',
          this.#where,
          name,
          `takes the archive past a compression ratio of ${l.maxRatio}:1 (${ratio.toFixed(1)}:1 after ${this.bytes} bytes), which looks like a decompression bomb.`,
          { expected: `ratio at most ${l.maxRatio}`, found: ratio.toFixed(1) },
        );
      }
    }
  }

  #tooBig(name: string, total: number): never {
    throw problem('EXTRACT_LIMIT', this.#where, name, `takes the archive past the limit of ${this.#limits.maxBytes} unpacked bytes.`, {
      expected: `at most ${this.#limits.maxBytes} bytes`,
      found: `${total} bytes or more`,
    });
  }
}
