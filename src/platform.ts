// The platform names recipes use, and the one for the machine intact runs on.
// Below every layer: recipes declare platforms, store entries record one.
import { IntactError } from './errors.js';

export const PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64'] as const;
export type Platform = (typeof PLATFORMS)[number];

export function hostPlatform(platform: string = process.platform, arch: string = process.arch): Platform | undefined {
  const os = platform === 'linux' ? 'linux' : platform === 'darwin' ? 'darwin' : undefined;
  const cpu = arch === 'x64' ? 'x64' : arch === 'arm64' ? 'arm64' : undefined;
  return os && cpu ? (`${os}-${cpu}` as Platform) : undefined;
}

/** The host's platform name, for a command that builds or plans for this machine. */
export function requireHostPlatform(): Platform {
  const p = hostPlatform();
  if (!p)
    throw new IntactError('PLATFORM_UNSUPPORTED', `intact has no platform name for ${process.platform}-${process.arch}`, {
      hint: 'recipes name linux-x64, linux-arm64, darwin-x64 or darwin-arm64',
    });
  return p;
}
