// Defect class: use of a tampered store entry. An entry edited in place (chmod,
// then change a file) was reused by the next `install` without a word, and
// `.intact/bin/<tool>` then ran the edited program; only `verify --store` found
// it. Install now checks each entry's seal (stat of every path as published)
// before reusing it or putting it on .intact/bin.
import { chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

afterEach(cleanupProjects);

const TOOL = `name: tool
version: 1.0.0
build:
  - write: $out/bin/tool
    content: "#!/bin/sh\\necho genuine\\n"
    executable: true
  - write: $out/share/README
    content: "docs\\n"
bin: [bin/tool]
`;

async function installed(): Promise<{ dir: string; entry: string; run: (args: string[]) => ReturnType<typeof runCli> }> {
  const dir = await makeProject({ 'recipes/tool.yaml': TOOL });
  const run = (args: string[]) => runCli(args, { cwd: dir, env: { HOME: dir, CI: undefined } });
  expect((await run(['lock'])).code).toBe(0);
  const first = await run(['install', '--sandbox=off']);
  expect(first.code).toBe(0);
  const entry = (await readdir(join(dir, 'store'))).find((n) => n.endsWith('-tool-1.0.0'))!;
  return { dir, entry: join(dir, 'store', entry), run };
}

describe('install checks an entry before using it', () => {
  it('refuses an entry whose program was edited in place (chmod, edit, chmod back)', async () => {
    const { entry, run } = await installed();
    const tool = join(entry, 'bin', 'tool');
    await chmod(tool, 0o755);
    await writeFile(tool, '#!/bin/sh\necho evil\n');
    await chmod(tool, 0o555);
    const r = await run(['install', '--sandbox=off']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('STORE_ENTRY_MODIFIED');
    expect(r.stderr).toContain('bin/tool');
  });

  it('refuses a file added to an entry', async () => {
    const { entry, run } = await installed();
    await chmod(join(entry, 'share'), 0o755);
    await writeFile(join(entry, 'share', 'extra'), 'x');
    await chmod(join(entry, 'share'), 0o555);
    const r = await run(['install', '--sandbox=off']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('STORE_ENTRY_MODIFIED');
  });

  it('an untouched entry is reused; one whose seal is lost is hashed in full and sealed again', async () => {
    const { dir, run } = await installed();
    const again = await run(['install', '--sandbox=off']);
    expect(again.code).toBe(0);
    const seal = (await readdir(join(dir, 'store', 'meta'))).find((n) => n.endsWith('.seal'))!;
    expect(seal).toBeDefined();
    await rm(join(dir, 'store', 'meta', seal), { force: true });
    expect((await run(['install', '--sandbox=off'])).code).toBe(0);
    expect(await readFile(join(dir, 'store', 'meta', seal), 'utf8')).toContain('intact-seal-1');
  });
});
