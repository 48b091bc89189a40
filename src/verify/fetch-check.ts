// `intact verify --fetch`: download every source again, from every location it
// has (the URL and each mirror separately; the registry; the git remote), into a
// scratch cache that is removed afterwards, and check each against its pin. It
// reports dead locations, changed bytes, and mirrors that disagree.
//
// Security: bytes that failed their pin are never unpacked by default; a parser
// must not see them. Only with `compareContent` (--compare-content), and when
// the lock records the source's unpacked tree, are they unpacked, under the
// archive caps, into a throwaway folder outside the store, to tell "upstream
// regenerated the archive, same content" from "the content changed". That
// unpacking is not sandboxed (docs/security.md says so).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byCodePoint } from '../canonical-json.js';
import { finding, IntactError, type Finding } from '../errors.js';
import { DownloadCache } from '../fetch/cache.js';
import { describeSource, type FetchContext } from '../fetch/context.js';
import { fetchSource } from '../fetch/source.js';
import { unpackedTree } from '../fetch/unpack-tree.js';
import { isHashAlgorithm } from '../fetch/sri.js';
import { projectState, readLock, LOCK_FILE } from '../lock/index.js';
import { sourceOfPin, selectWithClosure } from '../lock/fetch-locked.js';
import type { LockedSource } from '../lock/types.js';
import { runLimited } from '../pool.js';
import type { Source } from '../recipe/types.js';
import { tempName } from '../temp-name.js';

export interface FetchCheckOptions {
  names: readonly string[];
  fetch: FetchContext;
  /** A folder inside the store for the scratch cache (same filesystem). */
  tmpDir: string;
  jobs: number;
  /** Unpack bytes that failed their pin to compare trees (opt-in; see the header). */
  compareContent?: boolean;
}

export interface FetchCheckResult {
  findings: Finding[];
  /** One line per location checked, for reports (JUnit). */
  checked: { recipe: string; location: string; ok: boolean; message?: string }[];
}

/** Every location a pinned source can be fetched from, each as a source of its own. */
function locations(pin: LockedSource): Source[] {
  const base = sourceOfPin(pin);
  if (pin.kind === 'url') return [pin.url!, ...(pin.mirrors ?? [])].map((url) => ({ ...base, url, mirrors: [] }) as Source);
  if (pin.kind === 'file') return [];
  return [base];
}

export async function verifyFetch(projectDir: string, opts: FetchCheckOptions): Promise<FetchCheckResult> {
  const [read, project] = await Promise.all([readLock(projectDir), projectState(projectDir)]);
  // Unpacking options (strip, path, archive) live in the recipes, not in the pins.
  const recipeSources = new Map(project.states.map((s) => [s.loaded.recipe.name, s.loaded.recipe.sources ?? []]));
  if (!read) throw new IntactError('LOCK_MISSING', `there is no ${LOCK_FILE}`, { file: LOCK_FILE, hint: 'run `intact lock` and commit intact.lock' });
  const scratchRoot = join(opts.tmpDir, tempName('verify', `fetch-${randomBytes(4).toString('hex')}`));
  const scratch = new DownloadCache(scratchRoot);
  const findings: Finding[] = [];
  const checked: FetchCheckResult['checked'] = [];
  const tasks: (() => Promise<void>)[] = [];
  for (const name of selectWithClosure(read.lock, opts.names)) {
    read.lock.recipes[name]!.sources.forEach((pin, i) => {
      const where = `${name}: sources[${i}]`;
      const declared = recipeSources.get(name)?.[i];
      const locs = locations(pin);
      const results: { loc: string; integrity?: string; error?: string }[] = [];
      tasks.push(async () => {
        for (const src of locs) {
          const loc = describeSource(src);
          const algorithm = pin.integrity.slice(0, pin.integrity.indexOf('-'));
          try {
            // No pin given: we want the bytes whatever they are, hashed like the pin.
            const got = await fetchSource(src, undefined, { ...opts.fetch, cache: scratch, offline: false });
            const integrity = got.integrity.startsWith(`${algorithm}-`) ? got.integrity : await rehash(got.path, algorithm);
            results.push({ loc, integrity });
            if (integrity === pin.integrity) {
              checked.push({ recipe: name, location: loc, ok: true });
              continue;
            }
            let content = 'the content changed too';
            if (!pin.tree) content = 'the lock records no tree hash to compare the content with';
            else if (!opts.compareContent)
              content = 'the content was not compared (the changed bytes are not unpacked; --compare-content does, outside the store)';
            else {
              const throwaway = await mkdtemp(join(tmpdir(), 'intact-compare-'));
              try {
                const tree = await unpackedTree(got.path, { ...src, ...unpackFields(declared) }, throwaway, pin.archiveIntegrity).catch(() => undefined);
                if (tree === pin.tree) content = 'but the unpacked content is the same (upstream regenerated the archive)';
              } finally {
                await rm(throwaway, { recursive: true, force: true });
              }
            }
            const message = `${where}: ${loc} now serves different bytes; ${content}`;
            checked.push({ recipe: name, location: loc, ok: false, message });
            findings.push(
              finding('SOURCE_CHANGED', message, {
                file: LOCK_FILE,
                url: loc,
                expected: pin.integrity,
                found: integrity,
                recipe: name,
                hint: 'the bytes were replaced upstream: find out why before trusting them; a reviewed change is `intact lock NAME` after editing the pin away',
              }),
            );
          } catch (e) {
            const message = `${where}: ${loc} cannot be fetched: ${(e as Error).message}`;
            results.push({ loc, error: (e as Error).message });
            checked.push({ recipe: name, location: loc, ok: false, message });
            findings.push(
              finding('SOURCE_DEAD', message, {
                file: LOCK_FILE,
                url: loc,
                recipe: name,
                hint: (e as IntactError).hint ?? 'the location is gone or unreachable: add a mirror, or vendor the file (`file:` source)',
              }),
            );
          }
        }
        const good = results.filter((r) => r.integrity !== undefined);
        if (new Set(good.map((r) => r.integrity)).size > 1) {
          findings.push(
            finding('MIRROR_DISAGREES', `${where}: its locations serve different bytes: ${good.map((r) => `${r.loc} -> ${r.integrity}`).join('; ')}`, {
              file: LOCK_FILE,
              expected: pin.integrity,
              recipe: name,
              hint: 'a mirror serving other bytes is either stale or tampered with: remove it from `mirrors` or find out why',
            }),
          );
        }
      });
    });
  }
  try {
    await runLimited(tasks, opts.jobs);
  } finally {
    await rm(scratchRoot, { recursive: true, force: true });
  }
  findings.sort((a, b) => byCodePoint(a.message, b.message));
  return { findings, checked };
}

function unpackFields(s: Source | undefined): Partial<Source> {
  if (!s) return {};
  return {
    ...(s.strip !== undefined ? { strip: s.strip } : {}),
    ...(s.path !== undefined ? { path: s.path } : {}),
    ...(s.archive !== undefined ? { archive: s.archive } : {}),
  };
}

/** The SRI of a fetched file under the pin's algorithm (pins may be sha256/384). */
async function rehash(path: string, algorithm: string): Promise<string> {
  if (!isHashAlgorithm(algorithm))
    throw new IntactError('INTEGRITY_MALFORMED', `${algorithm} is not a pin algorithm`, { hint: 'pins are sha512, sha384 or sha256' });
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `${algorithm}-${h.digest('base64')}`;
}
