// Ed25519 signing keys in Nix's text form, so the format is one teams may
// already know: a public key is `name:base64(32-byte key)`, a secret key
// `name:base64(32-byte seed || 32-byte public key)` (libsodium's layout). The
// name says who signs (e.g. `ci.example.com-1`) and is what trusted-keys lists;
// trust always rests on the bytes, never on the name alone.
//
// Secret key material never appears in an error message: parse errors describe
// the shape, not the content.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { IntactError } from '../errors.js';

export interface PublicKey {
  name: string;
  /** The raw 32 bytes. */
  bytes: Buffer;
  /** `name:base64`, as written in intact.yaml. */
  text: string;
}

export interface SecretKey {
  name: string;
  public: PublicKey;
  /** node:crypto key object; the seed is not kept in any other form. */
  key: KeyObject;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function isKeyName(s: string): boolean {
  return NAME.test(s);
}

export function generateKeyPair(name: string): { secretText: string; public: PublicKey } {
  if (!isKeyName(name)) throw badName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  const secretText = `${name}:${Buffer.concat([seed, pub]).toString('base64')}`;
  seed.fill(0);
  return { secretText, public: publicKeyOf(name, pub) };
}

export function publicKeyOf(name: string, bytes: Buffer): PublicKey {
  return { name, bytes, text: `${name}:${bytes.toString('base64')}` };
}

/** Parses `name:base64` (32 bytes). `where` names the place for the message (file:line, flag). */
export function parsePublicKey(text: string, where = 'the public key'): PublicKey {
  const [name, b64, extra] = text.trim().split(':');
  const bad = (why: string): IntactError =>
    new IntactError('KEY_INVALID', `${where} ${JSON.stringify(text)} is not an ed25519 public key: ${why}`, {
      found: text,
      hint: 'write it as `name:base64`, exactly as `intact key generate` printed it',
    });
  if (name === undefined || b64 === undefined || extra !== undefined) throw bad('it must be `name:base64`');
  if (!isKeyName(name)) throw bad('the name may hold only letters, digits, ".", "_" and "-"');
  const bytes = strictBase64(b64);
  if (bytes === undefined || bytes.length !== 32) throw bad('the key must be 32 bytes in base64');
  return publicKeyOf(name, bytes);
}

/** Parses a secret key file's text. The message never quotes the content. */
export function parseSecretKey(text: string, where: string): SecretKey {
  const bad = (why: string): IntactError =>
    new IntactError('KEY_INVALID', `${where} is not an intact secret key: ${why}`, {
      file: where,
      hint: 'point at a file written by `intact key generate` (one line: name:base64)',
    });
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw bad('it must hold exactly one line');
  const parts = lines[0]!.trim().split(':');
  if (parts.length !== 2) throw bad('the line must be `name:base64`');
  const [name, b64] = parts as [string, string];
  if (!isKeyName(name)) throw bad('the key name is not valid');
  const raw = strictBase64(b64);
  if (raw === undefined || raw.length !== 64) throw bad('the key must be 64 bytes in base64 (seed and public key)');
  const seed = raw.subarray(0, 32);
  const pub = Buffer.from(raw.subarray(32));
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: pub.toString('base64url') }, format: 'jwk' });
  } catch {
    throw bad('node:crypto refused it');
  } finally {
    raw.fill(0);
  }
  // Defence in depth: the public half stored in the file must be the one the seed gives.
  const derived = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
  if (!derived.equals(pub)) throw bad('its public half does not belong to its secret half');
  return { name, public: publicKeyOf(name, pub), key };
}

export function signBytes(key: SecretKey, message: Buffer): Buffer {
  return sign(null, message, key.key);
}

export function verifyBytes(key: PublicKey, message: Buffer, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  try {
    const k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.bytes.toString('base64url') }, format: 'jwk' });
    return verify(null, message, k, signature);
  } catch {
    return false;
  }
}

/** Standard base64 with padding only; Buffer.from would silently skip garbage. */
export function strictBase64(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}

function badName(name: string): IntactError {
  return new IntactError('KEY_INVALID', `${JSON.stringify(name)} is not a usable key name`, {
    hint: 'use letters, digits, ".", "_" and "-", e.g. ci.example.com-1 (the -1 lets you rotate to -2 later)',
  });
}
