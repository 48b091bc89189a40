// `sandboxBin`: configure scripts and make run /bin/sh and /usr/bin/env by
// absolute path, so a recipe names the tool whose bin/ folder the full sandbox
// shows there. And `install --platform`: tools for the build machine, deps for
// the target, a key of its own, the profile left alone.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureProject } from '../helpers/fixture-project.js';
import { fullSandboxSkip, skippedBecause } from '../helpers/sandbox-skip.js';
import { cleanupProjects, runCli } from '../helpers/project.js';

afterEach(cleanupProjects);

const run = (dir: string, args: string[]) => runCli(args, { cwd: dir, env: { HOME: dir, CI: undefined } });

// A script with a #!/bin/sh line, run by its path as make runs configure.
const SHEBANG = `name: shebang
version: 1.0.0
tools: [bb@1.36.0]
sandboxBin: bb
build:
  - write: $TMPDIR/hello.sh
    content: "#!/bin/sh\\necho \\"sh says $1\\" > \\"$out/said\\"\\nls /usr/bin > \\"$out/usr-bin\\"\\n"
    executable: true
  - run: [$TMPDIR/hello.sh, hi]
`;

describe.skipIf(fullSandboxSkip() !== undefined)(`sandboxBin and --platform${skippedBecause(fullSandboxSkip())}`, () => {
  it("shows the named tool's bin/ at /bin and /usr/bin, and only there", async () => {
    const dir = await fixtureProject({ shebang: SHEBANG });
    const r = await run(dir, ['install', 'shebang']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const entry = (await readdir(join(dir, 'store'))).find((e) => e.endsWith('-shebang-1.0.0'))!;
    expect(await readFile(join(dir, 'store', entry, 'said'), 'utf8')).toBe('sh says hi\n');
    expect((await readFile(join(dir, 'store', entry, 'usr-bin'), 'utf8')).split('\n')).toEqual(['busybox', 'sh', '']);
  });

  it('without sandboxBin, a #!/bin/sh script is refused before it runs, naming /bin/sh', async () => {
    const dir = await fixtureProject({ shebang: SHEBANG.replace('sandboxBin: bb\n', '') });
    const r = await run(dir, ['install', 'shebang']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs \/bin\/sh to run/);
  });

  it('cross-builds with --platform: the target in the environment, a key of its own, no profile, kept by gc', async () => {
    const what = (name: string) =>
      `name: ${name}\nversion: 1.0.0\nplatforms: [linux-x64, linux-arm64]\ntools: [bb@1.36.0]\nbuild:\n  - script: 'echo "$INTACT_PLATFORM on $INTACT_BUILD_PLATFORM" > "$out/platforms"'\n    shell: sh\n`;
    const dir = await fixtureProject({ what: what('what') });
    const cross = await run(dir, ['install', 'what', '--platform', 'linux-arm64']);
    expect(cross.stderr).not.toMatch(/error/);
    expect(cross.code).toBe(0);
    expect(existsSync(join(dir, '.intact/bin'))).toBe(false);
    const native = await run(dir, ['install', 'what']);
    expect(native.code).toBe(0);
    const entries = (await readdir(join(dir, 'store'))).filter((e) => e.endsWith('-what-1.0.0'));
    expect(entries).toHaveLength(2);
    const said = await Promise.all(entries.map((e) => readFile(join(dir, 'store', e, 'platforms'), 'utf8')));
    expect(said.sort()).toEqual(['linux-arm64 on linux-x64\n', 'linux-x64 on linux-x64\n']);
    // Not on the profile, but the project's: gc keeps the cross-built entry.
    expect((await run(dir, ['gc', '--min-age', '0'])).code).toBe(0);
    expect((await readdir(join(dir, 'store'))).filter((e) => e.endsWith('-what-1.0.0'))).toHaveLength(2);
    const bad = await run(dir, ['install', 'what', '--platform', 'linux-mips']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--platform takes');
  });
});
