// The weaker levels, partial and none, and what every level shares: exact
// environment, exit status and signal, a deadline and an abort that kill the tree,
// and a missing tool named in words. Paths here are the host's own.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeSandbox, runStep } from '../../src/build/sandbox/index.js';
import type { SandboxLevel, StepProcess } from '../../src/build/types.js';
import { fullSandboxSkip, skippedBecause } from '../helpers/sandbox-skip.js';
import { alive, inspectBin, parseInspect, stillGrowing } from '../helpers/static-bin.js';

let dir: string;
let T: string;
let server: Server;
let port: number;

async function run(level: SandboxLevel, argv: string[], o: Partial<StepProcess> = {}) {
  let out = '';
  const r = await runStep({ argv, env: {}, cwd: dir, mounts: [], log: (b) => (out += b.toString('utf8')), ...o }, level);
  return { out, facts: parseInspect(out), ...r };
}

beforeAll(async () => {
  T = await inspectBin();
  dir = await mkdtemp(join(tmpdir(), 'intact-levels-'));
  await mkdir(join(dir, 'sub'));
  server = createServer((s) => {
    s.on('error', () => undefined);
    s.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(['partial', 'none'] as const)('level %s', (level) => {
  it('passes exactly the given environment and working folder', async () => {
    process.env.INTACT_CANARY = 'must-not-leak';
    try {
      const env = { PATH: '/nowhere', ODD: 'a=b c $(x)', EMPTY: '' };
      const { facts } = await run(level, [T, 'env', 'cwd'], { env, cwd: join(dir, 'sub') });
      expect(facts.get('env')!.sort()).toEqual(
        Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .sort(),
      );
      expect(facts.get('cwd')).toEqual([join(dir, 'sub')]);
    } finally {
      delete process.env.INTACT_CANARY;
    }
  });

  it('sends stdout and stderr to the log and returns exit status and signal', async () => {
    let out = '';
    const r = await runStep({ argv: [T, 'cat:/nonexistent', 'exit:7'], env: {}, cwd: dir, mounts: [], log: (b) => (out += b) }, level);
    expect(r).toEqual({ exitCode: 7, signal: null });
    expect(out).toContain('cat:/nonexistent=ENOENT');
    expect(await run(level, [T, 'segv'])).toMatchObject({ exitCode: null, signal: 'SIGSEGV' });
  });

  it('kills the step and its children on timeout', async () => {
    const tag = `tag:${level}-timeout-${process.pid}-${Date.now()}`;
    const beat = join(dir, `beat-${level}`);
    await expect(run(level, [T, tag, `beat:${beat}`, 'sleep:60000'], { timeoutMs: 500 })).rejects.toMatchObject({ code: 'STEP_TIMEOUT' });
    expect(await alive(tag)).toEqual([]);
    expect(await stillGrowing(beat)).toBe(false);
  });

  it('kills the step and its children on abort', async () => {
    const tag = `tag:${level}-abort-${process.pid}-${Date.now()}`;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    await expect(run(level, [T, tag, `beat:${join(dir, `abeat-${level}`)}`, 'sleep:60000'], { signal: ac.signal })).rejects.toMatchObject({
      code: 'STEP_ABORTED',
    });
    expect(await alive(tag)).toEqual([]);
  });

  it("names a missing tool and never looks it up in the caller's PATH", async () => {
    await expect(run(level, ['/nonexistent/tool'])).rejects.toMatchObject({ code: 'STEP_TOOL_MISSING', message: expect.stringContaining('/nonexistent/tool') });
    // `sh` is in the test runner's PATH, but not in the step's (empty) environment.
    await expect(run(level, ['sh', '-c', 'true'])).rejects.toMatchObject({ code: 'STEP_TOOL_MISSING', message: expect.stringContaining('PATH=(unset)') });
    await expect(run(level, ['inspect', 'true'], { env: { PATH: dirname(T) } })).resolves.toMatchObject({ exitCode: 0 });
  });

  it('names a missing working folder', async () => {
    await expect(run(level, [T], { cwd: join(dir, 'absent') })).rejects.toMatchObject({ code: 'STEP_CWD_MISSING' });
  });
});

describe.skipIf(fullSandboxSkip() !== undefined)(`level partial${skippedBecause(fullSandboxSkip())}`, () => {
  it('is available wherever full is', async () => {
    expect(['full', 'partial']).toContain((await probeSandbox()).level);
  });

  it("has no network and its own PID namespace, but sees the host's files as the caller", async () => {
    const { facts } = await run('partial', [T, `connect:127.0.0.1:${port}`, 'ifaces', 'ids', 'exists:/usr', 'caps']);
    expect(facts.get(`connect:127.0.0.1:${port}`)![0]).not.toBe('ok');
    expect([...facts.keys()].filter((k) => k.startsWith('iface:'))).toEqual(['iface:lo']);
    expect(facts.get('pid')).toEqual(['1']);
    expect(facts.get('uid')).toEqual([String(process.getuid!())]);
    expect(facts.get('exists:/usr')).toEqual(['yes']);
    // Mapped to itself: without capabilities unless the caller is root (uid 0 keeps them, in its own user namespace only).
    if (process.getuid!() !== 0) expect(facts.get('capeff')).toEqual(['0000000000000000']);
  });

  it('kills a child that left the process group: the PID namespace ends with the step', async () => {
    const tag = `tag:partial-setsid-${process.pid}-${Date.now()}`;
    const beat = join(dir, 'beat-setsid');
    await expect(run('partial', [T, tag, `beat-setsid:${beat}`, 'sleep:60000'], { timeoutMs: 500 })).rejects.toMatchObject({ code: 'STEP_TIMEOUT' });
    expect(await alive(tag)).toEqual([]);
    expect(await stillGrowing(beat)).toBe(false);
  });
});

describe('level none', () => {
  it('is a plain process: the host network and PIDs', async () => {
    const { facts } = await run('none', [T, `connect:127.0.0.1:${port}`, 'ids']);
    expect(facts.get(`connect:127.0.0.1:${port}`)).toEqual(['ok']);
    expect(facts.get('pid')).not.toEqual(['1']);
  });

  it('kills what the step left running in its group once it exits', async () => {
    const tag = `tag:none-straggler-${process.pid}-${Date.now()}`;
    const r = await run('none', [T, tag, `beat:${join(dir, 'straggler')}`, 'exit:0']);
    expect(r.exitCode).toBe(0);
    expect(await alive(tag)).toEqual([]);
  });
});
