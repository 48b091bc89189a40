// The store's size as its metadata records it (entries' content bytes) plus the
// download cache, without walking every entry: cheap enough for every install's
// summary.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoreLayout } from './paths.js';

export async function storeSize(store: StoreLayout): Promise<number> {
  let total = 0;
  const present = new Set(await readdir(store.root).catch(() => [] as string[]));
  for (const f of await readdir(store.meta).catch(() => [] as string[])) {
    if (!f.endsWith('.json')) continue;
    try {
      const m = JSON.parse(await readFile(join(store.meta, f), 'utf8')) as { key: string; name: string; version: string; size: number };
      if (present.has(`${m.key}-${m.name}-${m.version}`)) total += m.size;
    } catch {
      // a damaged metadata file does not count; `verify --store` reports it
    }
  }
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.isFile()) total += (await stat(join(d, e.name))).size;
    }
  };
  await walk(store.cache);
  return total;
}
