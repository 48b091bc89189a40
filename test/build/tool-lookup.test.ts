// findTool follows a tool's links as the step sees them: an entry may link to
// another entry by its path inside the sandbox (/store/<entry>/...), which
// means nothing at the host's root.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locateTool } from '../../src/build/sandbox/step-input.js';
import { findTool } from '../../src/build/tool-lookup.js';

const root = mkdtempSync(join(tmpdir(), 'intact-tool-lookup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Two entries as the host holds them, and where the step sees them.
const bb = join(root, 'bb-entry');
const env = join(root, 'env-entry');
mkdirSync(join(bb, 'bin'), { recursive: true });
mkdirSync(join(env, 'bin'), { recursive: true });
writeFileSync(join(bb, 'bin/busybox'), '#!/bin/sh\n');
chmodSync(join(bb, 'bin/busybox'), 0o755);
symlinkSync('/store/bb/bin/busybox', join(env, 'bin/tar'));
symlinkSync('tar', join(env, 'bin/gtar'));
symlinkSync('/store/gone/bin/busybox', join(env, 'bin/dangling'));
symlinkSync('loop2', join(env, 'bin/loop1'));
symlinkSync('loop1', join(env, 'bin/loop2'));
symlinkSync('/store/bb/bin/busybox', join(env, 'bin/sh'));
writeFileSync(join(env, 'bin/configure-make'), '#!/bin/sh\n');
chmodSync(join(env, 'bin/configure-make'), 0o755);
// As with sandboxBin: the env entry's bin/ is also /bin.
const seen: Record<string, string> = { '/store/bb': bb, '/store/env': env, '/bin': join(env, 'bin') };
const toHost = (p: string): string | undefined => {
  for (const [inside, host] of Object.entries(seen)) if (p === inside || p.startsWith(`${inside}/`)) return host + p.slice(inside.length);
  return undefined;
};

describe('findTool', () => {
  it('follows a link to another entry by its path inside the sandbox', async () => {
    expect(await findTool('tar', '/build/src', '/store/env/bin', toHost)).toEqual({ seen: '/store/env/bin/tar', host: join(bb, 'bin/busybox') });
    expect((await findTool('gtar', '/build/src', '/store/env/bin', toHost))?.host).toBe(join(bb, 'bin/busybox'));
  });

  it('finds nothing where a link leads out of what the step has, or loops', async () => {
    expect(await findTool('dangling', '/build/src', '/store/env/bin', toHost)).toBeUndefined();
    expect(await findTool('loop1', '/build/src', '/store/env/bin', toHost)).toBeUndefined();
  });
});

describe('locateTool', () => {
  it("finds a script's #! interpreter through a link to another entry", async () => {
    expect(await locateTool('configure-make', '/build/src', '/store/env/bin', toHost, 'inside the sandbox')).toBe(join(env, 'bin/configure-make'));
  });

  it('names the interpreter when the sandbox has no /bin', async () => {
    const noBin = (p: string) => (p.startsWith('/bin') ? undefined : toHost(p));
    await expect(locateTool('configure-make', '/build/src', '/store/env/bin', noBin, 'inside the sandbox')).rejects.toThrow(
      /needs \/bin\/sh to run, and that is not there inside the sandbox/,
    );
  });
});
