// A test project whose toolchain is real and static: Debian's busybox-static
// (brought by the suite's set-up through intact, test/setup/toolchain.ts),
// vendored into the project as a `file` source (as a team would vendor a
// bootstrap tool), so builds run real programs inside the real sandbox without
// any download.
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { busybox } from './static-bin.js';
import { makeProject, runCli } from './project.js';

export const BB = 'name: bb\nversion: 1.36.0\nsources:\n  - file: vendor/bb\nbin: [bin/busybox, bin/sh]\n';

/** A project with recipes/bb.yaml (busybox) plus the given recipes, locked by `intact lock`. */
export async function fixtureProject(recipes: Record<string, string>, files: Record<string, string> = {}): Promise<string> {
  const dir = await makeProject(files);
  await mkdir(join(dir, 'vendor/bb/bin'), { recursive: true });
  await copyFile(busybox(), join(dir, 'vendor/bb/bin/busybox'));
  await symlink('busybox', join(dir, 'vendor/bb/bin/sh'));
  await mkdir(join(dir, 'recipes'), { recursive: true });
  await writeFile(join(dir, 'recipes/bb.yaml'), BB);
  for (const [name, text] of Object.entries(recipes)) await writeFile(join(dir, 'recipes', `${name}.yaml`), text);
  // file sources are pinned by their real hash: lock them with intact itself.
  const r = await runCli(['lock'], { cwd: dir, env: { HOME: dir } });
  if (r.code !== 0) throw new Error(`intact lock failed in the fixture: ${r.stderr}`);
  return dir;
}
