// The pure rules behind download(): redirects, backoff, Retry-After, ranges.
import { describe, expect, it } from 'vitest';
import {
  MAX_BACKOFF_MS,
  MAX_RETRY_AFTER_MS,
  backoffDelay,
  headersForHop,
  nextRedirect,
  parseContentRange,
  parseRetryAfter,
} from '../../src/fetch/http-policy.js';

describe('nextRedirect', () => {
  it('resolves relative locations and drops fragments', () => {
    expect(nextRedirect(['https://a.test/x/y'], '../z#frag', 5).href).toBe('https://a.test/z');
  });

  it('allows http → https and refuses https → http, naming both', () => {
    expect(nextRedirect(['http://a.test/f'], 'https://a.test/f', 5).protocol).toBe('https:');
    expect(() => nextRedirect(['https://a.test/f'], 'http://b.test/f', 5)).toThrow(
      expect.objectContaining({ code: 'REDIRECT_INSECURE', message: expect.stringMatching(/https:\/\/a\.test\/f.*http:\/\/b\.test\/f/) }),
    );
  });

  it('refuses other schemes', () => {
    expect(() => nextRedirect(['http://a.test/f'], 'file:///etc/passwd', 5)).toThrow(expect.objectContaining({ code: 'REDIRECT_INSECURE' }));
  });

  it('refuses loops and long chains', () => {
    expect(() => nextRedirect(['http://a.test/1', 'http://a.test/2'], '/1', 5)).toThrow(expect.objectContaining({ code: 'REDIRECT_LOOP' }));
    expect(() => nextRedirect(['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], '/4', 2)).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_REDIRECTS' }),
    );
    expect(nextRedirect(['http://a.test/1', 'http://a.test/2'], '/3', 2).pathname).toBe('/3');
  });

  it('needs a Location', () => {
    expect(() => nextRedirect(['http://a.test/1'], undefined, 5)).toThrow(expect.objectContaining({ code: 'HTTP_STATUS' }));
  });
});

describe('headersForHop', () => {
  const h = { Authorization: 'x', cookie: 'c', 'proxy-authorization': 'p', accept: '*/*' };
  it('keeps everything on the same origin and drops credentials across origins', () => {
    expect(headersForHop(h, new URL('https://a.test/1'), new URL('https://a.test/2'))).toBe(h);
    expect(headersForHop(h, new URL('https://a.test/1'), new URL('https://cdn.test/2'))).toEqual({ accept: '*/*' });
  });
});

describe('backoffDelay', () => {
  it.each([
    [1, 0, 50],
    [1, 1, 100],
    [3, 1, 400],
    [30, 1, MAX_BACKOFF_MS],
    [30, 0, MAX_BACKOFF_MS / 2],
  ])('attempt %i with random %f waits %i ms', (attempt, r, ms) => {
    expect(backoffDelay(attempt, 100, () => r)).toBe(ms);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  it.each([
    ['3', 3000],
    ['0', 0],
    ['Tue, 01 Jan 2030 00:00:10 GMT', 10_000],
    ['Mon, 31 Dec 2029 23:00:00 GMT', 0],
    ['86400', MAX_RETRY_AFTER_MS],
    ['soon', undefined],
    ['-1', undefined],
    [undefined, undefined],
  ])('%s → %s', (v, ms) => {
    expect(parseRetryAfter(v, now)).toBe(ms);
  });
});

describe('parseContentRange', () => {
  it.each([
    ['bytes 100-199/200', { start: 100, end: 199, total: 200 }],
    ['bytes 0-9/*', { start: 0, end: 9 }],
    ['bytes 10-5/200', undefined],
    ['bytes 0-200/200', undefined],
    ['bytes */200', undefined],
    [undefined, undefined],
  ])('%s', (v, want) => {
    expect(parseContentRange(v)).toEqual(want);
  });
});
