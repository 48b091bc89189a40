// Joining the unpacked parts of one archive into one tree. Parts hold disjoint
// entries of one sorted listing, so they meet only in the folders a part
// boundary runs through: a path missing from the tree moves in with one rename,
// a folder present in both is merged recursively, anything else is an overlap
// the pusher never writes and is refused.
import { lstat, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { IntactError } from '../errors.js';

export async function mergeTree(from: string, into: string, where: string, rel = ''): Promise<void> {
  for (const name of await readdir(from)) {
    const src = join(from, name);
    const dst = join(into, name);
    const at = rel === '' ? name : `${rel}/${name}`;
    const there = await lstat(dst).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (there === undefined) {
      await rename(src, dst);
      continue;
    }
    // Defence in depth: only a real folder merges into a real folder (lstat: a
    // symlink is never a folder here), so nothing is ever written through a link.
    if (there.isDirectory() && (await lstat(src)).isDirectory()) {
      await mergeTree(src, dst, where, at);
      continue;
    }
    throw new IntactError('CACHE_INVALID', `${where}: two parts of the archive both hold ${JSON.stringify(at)}`, {
      hint: 'intact never writes such an archive; push the entry again from CI',
    });
  }
}
