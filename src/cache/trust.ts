// Whether an artifact may enter the store: signed by a trusted key (bytes, not
// just name) over exactly the entry we want. Pure functions, so every refusal
// in "Bad input and faults" is a table row in a unit test too.
//
// The order of checks gives the clearest reason: no signature at all
// (unsigned); signatures only by names we do not trust (untrusted); a trusted
// name whose signature does not verify (bad signature: metadata changed after
// signing, a signature moved from another artifact, or another key under a
// trusted name); then, signature good, does it describe *this* entry
// (mismatching: a tag pointing at another, older artifact; another output hash
// than intact.lock records; a manifest whose layers are not the signed archive).
import { IntactError } from '../errors.js';
import { signedMessage, type Descriptor, type EntrySignature, type Metadata, type SignedEntry } from './artifact.js';
import { signBytes, strictBase64, verifyBytes, type PublicKey, type SecretKey } from './keys.js';

export interface Wanted {
  key: string;
  name: string;
  version: string;
  platform: string;
  /** Keys of the dependency closure, sorted. */
  deps: string[];
  /** The output hash intact.lock records for this platform, if any. */
  output?: string;
}

export function signEntry(entry: SignedEntry, key: SecretKey): EntrySignature {
  return { key: key.name, sig: signBytes(key, signedMessage(entry)).toString('base64') };
}

/** The trusted key whose signature verifies; throws the reason there is none. */
export function checkSignatures(meta: Metadata, trusted: readonly PublicKey[], where: string): PublicKey {
  if (meta.signatures.length === 0) {
    throw new IntactError('CACHE_UNSIGNED', `${where} is unsigned`, { hint: 'push it again with `intact cache push` (it always signs)' });
  }
  const message = signedMessage(meta.entry);
  const failed: string[] = [];
  for (const s of meta.signatures) {
    const key = trusted.find((k) => k.name === s.key);
    if (key === undefined) continue;
    const sig = strictBase64(s.sig);
    if (sig !== undefined && verifyBytes(key, message, sig)) return key;
    failed.push(s.key);
  }
  if (failed.length > 0) {
    return bad(where, failed);
  }
  const names = [...new Set(meta.signatures.map((s) => s.key))].join(', ');
  throw new IntactError('CACHE_UNTRUSTED', `${where} is signed by ${names}, which cache.trusted-keys does not list`, {
    hint: `trust it only if you trust its builder: add that public key to cache.trusted-keys in intact.yaml (trusted now: ${trusted.map((k) => k.name).join(', ') || 'none'})`,
  });
}

function bad(where: string, names: string[]): never {
  throw new IntactError('CACHE_BAD_SIGNATURE', `${where}: the signature by ${names.join(', ')} does not verify with the trusted key of that name`, {
    hint: 'the metadata was changed after signing, the signature was copied from another artifact, or another key uses a trusted name; do not trust this artifact (push it again from CI)',
  });
}

/** The signed entry must be exactly the one wanted; the manifest's layers must be the signed archive parts. */
export function checkBinding(entry: SignedEntry, layers: readonly Descriptor[], want: Wanted, where: string): void {
  const mismatch = (what: string, expected: string, found: string): IntactError =>
    new IntactError('CACHE_MISMATCH', `${where}: ${what}`, {
      expected,
      found,
      hint: 'the tag points at an artifact for another entry (an older push, or tampering); push the entry again from CI',
    });
  if (entry.key !== want.key) throw mismatch(`the tag points at a signed artifact for another key (${entry.name}@${entry.version})`, want.key, entry.key);
  if (entry.name !== want.name || entry.version !== want.version)
    throw mismatch('the signed name or version differs', `${want.name}@${want.version}`, `${entry.name}@${entry.version}`);
  if (entry.platform !== want.platform) throw mismatch('the signed platform differs', want.platform, entry.platform);
  if (entry.deps.join(' ') !== want.deps.join(' '))
    throw mismatch('the signed dependency keys differ', want.deps.join(' ') || '(none)', entry.deps.join(' ') || '(none)');
  if (want.output !== undefined && entry.output !== want.output) {
    throw mismatch('the signed output hash differs from the one intact.lock records', want.output, entry.output);
  }
  const show = (ps: readonly { digest: string; size: number }[]) => ps.map((p) => `${p.digest} (${p.size} bytes)`).join(', ');
  const parts = entry.archive.parts;
  if (layers.length !== parts.length || layers.some((l, i) => l.digest !== parts[i]!.digest || l.size !== parts[i]!.size)) {
    throw mismatch("the manifest's archive is not the signed one", show(parts), show(layers));
  }
}
