// Where secret keys live and how they are read: outside every repository, in
// the user's configuration folder (`$XDG_CONFIG_HOME/intact/keys/` or
// `~/.config/intact/keys/`), readable by the owner only, as ssh insists for its
// keys. The project's configuration in git names only public keys.
//
// A push finds its secret key, in order: --key FILE, INTACT_SIGNING_KEY_FILE (a
// path), INTACT_SIGNING_KEY (the key text itself, for CI secret variables), or
// the only key in the keys folder.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { IntactError } from '../errors.js';
import { generateKeyPair, isKeyName, parseSecretKey, type PublicKey, type SecretKey } from './keys.js';

export const SECRET_SUFFIX = '.secret';

export function keysDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_CONFIG_HOME'];
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env['HOME'] || homedir(), '.config');
  return join(base, 'intact', 'keys');
}

/** True when `file` is `dir` or below it, after resolving symlinks of what exists. */
async function isInside(file: string, dir: string): Promise<boolean> {
  const real = async (p: string): Promise<string> => {
    try {
      return await realpath(p);
    } catch {
      return join(await real(dirname(p)), p.slice(dirname(p).length + 1));
    }
  };
  const rel = relative(await real(dir), await real(file));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function refuseInProject(file: string): IntactError {
  return new IntactError('KEY_FILE', `refusing a secret key inside a repository or project: ${file}`, {
    file,
    hint: 'a secret key must never be committed: keep it outside every git work tree (`intact key generate --out FILE`), or in a CI secret (INTACT_SIGNING_KEY)',
  });
}

/**
 * Writes a new key pair. The secret key goes to `out` (default: the keys folder,
 * `<name>.secret`), created with mode 0600 and never overwritten.
 */
export async function writeKeyPair(opts: {
  name: string;
  out?: string;
  projectDir?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<{ file: string; public: PublicKey }> {
  const env = opts.env ?? process.env;
  if (!isKeyName(opts.name)) generateKeyPair(opts.name); // throws the naming error
  const file = resolve(opts.out ?? join(keysDir(env), `${opts.name}${SECRET_SUFFIX}`));
  // Defence in depth: never create a secret where `git add .` would pick it up.
  if (opts.projectDir !== undefined && (await isInside(file, opts.projectDir))) throw refuseInProject(file);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const pair = generateKeyPair(opts.name);
  let fh;
  try {
    fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new IntactError('KEY_EXISTS', `${file} already exists; intact never overwrites a secret key`, {
        file,
        hint: 'pick another --name (e.g. bump the -1 suffix) or another --out; remove the old key yourself if you really mean to',
      });
    }
    throw new IntactError('KEY_FILE', `cannot write ${file}: ${(e as Error).message}`, { file, cause: e });
  }
  try {
    await fh.chmod(0o600);
    await fh.writeFile(`${pair.secretText}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { file, public: pair.public };
}

/** Reads a secret key from a file, refusing one that others can read or that lies inside the project. */
export async function readSecretKeyFile(file: string, projectDir?: string): Promise<SecretKey> {
  const abs = resolve(file);
  let st;
  try {
    st = await lstat(abs);
  } catch (e) {
    throw new IntactError('KEY_FILE', `cannot read the secret key ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      file: abs,
      hint: 'create one with `intact key generate`, or pass the right --key FILE',
    });
  }
  if (!st.isFile())
    throw new IntactError('KEY_FILE', `the secret key ${abs} is not a regular file`, {
      file: abs,
      hint: 'point --key at the file itself, not at a link or folder',
    });
  if (projectDir !== undefined && (await isInside(abs, projectDir))) throw refuseInProject(abs);
  if ((st.mode & 0o077) !== 0) {
    throw new IntactError('KEY_FILE', `the secret key ${abs} is readable by others (mode ${(st.mode & 0o777).toString(8)})`, {
      file: abs,
      hint: `run \`chmod 600 ${abs}\`; intact refuses keys others could have copied, as ssh does`,
    });
  }
  return parseSecretKey(await readFile(abs, 'utf8'), abs);
}

/** The signing key for a push, found as the module header says. */
export async function findSecretKey(opts: { file?: string; env?: NodeJS.ProcessEnv; projectDir?: string }): Promise<SecretKey> {
  const env = opts.env ?? process.env;
  if (opts.file !== undefined) return readSecretKeyFile(opts.file, opts.projectDir);
  const fromEnvFile = env['INTACT_SIGNING_KEY_FILE'];
  if (fromEnvFile) return readSecretKeyFile(fromEnvFile, opts.projectDir);
  const inline = env['INTACT_SIGNING_KEY'];
  if (inline) return parseSecretKey(inline, 'INTACT_SIGNING_KEY');
  const dir = keysDir(env);
  const found = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(SECRET_SUFFIX)).sort();
  if (found.length === 1) return readSecretKeyFile(join(dir, found[0]!), opts.projectDir);
  throw new IntactError(
    'KEY_FILE',
    found.length === 0
      ? `no signing key: ${dir} holds none and neither --key nor INTACT_SIGNING_KEY(_FILE) is set`
      : `${dir} holds ${found.length} secret keys (${found.join(', ')}); say which one to sign with`,
    {
      hint:
        found.length === 0
          ? 'create one with `intact key generate`, then add the public key it prints to cache.trusted-keys in intact.yaml'
          : 'pass --key FILE',
    },
  );
}
