// Debian specs: apt's syntax, exact versions only, and dpkg's version order.
import { describe, expect, it } from 'vitest';
import { classifyDebVersion, compareDebVersions, debArchOf, debFileReason, parseDebBinary, parseDebSource } from '../../src/recipe/deb.js';

describe('parseDebBinary', () => {
  it.each([
    ['busybox-static=1:1.35.0-4+deb12u1+b1', { name: 'busybox-static', version: '1:1.35.0-4+deb12u1+b1' }],
    ['busybox-static:amd64=1:1.35.0-4', { name: 'busybox-static', arch: 'amd64', version: '1:1.35.0-4' }],
    ['autoconf:all=2.71-3', { name: 'autoconf', arch: 'all', version: '2.71-3' }],
    ['docker-registry=2.8.2+ds1-1', { name: 'docker-registry', version: '2.8.2+ds1-1' }],
    ['libc6=2.36-9+deb12u4', { name: 'libc6', version: '2.36-9+deb12u4' }],
    ['g++-12=12.2.0-14', { name: 'g++-12', version: '12.2.0-14' }],
    ['foo=1.0~rc1', { name: 'foo', version: '1.0~rc1' }],
  ])('%s is exact', (spec, want) => {
    const r = parseDebBinary(spec);
    expect(r).toEqual({ ok: true, spec: want });
  });

  it.each([
    ['busybox-static', /has no version/],
    ['busybox-static>=1.35', /relation/],
    ['busybox-static==1.35', /relation/],
    ['busybox-static=stable', /suite or a moving target/],
    ['busybox-static=bookworm-backports', /suite/],
    ['busybox-static=latest', /moving target/],
    ['busybox-static=', /empty/],
    ['busybox-static=>=1', /relation/],
    ['Busybox=1.0', /not a Debian package name/],
    ['busybox=v1.0', /not a Debian version/],
    ['busybox:AMD64=1.0', /not a Debian architecture/],
  ])('%s floats or is malformed', (spec, why) => {
    const r = parseDebBinary(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.verdict.reason).toMatch(why);
      expect(r.verdict.hint).toBeTruthy();
    }
  });
});

describe('parseDebSource and debFile', () => {
  it('a source package has no architecture', () => {
    expect(parseDebSource('busybox=1:1.35.0-4').ok).toBe(true);
    const r = parseDebSource('busybox:amd64=1:1.35.0-4');
    expect(r.ok).toBe(false);
  });
  it.each(['busybox_1.35.0.orig.tar.bz2', 'busybox_1.35.0-4.debian.tar.xz'])('%s is a file name', (f) => expect(debFileReason(f)).toBeUndefined());
  it.each(['../x', 'a/b', '', '..', 'a b'])('%j is refused', (f) => expect(debFileReason(f)).toMatch(/not a file name/));
});

describe('debArchOf', () => {
  it("takes the spec's own, else the single platform's", () => {
    expect(debArchOf({ name: 'x', version: '1', arch: 'all' }, ['linux-x64', 'linux-arm64'])).toBe('all');
    expect(debArchOf({ name: 'x', version: '1' }, ['linux-x64'])).toBe('amd64');
    expect(debArchOf({ name: 'x', version: '1' }, ['linux-arm64'])).toBe('arm64');
    expect(debArchOf({ name: 'x', version: '1' }, ['linux-x64', 'linux-arm64'])).toBeUndefined();
    expect(debArchOf({ name: 'x', version: '1' }, ['darwin-arm64'])).toBeUndefined();
  });
});

describe('compareDebVersions (dpkg order)', () => {
  // Pairs a < b, from Debian policy 5.6.12 and dpkg's own test suite.
  it.each([
    ['1.0', '1.1'],
    ['1.0~rc1', '1.0'],
    ['1.0~~', '1.0~'],
    ['1.0', '1.0-1'],
    ['1.0-1', '1.0-2'],
    ['1.0-9', '1.0-10'],
    ['1.35.0-4', '1.35.0-4+deb12u1'],
    ['1.35.0-4+deb12u1', '1.35.0-4+deb12u1+b1'],
    ['9:1.0', '10:0.1'],
    ['2.0', '1:1.0'],
    ['1.0a', '1.0b'],
    ['1.0a', '1.0+'],
    ['1.2.3', '1.10'],
    ['0001', '2'],
  ])('%s < %s', (a, b) => {
    expect(compareDebVersions(a, b)).toBe(-1);
    expect(compareDebVersions(b, a)).toBe(1);
  });
  it.each([
    ['1.0', '1.0'],
    ['1:1.0-1', '1:1.0-1'],
    ['01', '1'],
    ['1.0', '1.0-0'],
  ])('%s = %s', (a, b) => expect(compareDebVersions(a, b)).toBe(0));
  it('classifies', () => {
    expect(classifyDebVersion('1:1.35.0-4+b3').exact).toBe(true);
    expect(classifyDebVersion('unstable').exact).toBe(false);
  });
});
