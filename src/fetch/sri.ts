// Strict Subresource Integrity strings. ssri is lenient on purpose (it accepts
// sha1/md5, options, and says "match" when any one of several hashes matches;
// docs/measured.md §3); a lockfile pin must name exactly one strong hash, so we
// parse it ourselves and refuse everything else.
import { createHash, type Hash } from 'node:crypto';
import { IntactError } from '../errors.js';
import { classifyIntegrity } from '../recipe/integrity.js';

export const STRONG_ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
export type HashAlgorithm = (typeof STRONG_ALGORITHMS)[number];

export interface StrongIntegrity {
  algorithm: HashAlgorithm;
  /** Standard base64 (with padding), as it appears in the SRI string. */
  digest: string;
  /** The same digest in lowercase hex (store paths use it). */
  hex: string;
}

const HINT = 'Use exactly one sha512- (or sha256-/sha384-) hash in SRI form; `intact lock` writes one for you.';

export function isHashAlgorithm(s: string): s is HashAlgorithm {
  return (STRONG_ALGORITHMS as readonly string[]).includes(s);
}

/**
 * Parses one strong SRI hash with the one parser (src/recipe/integrity.ts).
 * Throws INTEGRITY_WEAK for sha1/md5 and INTEGRITY_MALFORMED for anything
 * ambiguous, padded with whitespace or not exactly a digest.
 */
export function parseStrongIntegrity(s: string): StrongIntegrity {
  const v = classifyIntegrity(s);
  if (!v.ok) {
    if (v.weak)
      throw new IntactError('INTEGRITY_WEAK', `Integrity ${JSON.stringify(s)} is too weak to pin bytes: ${v.reason}.`, {
        hint: 'Replace it with a sha512 hash of the same file (`intact lock` computes one).',
        found: s,
      });
    throw new IntactError('INTEGRITY_MALFORMED', `Integrity ${JSON.stringify(s)} is not usable: ${v.reason}.`, { hint: HINT, found: s });
  }
  return { algorithm: v.algorithm, digest: v.digest, hex: Buffer.from(v.digest, 'base64').toString('hex') };
}

/** The SRI string for a digest. */
export function toSri(algorithm: HashAlgorithm, digest: Uint8Array): string {
  return `${algorithm}-${Buffer.from(digest).toString('base64')}`;
}

/** Canonical form of a strong SRI string (trimmed, parsed, re-rendered). */
export function renderIntegrity(i: StrongIntegrity): string {
  return `${i.algorithm}-${i.digest}`;
}

/** True when both name the same algorithm and digest. */
export function sameIntegrity(a: StrongIntegrity, b: StrongIntegrity): boolean {
  return a.algorithm === b.algorithm && a.digest === b.digest;
}

export interface Hasher {
  readonly algorithm: HashAlgorithm;
  update(chunk: Uint8Array): void;
  /** Finishes the hash; the hasher cannot be used afterwards. */
  digest(): StrongIntegrity;
}

/** An incremental hash that ends in a parsed SRI value. */
export function createHasher(algorithm: HashAlgorithm): Hasher {
  const h: Hash = createHash(algorithm);
  return {
    algorithm,
    update(chunk) {
      h.update(chunk);
    },
    digest() {
      const raw = h.digest();
      return { algorithm, digest: raw.toString('base64'), hex: raw.toString('hex') };
    },
  };
}
