// What every fetch is given (the download cache, limits, npm configuration, the
// offline switch) and how a source is named. Below source.ts and offline.ts,
// which both need them, so neither imports the other for them.
import { debArchOf, parseDebBinary, renderDebBinary } from '../recipe/deb.js';
import type { Source } from '../recipe/types.js';
import type { DownloadCache } from './cache.js';
import type { NpmConfig } from './npmrc.js';
import type { FetchLimits, FetchProgress } from './types.js';

export interface FetchContext {
  projectDir: string;
  cache: DownloadCache;
  limits: FetchLimits;
  /** npm configuration, loaded once on first use. */
  npmConfig: () => Promise<NpmConfig>;
  env: NodeJS.ProcessEnv;
  offline: boolean;
  signal?: AbortSignal;
  onEvent?: FetchProgress;
}

/** How a source is named in messages and progress lines. */
export function describeSource(s: Source): string {
  if ('url' in s) return s.url;
  if ('npm' in s) return `npm:${s.npm}`;
  if ('git' in s) return `git:${s.git}#${s.rev}`;
  if ('deb' in s) {
    // Two platforms' sources name one package: the architecture tells them apart.
    const parsed = parseDebBinary(s.deb);
    return `deb:${parsed.ok ? renderDebBinary(parsed.spec, debArchOf(parsed.spec, s.platforms)) : s.deb}`;
  }
  if ('debSource' in s) return `debSource:${s.debSource}/${s.debFile}`;
  return `file:${s.file}`;
}
