// A real OCI registry for the cache tests: Debian's docker-registry (the CNCF
// distribution registry, brought by the suite's set-up through intact:
// test/setup/toolchain.ts), started on 127.0.0.1 and a free port with its config
// and storage in a fresh temp folder, stopped (and the folder removed) after.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, inject } from 'vitest';

/**
 * Why the registry tests cannot run on this host (docker-registry needs glibc),
 * or undefined when they can. Suites skip with this in their name.
 */
export function registrySkip(): string | undefined {
  return inject('fixtures').registrySkip;
}

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  port: number;
  origin: string;
  /** The registry's storage root. */
  dataDir: string;
  /** Where the registry keeps a blob's bytes (to tamper with them). */
  blobFile(digest: string): string;
  /** `http://127.0.0.1:<port>/<repository>`: a reference intact accepts. */
  ref(repository: string): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as AddressInfo;
  await new Promise((ok) => srv.close(ok));
  return port;
}

export async function startRegistry(): Promise<TestRegistry> {
  const bin = inject('fixtures').registry;
  if (bin === undefined) throw new Error(`no registry: ${registrySkip() ?? 'the set-up did not bring docker-registry'}`);
  const dir = await mkdtemp(join(tmpdir(), 'intact-registry-'));
  const dataDir = join(dir, 'data');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${dataDir}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: intact-test-secret',
      '',
    ].join('\n');
    await writeFile(join(dir, 'config.yml'), config);
    const child = spawn(bin, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const up = await waitUp(port, child);
    if (!up) {
      child.kill('SIGKILL');
      if (attempt < 3 && /address already in use/.test(stderr)) continue;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start: ${stderr.slice(0, 2000)}`);
    }
    const host = `127.0.0.1:${port}`;
    return {
      host,
      port,
      origin: `http://${host}`,
      dataDir,
      blobFile: (digest) => {
        const hex = digest.replace(/^sha256:/, '');
        return join(dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
      },
      ref: (repo) => `http://${host}/${repo}`,
      stop: async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await new Promise<void>((ok) => {
            const t = setTimeout(() => {
              child.kill('SIGKILL');
              ok();
            }, 3000);
            child.once('exit', () => {
              clearTimeout(t);
              ok();
            });
          });
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

async function waitUp(port: number, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Flips one byte in the middle of a file of the registry's storage, keeping its size. */
/** Flips one byte of `file` (in the middle, or at `at` from the end when negative); returns the original bytes. */
export async function tamper(file: string, at?: number): Promise<Buffer> {
  const original = await readFile(file);
  const changed = Buffer.from(original);
  const i = at === undefined ? Math.floor(changed.length / 2) : at < 0 ? changed.length + at : at;
  changed[i] = changed[i]! ^ 0xff;
  await writeFile(file, changed);
  return original;
}

/** `describe`, or, on a host that cannot run docker-registry, a skipped one whose name says why. */
export function describeWithRegistry(name: string, fn: () => void): void {
  const why = registrySkip();
  if (why === undefined) describe(name, fn);
  else describe.skip(`${name} (skipped: ${why})`, fn);
}
