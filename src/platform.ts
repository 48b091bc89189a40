// The platform names recipes use, for the machine intact runs on.
import type { Platform } from './recipe/types.js';

export function hostPlatform(platform: string = process.platform, arch: string = process.arch): Platform | undefined {
  const os = platform === 'linux' ? 'linux' : platform === 'darwin' ? 'darwin' : undefined;
  const cpu = arch === 'x64' ? 'x64' : arch === 'arm64' ? 'arm64' : undefined;
  return os && cpu ? (`${os}-${cpu}` as Platform) : undefined;
}
