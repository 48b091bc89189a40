// What counts as a pin: one SRI hash of a strong algorithm, well formed.
// Weak algorithms (sha1, md5) are refused; so are strings with several hashes,
// because SRI matching accepts any one of them (see docs/measured.md §3), which
// would let a weak or wrong hash ride along with a good one.
//
// The one integrity parser: recipes, the lock checks and every fetcher (through
// src/fetch/sri.ts) read a pin here, so a value one of them refuses is refused
// by all. Nothing is trimmed: whitespace anywhere makes a pin malformed.

export const STRONG_ALGORITHMS = { sha256: 32, sha384: 48, sha512: 64 } as const;
export type StrongAlgorithm = keyof typeof STRONG_ALGORITHMS;

export type IntegrityVerdict = { ok: true; algorithm: StrongAlgorithm; digest: string } | { ok: false; weak: boolean; reason: string; hint: string };

const HINT = 'pin with sha512 (preferred), sha384 or sha256, as `sha512-<base64>`; `intact lock` writes it for you';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function classifyIntegrity(input: unknown): IntegrityVerdict {
  if (typeof input !== 'string' || input.trim() === '') {
    return { ok: false, weak: false, reason: 'the integrity is empty', hint: HINT };
  }
  const tokens = input.trim().split(/\s+/);
  if (tokens.length > 1) {
    return { ok: false, weak: false, reason: 'the integrity holds several hashes; any one matching would pass', hint: `keep exactly one: ${HINT}` };
  }
  if (input !== tokens[0]) {
    return { ok: false, weak: false, reason: 'the integrity has whitespace around it', hint: `remove it: ${HINT}` };
  }
  const token = input;
  const dash = token.indexOf('-');
  if (dash <= 0) {
    return { ok: false, weak: false, reason: `"${clip(token)}" is not an SRI string (algorithm-base64)`, hint: HINT };
  }
  const algorithm = token.slice(0, dash).toLowerCase();
  const rest = token.slice(dash + 1);
  if (algorithm === 'sha1' || algorithm === 'md5' || algorithm === 'sha224') {
    return { ok: false, weak: true, reason: `${algorithm} is too weak to pin a download`, hint: HINT };
  }
  if (!(algorithm in STRONG_ALGORITHMS) || token.slice(0, dash) !== algorithm) {
    return { ok: false, weak: false, reason: `"${token.slice(0, dash)}" is not a supported hash algorithm`, hint: HINT };
  }
  if (rest.includes('?')) {
    return { ok: false, weak: false, reason: 'SRI options (`?...`) are not accepted in a pin', hint: HINT };
  }
  const bytes = STRONG_ALGORITHMS[algorithm as StrongAlgorithm];
  if (!BASE64.test(rest) || Buffer.from(rest, 'base64').length !== bytes || rest.length !== Math.ceil(bytes / 3) * 4) {
    const hex = /^[0-9a-f]+$/i.test(rest) && rest.length === bytes * 2;
    return {
      ok: false,
      weak: false,
      reason: `the ${algorithm} digest is not ${bytes} bytes of base64`,
      hint: hex ? `this looks like hex; SRI uses base64: ${algorithm}-${Buffer.from(rest, 'hex').toString('base64')}` : HINT,
    };
  }
  // Round-trip: a digest whose unused low bits are set is a second spelling of one hash.
  if (Buffer.from(rest, 'base64').toString('base64') !== rest) {
    return { ok: false, weak: false, reason: `the ${algorithm} digest is not canonical base64`, hint: HINT };
  }
  return { ok: true, algorithm: algorithm as StrongAlgorithm, digest: rest };
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
