// The static programs sandbox tests run: a full sandbox has no /lib, so only a
// static binary runs in it. Both come from the suite's set-up, through intact
// (test/setup/toolchain.ts): Debian's static busybox, and `inspect`
// (test/fixtures/toolchain/src/inspect.c, built with the pinned Zig), which
// reports what a process sees, one `key=value` line per request:
//   ids hostname cwd env caps procs ifaces segv true
//   exists:PATH write:PATH read:PATH cat:PATH chroot:PATH connect:IP:PORT
//   unshare-user exit:N sleep:MS beat:FILE beat-setsid:FILE tag:ANYTHING
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { inject } from 'vitest';
import { sharedCopy } from '../setup/toolchain.js';

/** Copies every user can run (the unprivileged tests run them as uid 65534). */
function shared(file: string, name: string): string {
  // Named after the store entry, whose name carries its key: a new build gets a new copy.
  const entry = relative(join(inject('fixtures').cache, 'store'), file).split('/')[0]!;
  return sharedCopy(file, join(tmpdir(), 'intact-fixtures', entry), name);
}

/** The static busybox the tests use as a shell inside the sandbox. */
export function busybox(): string {
  return shared(inject('fixtures').busybox, 'busybox');
}

export async function inspectBin(): Promise<string> {
  return shared(inject('fixtures').inspect, 'inspect');
}

/** Parse `key=value` lines; repeated keys keep every value in order. */
export function parseInspect(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const k = line.slice(0, i);
    out.set(k, [...(out.get(k) ?? []), line.slice(i + 1)]);
  }
  return out;
}

// ---------------------------------------------------------------- did the tree die?

/** PIDs of live processes whose command line contains `token` (zombies have none). */
export async function alive(token: string, waitMs = 3000): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const pids: number[] = [];
    for (const name of await readdir('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
      if (cmd.includes(token)) pids.push(Number(name));
    }
    if (pids.length === 0 || Date.now() > deadline) return pids;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a heartbeat file (written every 20 ms by `inspect beat:FILE`) still grows. */
export async function stillGrowing(file: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  const size = async () => (await stat(file).catch(() => undefined))?.size ?? -1;
  const a = await size();
  await new Promise((r) => setTimeout(r, 300));
  return (await size()) !== a;
}
