// npm packages that ship native binaries publish one package per platform and
// list them as optionalDependencies of the main one (@esbuild/linux-x64,
// @biomejs/cli-linux-x64-musl, ...). `intact add --platforms` pins those instead
// of the main package (which holds only a JavaScript launcher), one source per
// platform. Where a platform has a musl build, that one is taken: it is static or
// needs no host libc, which is what intact's outputs must be.
import semverSatisfies from 'semver/functions/satisfies.js';
import { IntactError } from '../errors.js';
import { classifyVersion } from '../recipe/index.js';
import type { Platform } from '../recipe/types.js';

/** The platforms `add --platforms` looks for. */
export const ADD_PLATFORMS: readonly Platform[] = ['linux-x64', 'linux-arm64'];

const ARCH: Record<string, string[]> = { x64: ['x64', 'amd64', 'x86-64', 'x86_64'], arm64: ['arm64', 'aarch64'] };

export interface PlatformPackage {
  platform: Platform;
  name: string;
  version: string;
  libc: 'musl' | 'gnu' | 'unspecified';
}

/** One package per platform found, best libc first (musl, then unmarked, then gnu). */
export function platformPackages(
  optional: Readonly<Record<string, string>>,
  parentVersion: string,
  platforms: readonly Platform[] = ADD_PLATFORMS,
): PlatformPackage[] {
  const out: PlatformPackage[] = [];
  for (const platform of platforms) {
    const [os, arch] = platform.split('-') as [string, string];
    const candidates: PlatformPackage[] = [];
    for (const [name, range] of Object.entries(optional)) {
      const base = name.split('/').pop()!.toLowerCase();
      const words = base.split(/[-.]/);
      if (!words.includes(os)) continue;
      if (!ARCH[arch]!.some((a) => words.includes(a) || base.includes(`-${a}`))) continue;
      const libc = words.includes('musl') ? 'musl' : words.includes('gnu') || words.includes('glibc') ? 'gnu' : 'unspecified';
      candidates.push({ platform, name, version: exactVersion(name, range, parentVersion), libc });
    }
    const rank = { musl: 0, unspecified: 1, gnu: 2 } as const;
    candidates.sort((a, b) => rank[a.libc] - rank[b.libc] || (a.name < b.name ? -1 : 1));
    if (candidates[0]) out.push(candidates[0]);
  }
  return out;
}

/** The exact version to pin: the one listed, or the parent's when the listed range holds it. */
function exactVersion(name: string, range: string, parent: string): string {
  if (classifyVersion(range, 'npm').exact) return range;
  try {
    if (semverSatisfies(parent, range)) return parent;
  } catch {
    // not a range semver reads: refused below
  }
  throw new IntactError('NPM_SPEC_FLOATING', `the package lists ${name}@${range}, a range that does not hold its own version ${parent}`, {
    found: `${name}@${range}`,
    hint: `add it by its exact version instead: intact add npm:${name}@<version>`,
  });
}
