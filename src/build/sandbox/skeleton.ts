// The fixed part of every private root: /dev (empty files the host's device nodes
// are bound onto, /dev/fd and /dev/std* links, a folder for /dev/shm) and /etc
// (passwd, group and hosts naming only the sandbox's own users). The same for
// every step, so it is written once per process into a temporary folder and
// mounted read-only into each sandbox, instead of being built by a dozen host
// commands per step (that was two thirds of a step's overhead).
//
// Temporary folders carry the creating process's id: one killed before it could
// clean up (SIGKILL, a test runner's worker) leaves its folders behind, and the
// next process removes those of dead processes, ours only.
import { rmSync } from 'node:fs';
import { access, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockedFlags } from './mountinfo.js';
import { processAlive } from '../../process-alive.js';

/** Who the step is inside a full sandbox: fixed, so outputs never record the caller. */
export const INSIDE_USER = { uid: 1000, gid: 1000, name: 'build', hostname: 'intact' } as const;

/** Device nodes a build may need; nothing that reaches hardware, the kernel log or memory. */
export const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

export interface Skeleton {
  /** Holds dev/ and etc/. */
  dir: string;
  /** The host device nodes to bind into dev/ (those that exist here). */
  devNodes: string[];
  /** nosuid/nodev/noexec of the mount holding `dir` (see mountinfo.ts). */
  locked: string[];
}

const NOLOGIN = '/nonexistent';
const FILES: Record<string, string> = {
  passwd: [
    `root:x:0:0:root:${NOLOGIN}:${NOLOGIN}`,
    `${INSIDE_USER.name}:x:${INSIDE_USER.uid}:${INSIDE_USER.gid}:intact build:${NOLOGIN}:${NOLOGIN}`,
    `nobody:x:65534:65534:nobody:${NOLOGIN}:${NOLOGIN}`,
    '',
  ].join('\n'),
  group: ['root:x:0:', `${INSIDE_USER.name}:x:${INSIDE_USER.gid}:`, 'nogroup:x:65534:', ''].join('\n'),
  hosts: ['127.0.0.1 localhost', '::1 localhost', ''].join('\n'),
};

let cached: Promise<Skeleton> | undefined;

export function skeleton(): Promise<Skeleton> {
  cached ??= create().catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

/** After a failed setup: the folder may have been removed under us (a tmp cleaner); make a new one next time. */
export function forgetSkeleton(): void {
  cached = undefined;
}

/** Prefix of a temporary folder of this process: `intact-<what>-<pid>-`. */
export function tempPrefix(what: 'sandbox-skel' | 'step'): string {
  return join(tmpdir(), `intact-${what}-${process.pid}-`);
}

async function sweepStale(): Promise<void> {
  const dir = tmpdir();
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const m = /^intact-(?:sandbox-skel|step)-(\d+)-/.exec(name);
      if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) return;
      const st = await lstat(join(dir, name)).catch(() => undefined);
      if (st?.isDirectory() && st.uid === process.getuid?.()) await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}

async function create(): Promise<Skeleton> {
  await sweepStale();
  const dir = await mkdtemp(tempPrefix('sandbox-skel'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const dev = join(dir, 'dev');
  const etc = join(dir, 'etc');
  await Promise.all([mkdir(join(dev, 'shm'), { recursive: true, mode: 0o755 }), mkdir(etc, { mode: 0o755 })]);
  const devNodes = (
    await Promise.all(
      DEV_NODES.map(async (n) =>
        (await access(`/dev/${n}`).then(
          () => true,
          () => false,
        ))
          ? n
          : undefined,
      ),
    )
  ).filter((n) => n !== undefined);
  await Promise.all([
    ...devNodes.map((n) => writeFile(join(dev, n), '', { mode: 0o644 })),
    symlink('/proc/self/fd', join(dev, 'fd')),
    ...['stdin', 'stdout', 'stderr'].map((n, i) => symlink(`/proc/self/fd/${i}`, join(dev, n))),
    ...Object.entries(FILES).map(([n, text]) => writeFile(join(etc, n), text, { mode: 0o644 })),
  ]);
  const [locked] = await lockedFlags([dir]);
  return { dir, devNodes, locked: locked! };
}
