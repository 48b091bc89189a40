// Entry names are attacker-controlled strings. This module turns one into the
// list of path components it will occupy under the destination, or refuses it.
// Refused anywhere in a name (before `strip`, so stripping never launders a bad
// name): NUL, absolute paths, `..`, Windows drive letters and backslash `..`
// (defence in depth for trees later used on Windows), over-long names.
//
// `strip` counts components the way GNU tar's --strip-components does (a leading
// `./` is a component, repeated slashes are one separator), so a recipe author can
// check a value with `tar --strip-components`. `.` components are then dropped.
import type { ExtractLimits } from './limits.js';
import { problem } from './problem.js';

const DRIVE = /^[A-Za-z]:/;

export interface NameContext {
  where: string;
  limits: ExtractLimits;
}

/** What is wrong with a relative name, or undefined when it is safe. */
export function unsafeReason(name: string, limits: ExtractLimits): string | undefined {
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name === '') return 'is empty';
  if (Buffer.byteLength(name) > limits.maxPathBytes) return `is longer than ${limits.maxPathBytes} bytes`;
  if (name.startsWith('/')) return 'is an absolute path';
  if (DRIVE.test(name) || name.startsWith('\\')) return 'is an absolute Windows path';
  for (const c of name.split('/')) {
    if (c === '..') return 'climbs out of the destination with ".."';
    if (c.includes('\\') && c.split('\\').includes('..')) return 'climbs out with a backslash ".." (Windows traversal)';
    if (Buffer.byteLength(c) > limits.maxNameBytes) return `has a component longer than ${limits.maxNameBytes} bytes`;
  }
  return undefined;
}

/**
 * The components an entry lands on after `strip`, or undefined when `strip`
 * removes it. An empty array is the destination root itself.
 */
export function entryParts(name: string, strip: number, ctx: NameContext, what = 'entry'): string[] | undefined {
  const bad = unsafeReason(name, ctx.limits);
  if (bad !== undefined) {
    throw problem('EXTRACT_UNSAFE_PATH', ctx.where, name, `${what === 'entry' ? bad : `has a ${what} that ${bad}`}.`);
  }
  const all = name.split('/').filter((c) => c !== '');
  if (all.length <= strip) return undefined;
  return (strip === 0 ? all : all.slice(strip)).filter((c) => c !== '.');
}

/**
 * Checks a relative path given as an option (`path`, `archive`) and returns its
 * components. Options come from recipes, so the rules are those of entry names.
 */
export function optionParts(field: 'path' | 'archive', value: string, ctx: NameContext): string[] {
  const bad = unsafeReason(value, ctx.limits);
  const parts = value.split('/').filter((c) => c !== '' && c !== '.');
  if (bad !== undefined || parts.length === 0) {
    throw problem('EXTRACT_OPTIONS', ctx.where, undefined, `cannot be unpacked: option \`${field}\` ${JSON.stringify(value)} ${bad ?? 'names no path'}.`, {
      hint: `\`${field}\` must be a relative path inside the folder, without "..".`,
    });
  }
  return parts;
}

/**
 * Where a symlink target leads, lexically, from the folder holding the link:
 * undefined when it stays inside the root, else why it does not. Chains through
 * other links are followed later, by links.ts, once every entry is known.
 */
export function symlinkTargetReason(linkParts: readonly string[], target: string, limits: ExtractLimits): string | undefined {
  if (target === '') return 'is a symlink with an empty target';
  if (target.includes('\0')) return 'is a symlink whose target contains a NUL byte';
  if (Buffer.byteLength(target) > limits.maxPathBytes) return `is a symlink whose target is longer than ${limits.maxPathBytes} bytes`;
  if (target.startsWith('/')) return `is a symlink to the absolute path ${JSON.stringify(target)}`;
  if (DRIVE.test(target) || target.startsWith('\\')) return `is a symlink to the Windows absolute path ${JSON.stringify(target)}`;
  let depth = linkParts.length - 1;
  for (const c of target.split('/')) {
    if (c.includes('\\') && c.split('\\').includes('..')) return `is a symlink whose target ${JSON.stringify(target)} climbs with a backslash ".."`;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (--depth < 0) return `is a symlink to ${JSON.stringify(target)}, outside the destination`;
    } else depth++;
  }
  return undefined;
}
