import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classifyIntegrity } from '../../src/recipe/integrity.js';

const sri = (alg: string, data = 'x') => `${alg}-${createHash(alg).update(data).digest('base64')}`;

describe('classifyIntegrity', () => {
  it.each([
    [sri('sha512'), 'ok'],
    [sri('sha384'), 'ok'],
    [sri('sha256'), 'ok'],
    [sri('sha1'), 'weak'],
    [sri('md5'), 'weak'],
    [`${sri('sha512')} ${sri('sha256')}`, 'malformed'],
    [`${sri('sha512')} ${sri('sha512', 'y')}`, 'malformed'],
    [`${sri('sha512')}?opt`, 'malformed'],
    ['sha512-', 'malformed'],
    ['sha512-abc', 'malformed'],
    ['sha256-' + createHash('sha256').update('x').digest('hex'), 'malformed'],
    ['SHA512-' + sri('sha512').slice(7), 'malformed'],
    ['blake3-abc', 'malformed'],
    ['not an sri', 'malformed'],
    ['', 'malformed'],
    [42, 'malformed'],
  ])('%j → %s', (input, verdict) => {
    const v = classifyIntegrity(input);
    if (verdict === 'ok') expect(v.ok).toBe(true);
    else {
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.weak).toBe(verdict === 'weak');
    }
  });
  it('recognises hex and shows the base64 form', () => {
    const hex = createHash('sha256').update('x').digest('hex');
    const v = classifyIntegrity(`sha256-${hex}`);
    expect(!v.ok && v.hint).toContain(sri('sha256'));
  });
});
