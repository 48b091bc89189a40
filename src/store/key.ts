// The store key: a hash of everything that can change a build's output (input
// addressing, as Nix does). Equal keys mean "the same build"; anything that
// changes a byte of input changes the key, and so the entry's folder name.
import { hash } from 'node:crypto';
import { canonicalCompact } from '../canonical-json.js';
import type { Platform } from '../platform.js';

/** Bump when the layout or the meaning of an entry changes: every key changes with it. */
export const STORE_FORMAT_VERSION = 1;

export interface KeyInput {
  recipeHash: string;
  /** Pins of the sources used on this platform, in recipe order. */
  sources: { integrity: string; archiveIntegrity?: string }[];
  /** Dependencies by name → their keys. */
  deps: Record<string, string>;
  platform: Platform;
  /** The build machine, only when it is not `platform` (a cross build). */
  buildPlatform?: Platform;
}

// Nix's base32 alphabet (no e, o, u, t): short, case-free, safe in file names.
const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

export function storeKey(input: KeyInput): string {
  // One-shot hash: verify computes a key per recipe and platform, in a cold process.
  const digest = hash('sha256', canonicalCompact({ format: STORE_FORMAT_VERSION, ...input }), 'buffer');
  return base32(digest.subarray(0, 20));
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** `<key>-<name>-<version>`: the entry's folder name. */
export function entryName(key: string, name: string, version: string): string {
  return `${key}-${name}-${version}`;
}
