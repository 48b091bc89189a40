// What receiving and admitting a cached entry need from the build engine: the
// very functions builds use, so a substituted entry passes the same checks as a
// built one. Its own file, below receive.ts and admit.ts, which both take it.
import type { BuildServices } from '../build/context.js';

export type EntryChecks = Pick<BuildServices, 'store' | 'checkOutput' | 'normalise' | 'extract'>;
