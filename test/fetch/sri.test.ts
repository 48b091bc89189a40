// Strict SRI parsing: one strong hash, canonical base64, nothing else (docs/measured.md §3).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IntactError } from '../../src/errors.js';
import { createHasher, parseStrongIntegrity, sameIntegrity, toSri } from '../../src/fetch/sri.js';

const data = Buffer.from('intact');
const d = (alg: string): Buffer => createHash(alg).update(data).digest();
const s = (alg: string): string => `${alg}-${d(alg).toString('base64')}`;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Flips an unused low bit of the last digit: decodes the same, spelt differently. */
const setLowBit = (b64: string): string => b64.replace(/(.)=$/, (_m, c: string) => `${B64[B64.indexOf(c) ^ 1]}=`);

describe('parseStrongIntegrity', () => {
  it.each(['sha256', 'sha384', 'sha512'] as const)('accepts a %s hash', (alg) => {
    expect(parseStrongIntegrity(s(alg))).toEqual({ algorithm: alg, digest: d(alg).toString('base64'), hex: d(alg).toString('hex') });
  });

  // One parser with `verify` (src/recipe/integrity.ts): it refuses such a pin, so fetch must too.
  it.each([`  ${s('sha512')}`, `${s('sha512')}\n`])('refuses surrounding whitespace (%j)', (input) => {
    expect(() => parseStrongIntegrity(input)).toThrow(expect.objectContaining({ code: 'INTEGRITY_MALFORMED' }));
  });

  it.each([
    ['sha1', s('sha1')],
    ['md5', s('md5')],
  ])('refuses %s as weak', (_n, input) => {
    expect(() => parseStrongIntegrity(input)).toThrow(expect.objectContaining({ code: 'INTEGRITY_WEAK' }));
  });

  const sha512 = d('sha512').toString('base64');
  it.each([
    ['empty', ''],
    ['multi-hash (ssri matches if any matches)', `${s('sha512')} ${s('sha256')}`],
    ['two sha512 (ssri accepts bad then good)', `sha512-${Buffer.alloc(64).toString('base64')} ${s('sha512')}`],
    ['options', `${s('sha512')}?foo`],
    ['no algorithm', sha512],
    ['unknown algorithm', `sha3-${sha512}`],
    ['uppercase algorithm', `SHA512-${sha512}`],
    ['sha256 length under sha512', `sha512-${d('sha256').toString('base64')}`],
    ['sha512 length under sha256', `sha256-${sha512}`],
    ['base64url alphabet', `sha512-${d('sha512').toString('base64url')}==`],
    ['missing padding', `sha512-${sha512.replace(/=+$/, '')}`],
    ['non-canonical trailing bits', `sha256-${setLowBit(d('sha256').toString('base64'))}`],
    ['garbage', 'not an integrity'],
    ['hex digest', `sha512-${d('sha512').toString('hex')}`],
  ])('refuses %s as malformed', (_n, input) => {
    let err: unknown;
    try {
      parseStrongIntegrity(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IntactError);
    expect((err as IntactError).code).toBe('INTEGRITY_MALFORMED');
    expect((err as IntactError).hint).toContain('sha512');
  });
});

describe('hashing helpers', () => {
  it('createHasher and toSri agree with node:crypto', () => {
    const h = createHasher('sha512');
    h.update(data.subarray(0, 3));
    h.update(data.subarray(3));
    const got = h.digest();
    expect(toSri('sha512', d('sha512'))).toBe(s('sha512'));
    expect(sameIntegrity(got, parseStrongIntegrity(s('sha512')))).toBe(true);
    expect(sameIntegrity(got, parseStrongIntegrity(s('sha256')))).toBe(false);
  });
});
