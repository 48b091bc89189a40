// Debian package specs, in apt's own syntax so that a Debian user reads them at
// a glance: `name[:arch]=version` (apt-get install busybox-static=1:1.35.0-4)
// for a binary package, `name=version` plus a file name for a file of a source
// package. Pure: the recipe rules, the fetcher, `add` and `outdated` share it.
//
// What is exact: a Debian version ([epoch:]upstream[-revision], policy 5.6.12)
// is one version, so any well-formed one is a pin. Floating forms are refused: a
// name alone, apt's relations (>=, <<), and suite names (stable, bookworm),
// which cannot parse as a version because a Debian upstream version starts with
// a digit.
import type { Platform } from './types.js';
import type { VersionVerdict } from './exact.js';

/** intact's platforms as Debian architectures. */
export const DEB_ARCH: Partial<Record<Platform, string>> = { 'linux-x64': 'amd64', 'linux-arm64': 'arm64' };

const NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const ARCH = /^[a-z0-9][a-z0-9-]*$/;
/** [epoch:]upstream[-revision]; upstream starts with a digit. */
const VERSION = /^(?:(\d+):)?([0-9][A-Za-z0-9.+~:-]*?)(?:-([A-Za-z0-9.+~]+))?$/;
const SUITES = /^(stable|testing|unstable|sid|oldstable|experimental|[a-z]+-(updates|security|backports))$/;

export interface DebBinarySpec {
  name: string;
  /** Absent when the source's platform decides it. */
  arch?: string;
  version: string;
}

export interface DebSourceSpec {
  name: string;
  version: string;
}

export type DebParse<T> = { ok: true; spec: T } | { ok: false; verdict: VersionVerdict };

function floats(reason: string, hint: string): { ok: false; verdict: VersionVerdict } {
  return { ok: false, verdict: { exact: false, reason, hint } };
}

/** Classify a Debian version string. Never throws. */
export function classifyDebVersion(v: string): VersionVerdict {
  if (v === '') return { exact: false, reason: 'the version is empty', hint: 'write the exact Debian version, e.g. 1:1.35.0-4' };
  if (/^[<>=]/.test(v)) return { exact: false, reason: `"${v}" is a version relation, not a version`, hint: 'write the exact version after a single `=`' };
  if (SUITES.test(v) || /^[a-z]+$/.test(v))
    return {
      exact: false,
      reason: `"${v}" names a suite or a moving target, not a version`,
      hint: 'write the exact Debian version (`apt-cache policy NAME` shows it); intact never follows a suite',
    };
  if (!VERSION.test(v))
    return {
      exact: false,
      reason: `"${v}" is not a Debian version ([epoch:]upstream[-revision], upstream starting with a digit)`,
      hint: "copy the version from `apt-cache policy NAME` or the archive's index",
    };
  return { exact: true };
}

function split(spec: string, what: string, example: string): DebParse<{ name: string; version: string; arch?: string }> {
  const eq = spec.indexOf('=');
  if (eq < 0) {
    return floats(`"${spec}" has no version`, `pin one exact version: ${example}`);
  }
  let head = spec.slice(0, eq);
  const version = spec.slice(eq + 1);
  // `name>=1.0` and `name==1.0` put relation characters around the `=`.
  if (/[<>]$/.test(head) || version.startsWith('=')) {
    return floats(`"${spec}" is a version relation`, `pin one exact version: ${example}`);
  }
  let arch: string | undefined;
  const colon = head.indexOf(':');
  if (colon >= 0) {
    arch = head.slice(colon + 1);
    head = head.slice(0, colon);
    if (!ARCH.test(arch))
      return floats(`"${arch}" is not a Debian architecture`, 'write amd64, arm64 or all, or leave it out and give the source one platform');
  }
  if (!NAME.test(head)) return floats(`"${head}" is not a Debian ${what} name`, `write it as Debian spells it: ${example}`);
  const v = classifyDebVersion(version);
  if (!v.exact) return { ok: false, verdict: v };
  return { ok: true, spec: { name: head, version, ...(arch !== undefined ? { arch } : {}) } };
}

/** `busybox-static=1:1.35.0-4` or `busybox-static:amd64=1:1.35.0-4`. */
export function parseDebBinary(spec: string): DebParse<DebBinarySpec> {
  return split(spec, 'package', 'busybox-static=1:1.35.0-4+b3');
}

/** `busybox=1:1.35.0-4` (a source package has no architecture). */
export function parseDebSource(spec: string): DebParse<DebSourceSpec> {
  const r = split(spec, 'source package', 'busybox=1:1.35.0-4');
  if (r.ok && r.spec.arch !== undefined) return floats(`a source package has no architecture ("${spec}")`, 'write it as name=version');
  return r as DebParse<DebSourceSpec>;
}

/** A file of a source package is named by one path segment, as the index lists it. */
export function debFileReason(file: string): string | undefined {
  if (file === '' || file.includes('/') || file === '.' || file === '..' || /[\0\s]/.test(file)) {
    return `"${file}" is not a file name of a source package (one name, as the Sources index lists it)`;
  }
  return undefined;
}

/**
 * The architecture a binary source is fetched for: the spec's own, else the one
 * of its single platform. Undefined when neither says (a rule reports it).
 */
export function debArchOf(spec: DebBinarySpec, platforms: readonly Platform[] | undefined): string | undefined {
  if (spec.arch !== undefined) return spec.arch;
  if (platforms?.length !== 1) return undefined;
  return DEB_ARCH[platforms[0]!];
}

/** The spec with its architecture written out, as the lock and messages show it. */
export function renderDebBinary(spec: DebBinarySpec, arch = spec.arch): string {
  return `${spec.name}${arch !== undefined ? `:${arch}` : ''}=${spec.version}`;
}

// ---------------------------------------------------------------- ordering

/**
 * dpkg's version order (Debian policy 5.6.12): epochs numerically, then
 * upstream and revision by alternating non-digit and digit runs, where `~`
 * sorts before everything, even the end of the string. Written here rather than
 * taken from npm: the packages that do it are unmaintained, and the algorithm
 * is a page of policy.
 */
export function compareDebVersions(a: string, b: string): number {
  const pa = VERSION.exec(a);
  const pb = VERSION.exec(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  const ea = Number(pa[1] ?? 0);
  const eb = Number(pb[1] ?? 0);
  if (ea !== eb) return ea < eb ? -1 : 1;
  return compareParts(pa[2]!, pb[2]!) || compareParts(pa[3] ?? '0', pb[3] ?? '0');
}

function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function compareParts(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Non-digit run, character by character.
    while ((i < a.length && !isDigit(a[i]!)) || (j < b.length && !isDigit(b[j]!))) {
      const x = i < a.length && !isDigit(a[i]!) ? a[i] : undefined;
      const y = j < b.length && !isDigit(b[j]!) ? b[j] : undefined;
      const d = order(x) - order(y);
      if (d !== 0) return d < 0 ? -1 : 1;
      if (x !== undefined) i++;
      if (y !== undefined) j++;
    }
    // Digit run, numerically (as decimal strings, so no precision is lost).
    let x = '';
    let y = '';
    while (i < a.length && isDigit(a[i]!)) x += a[i++];
    while (j < b.length && isDigit(b[j]!)) y += b[j++];
    x = x.replace(/^0+/, '');
    y = y.replace(/^0+/, '');
    if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
