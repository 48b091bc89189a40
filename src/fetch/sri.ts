// Strict Subresource Integrity strings. ssri is lenient on purpose (it accepts
// sha1/md5, options, and says "match" when any one of several hashes matches;
// docs/measured.md §3); a lockfile pin must name exactly one strong hash, so we
// parse it ourselves and refuse everything else.
import { createHash, type Hash } from 'node:crypto';
import { IntactError } from '../errors.js';

export const STRONG_ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
export type HashAlgorithm = (typeof STRONG_ALGORITHMS)[number];

export interface StrongIntegrity {
  algorithm: HashAlgorithm;
  /** Standard base64 (with padding), as it appears in the SRI string. */
  digest: string;
  /** The same digest in lowercase hex (store paths use it). */
  hex: string;
}

/** Digest sizes in bytes; the base64 form of a digest has exactly one valid length. */
const DIGEST_BYTES: Record<HashAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };
const WEAK = new Set(['sha1', 'md5', 'sha224', 'md4']);
const HINT = 'Use exactly one sha512- (or sha256-/sha384-) hash in SRI form; `intact lock` writes one for you.';

export function isHashAlgorithm(s: string): s is HashAlgorithm {
  return (STRONG_ALGORITHMS as readonly string[]).includes(s);
}

/**
 * Parses one strong SRI hash. Throws INTEGRITY_WEAK for sha1/md5 and
 * INTEGRITY_MALFORMED for anything ambiguous or not exactly a digest.
 */
export function parseStrongIntegrity(s: string): StrongIntegrity {
  const text = s.trim();
  const malformed = (why: string): IntactError =>
    new IntactError('INTEGRITY_MALFORMED', `Integrity ${JSON.stringify(s)} is not usable: ${why}.`, { hint: HINT, found: s });

  if (text === '') throw malformed('it is empty');
  // Security: several hashes would let one good hash vouch for a bad one.
  if (/\s/.test(text)) throw malformed('it holds more than one hash, which is ambiguous');
  const dash = text.indexOf('-');
  if (dash <= 0) throw malformed('it is not of the form <algorithm>-<base64 digest>');
  const algorithm = text.slice(0, dash).toLowerCase();
  const body = text.slice(dash + 1);
  if (WEAK.has(algorithm)) {
    throw new IntactError('INTEGRITY_WEAK', `Integrity ${JSON.stringify(s)} uses ${algorithm}, which is too weak to pin bytes.`, {
      hint: 'Replace it with a sha512 hash of the same file (`intact lock` computes one).',
      found: s,
    });
  }
  if (!isHashAlgorithm(algorithm)) throw malformed(`the algorithm "${algorithm}" is not one of ${STRONG_ALGORITHMS.join(', ')}`);
  if (algorithm !== text.slice(0, dash)) throw malformed('the algorithm must be lowercase');
  if (body.includes('?')) throw malformed('SRI options ("?...") are not accepted');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw malformed('the digest is not standard base64');

  const bytes = DIGEST_BYTES[algorithm];
  const expectedLength = 4 * Math.ceil(bytes / 3);
  if (body.length !== expectedLength) {
    throw malformed(`a ${algorithm} digest is ${expectedLength} base64 characters, this one has ${body.length}`);
  }
  const raw = Buffer.from(body, 'base64');
  // Round-trip: rejects digests whose unused low bits are set (two spellings, one hash).
  if (raw.length !== bytes || raw.toString('base64') !== body) throw malformed('the digest is not canonical base64');
  return { algorithm, digest: body, hex: raw.toString('hex') };
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
