// The download cache as files on disk: `<store>/cache/<algorithm>/<2 hex>/<hex>`,
// a pure function of each file's hash (src/fetch/cache.ts writes it). Here only
// what the store layer needs: list the files, and check one against its name.
// A damaged cache file is harmless to installs (a cache hit is re-hashed before
// use), but it is still evidence that someone wrote into the store.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { slicer } from './slice.js';

const ALGORITHMS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export interface CacheFile {
  path: string;
  algorithm: string;
  hex: string;
  size: number;
  ino: number;
  mtimeMs: number;
}

export interface CacheListing {
  files: CacheFile[];
  /** Paths under cache/ that are not `<algorithm>/<2 hex>/<hex>` files. */
  strays: string[];
}

export async function listCache(cacheDir: string): Promise<CacheListing> {
  const tick = slicer();
  const out: CacheListing = { files: [], strays: [] };
  const ls = (d: string): string[] => {
    try {
      return readdirSync(d).sort();
    } catch {
      return [];
    }
  };
  for (const alg of ls(cacheDir)) {
    const algDir = join(cacheDir, alg);
    const hexLen = ALGORITHMS[alg];
    if (hexLen === undefined || !lstatSync(algDir).isDirectory()) {
      out.strays.push(algDir);
      continue;
    }
    for (const two of ls(algDir)) {
      const twoDir = join(algDir, two);
      await tick();
      if (!/^[0-9a-f]{2}$/.test(two) || !lstatSync(twoDir).isDirectory()) {
        out.strays.push(twoDir);
        continue;
      }
      for (const name of ls(twoDir)) {
        const path = join(twoDir, name);
        const st = lstatSync(path, { throwIfNoEntry: false });
        if (!st) continue;
        if (!st.isFile() || name.length !== hexLen || !/^[0-9a-f]+$/.test(name) || !name.startsWith(two)) {
          out.strays.push(path);
          continue;
        }
        out.files.push({ path, algorithm: alg, hex: name, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs });
      }
    }
  }
  return out;
}

/** The file's digest in hex with its own algorithm; undefined when it cannot be read. */
export async function hashCacheFile(f: CacheFile, buf: Buffer): Promise<string | undefined> {
  const tick = slicer();
  let fd: number;
  try {
    fd = openSync(f.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const h = createHash(f.algorithm);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      await tick();
    }
    return h.digest('hex');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
