// What a step asks for, checked before anything runs: an environment that can be
// passed on exactly, a tool that exists, a working folder that exists. A missing
// tool is named here, in words, instead of surfacing as "exit status 127"; so is
// the commonest surprise of a private root, a program whose `#!` interpreter or
// ELF loader (/bin/sh, /lib64/ld-linux...) is the host's and not inside.
import { open, stat } from 'node:fs/promises';
import { IntactError } from '../../errors.js';
import { readElf } from '../checks/elf.js';
import { isElfMagic } from '../../elf-magic.js';
import type { StepProcess } from '../types.js';
import { findTool, followLinks, isExecutableFile } from '../tool-lookup.js';

export function checkArgvAndEnv(p: StepProcess): void {
  if (p.argv.length === 0 || p.argv[0] === '')
    throw new IntactError('STEP_TOOL_MISSING', 'a build step has no program to run', { hint: 'give the step a command' });
  const bad = p.argv.find((a) => a.includes('\0'));
  if (bad !== undefined)
    throw new IntactError('STEP_ENV_INVALID', `an argument of ${p.argv[0]} holds a NUL byte`, { hint: 'arguments cannot carry NUL bytes' });
  for (const [k, v] of Object.entries(p.env)) {
    // `env` and execve read NAME=VALUE: a name with `=` would split elsewhere.
    if (k === '' || k.includes('=') || k.includes('\0') || v.includes('\0')) {
      throw new IntactError('STEP_ENV_INVALID', `the environment variable ${JSON.stringify(k)} cannot be passed to a build step`, {
        field: `env.${k}`,
        hint: 'variable names must be non-empty and hold no "=" or NUL; values no NUL',
      });
    }
  }
}

/**
 * Where `tool` is on the host. `toHost` maps a path as the step sees it to the
 * host (identity outside a full sandbox; undefined when the sandbox has nothing there).
 */
export async function locateTool(
  tool: string,
  cwd: string,
  path: string | undefined,
  toHost: (p: string) => string | undefined,
  where: string,
): Promise<string> {
  const found = await findTool(tool, cwd, path, toHost);
  if (found) {
    await checkInterpreter(tool, found.host, toHost, where);
    return found.host;
  }
  const looked = tool.includes('/') ? '' : ` (looked in PATH=${path ?? '(unset)'})`;
  throw new IntactError('STEP_TOOL_MISSING', `${tool} is not there ${where}${looked}`, {
    found: tool,
    hint: 'declare the dependency that provides it, or use the full path of a tool the build itself made',
  });
}

/** The `#!` interpreter or the ELF loader a program needs, when it is an absolute path. */
async function interpreterOf(host: string): Promise<string | undefined> {
  const fh = await open(host, 'r').catch(() => undefined);
  if (fh === undefined) return undefined;
  let head: Buffer;
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(256), 0, 256, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (head[0] === 0x23 && head[1] === 0x21) {
    const first = head.subarray(2).toString('latin1').split('\n')[0]!.trim().split(/[ \t]/)[0];
    return first?.startsWith('/') ? first : undefined;
  }
  // A file the ELF reader refuses is left to the kernel to refuse.
  if (isElfMagic(head)) return (await readElf(host).catch(() => undefined))?.interpreter;
  return undefined;
}

async function checkInterpreter(tool: string, host: string, toHost: (p: string) => string | undefined, where: string): Promise<void> {
  const interp = await interpreterOf(host);
  if (interp === undefined) return;
  // /bin/sh may be a link to another entry by its path inside the sandbox.
  const interpHost = await followLinks(interp, toHost);
  if (interpHost !== undefined && (await isExecutableFile(interpHost))) return;
  throw new IntactError('STEP_TOOL_MISSING', `${tool} needs ${interp} to run, and that is not there ${where}`, {
    found: interp,
    hint: 'run it with a tool of a declared dependency (e.g. [$shell, script]), or build it static / against a loader in the store',
  });
}

export async function checkCwd(cwd: string, host: string | undefined, where: string): Promise<void> {
  const st = host === undefined ? undefined : await stat(host).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new IntactError('STEP_CWD_MISSING', `the working folder ${cwd} of a build step is not there ${where}`, {
      found: cwd,
      hint: 'create it in an earlier step (mkdir), or set cwd to a folder of the build',
    });
  }
}
