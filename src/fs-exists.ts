// Whether a path exists (following links). Any error, not only ENOENT, counts as
// "no": callers use it to decide whether to create something, and creating will
// then report the real problem.
import { stat } from 'node:fs/promises';

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
