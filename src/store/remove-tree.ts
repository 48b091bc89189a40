// Removing a store entry (or any read-only tree intact made): its folders are
// 0555, so `rm -r` alone fails; give each folder u+rwx first. Files keep their
// modes (removing a file needs write permission on its folder only). Never
// follows a symlink: folders are found by readdir's type, which is lstat's.
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { slicer } from './slice.js';

export async function removeTree(path: string): Promise<void> {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isDirectory()) {
    const tick = slicer();
    const stack = [path];
    while (stack.length > 0) {
      const d = stack.pop()!;
      await tick();
      try {
        chmodSync(d, 0o700);
        for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) stack.push(join(d, e.name));
      } catch {
        // removed meanwhile, or not ours: rm below reports what matters
      }
    }
  }
  await rm(path, { recursive: true, force: true });
}

/** Bytes of file content below `path` (lstat sizes; symlinks count nothing). */
export async function treeBytes(path: string): Promise<number> {
  const tick = slicer();
  let total = 0;
  const stack = [path];
  while (stack.length > 0) {
    const d = stack.pop()!;
    await tick();
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) total += lstatSync(p, { throwIfNoEntry: false })?.size ?? 0;
    }
  }
  return total;
}
