// Defect class: writing through a link planted by an earlier source. Three
// archives of one recipe, each safe alone: one holds `d -> e/../../…`, one
// `e -> ../..`, one a file `d/pwn`. Merging them into $src followed `d` and put
// the file outside the build folder before any output check ran.
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeInto } from '../../src/build/build-one.js';

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('merging several sources never follows a link', () => {
  it('refuses a file under a folder that an earlier source made a link', async () => {
    const root = await mkdtemp(join(tmpdir(), 'intact-merge-'));
    made.push(root);
    const build = join(root, 'build');
    const src = join(build, 'src');
    await mkdir(join(root, 'outside'), { recursive: true });
    await mkdir(src, { recursive: true });
    // What the first two sources left in $src: d -> e/../x, e -> ../.. (the build folder's parent).
    await symlink('../..', join(src, 'e'));
    await symlink('e/outside', join(src, 'd'));
    const third = join(build, 'unpack-2');
    await mkdir(join(third, 'd'), { recursive: true });
    await writeFile(join(third, 'd', 'pwn'), 'pwned\n');
    await expect(mergeInto(third, src, 'third source')).rejects.toMatchObject({ code: 'BUILD_STEP' });
    expect(await readdir(join(root, 'outside'))).toEqual([]);
  });

  it('still merges real folders', async () => {
    const root = await mkdtemp(join(tmpdir(), 'intact-merge-'));
    made.push(root);
    const src = join(root, 'src');
    await mkdir(join(src, 'lib'), { recursive: true });
    await writeFile(join(src, 'lib', 'a'), 'a');
    const next = join(root, 'unpack-1');
    await mkdir(join(next, 'lib'), { recursive: true });
    await writeFile(join(next, 'lib', 'b'), 'b');
    await mergeInto(next, src, 'second source');
    expect((await readdir(join(src, 'lib'))).sort()).toEqual(['a', 'b']);
  });
});
