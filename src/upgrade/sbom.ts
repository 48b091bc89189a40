// `intact sbom`: the locked set (locked-set.ts) as CycloneDX 1.5 or SPDX 2.3
// JSON. The document's identity (CycloneDX serialNumber, SPDX namespace) is a
// hash of the lock, so the same lock gives the same document; its timestamp is
// SOURCE_DATE_EPOCH when set (reproducible output), else the time of the run.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Finding } from '../errors.js';
import { IntactError } from '../errors.js';
import { cycloneDx, type DocumentInfo } from './cyclonedx.js';
import { lockedSet } from './locked-set.js';
import { spdx } from './spdx.js';

export type SbomFormat = 'cyclonedx' | 'spdx';

export interface SbomOptions {
  format: SbomFormat;
  /** The document's time; default SOURCE_DATE_EPOCH from `env`, else now. */
  now?: Date;
  env?: NodeJS.ProcessEnv;
}

export interface Sbom {
  document: Record<string, unknown>;
  /** Canonical text: two-space JSON and a final newline. */
  text: string;
  warnings: Finding[];
}

export async function makeSbom(projectDir: string, opts: SbomOptions): Promise<Sbom> {
  const set = await lockedSet(projectDir);
  const info: DocumentInfo = {
    project: basename(projectDir),
    toolVersion: toolVersion(),
    uuid: uuidFrom(`${opts.format}\n${set.lockText}`),
    timestamp: timestamp(opts),
  };
  const document = opts.format === 'cyclonedx' ? cycloneDx(set, info) : spdx(set, info);
  return { document, text: `${JSON.stringify(document, null, 2)}\n`, warnings: set.warnings };
}

function timestamp(opts: SbomOptions): string {
  if (opts.now) return iso(opts.now);
  const epoch = (opts.env ?? process.env).SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d+$/.test(epoch))
      throw new IntactError('USAGE', `SOURCE_DATE_EPOCH is "${epoch}", not a number of seconds`, { hint: 'e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)' });
    return iso(new Date(Number(epoch) * 1000));
  }
  return iso(new Date());
}

/** Seconds precision, "Z": the form both specs' examples use. */
function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A name-based UUID (version 5 layout, from sha256): stable for the same input. */
export function uuidFrom(input: string): string {
  const b = createHash('sha256').update(input).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function toolVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
