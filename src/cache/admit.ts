// A received tree (receive.ts) becomes a store entry exactly as a build output
// does: the same output checks a build must pass (ELF purity, links, path
// leaks), the same normalisation, then the tree hash (joined from the records
// receive.ts took of each part as it arrived: normalising changes no content and
// keeps the executable bit), which must equal the signed output hash, and the file bytes, which must equal the signed size;
// only then the atomic add. The work folder is removed whatever happens: the
// store holds the whole entry or nothing new.
import { INSIDE, SOURCE_DATE_EPOCH } from '../store/entry-layout.js';
import { IntactError } from '../errors.js';
import { addEntry, entryPath, type EntryMeta } from '../store/entry.js';
import { joinedTreeHash } from '../store/tree-hash.js';
import type { SignedEntry } from './artifact.js';
import type { EntryChecks } from './entry-checks.js';
import type { Received } from './receive.js';
import { removeTree } from './tmp.js';

export interface DepEntry {
  name: string;
  version: string;
  key: string;
  entry: string;
}

export async function admitEntry(
  got: Received,
  signed: SignedEntry,
  meta: Omit<EntryMeta, 'output' | 'size' | 'origin' | 'sandbox'>,
  deps: readonly DepEntry[],
  checks: EntryChecks,
  where: string,
): Promise<'added' | 'present'> {
  const { store } = checks;
  try {
    await checks.checkOutput(got.out, {
      storeDir: store.root,
      buildDir: got.work,
      deps: deps.map((d) => ({ name: d.name, dir: entryPath(store, d.key, d.name, d.version), inside: `${INSIDE.store}/${d.entry}` })),
      entryName: `${meta.key}-${meta.name}-${meta.version}`,
    });
    await checks.normalise(got.out, SOURCE_DATE_EPOCH);
    const output = joinedTreeHash(got.out, got.records);
    if (output !== signed.output) {
      throw new IntactError('CACHE_MISMATCH', `${where} unpacks to another tree than the signed one`, {
        expected: signed.output,
        found: output,
        hint: 'the archive does not hold what its signer built; nothing was added to the store',
      });
    }
    // The extractor counted the file bytes it wrote (an intact archive has no hard links).
    if (got.bytes !== signed.size) {
      throw new IntactError('CACHE_MISMATCH', `${where} holds ${got.bytes} bytes of files, the signed size is ${signed.size}`, {
        expected: String(signed.size),
        found: String(got.bytes),
      });
    }
    return await addEntry(store, got.out, { ...meta, output, size: got.bytes, sandbox: signed.sandbox, origin: 'substituted' });
  } finally {
    await removeTree(got.work);
  }
}
