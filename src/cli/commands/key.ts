// `intact key generate` and `intact key public`: the signing keys of the binary
// cache. The secret key is written outside every repository (the user's config
// folder, mode 0600) and never printed; the public key is printed alone on
// stdout, ready for cache.trusted-keys in intact.yaml. The work is src/cache.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerKey(program: Command, ctx: CliContext): void {
  const key = program.command('key').description('signing keys for the binary cache (see docs/cache.md)');

  key
    .command('generate')
    .description('create an ed25519 key pair: the secret key in a private file outside the repository, the public key on stdout')
    .option('--name <name>', 'the key name trusted-keys will list (default: <hostname>-1)')
    .option('--out <file>', 'where to write the secret key (default: ~/.config/intact/keys/<name>.secret)')
    .addHelpText(
      'after',
      `
The secret key never enters the repository: a path inside the project (or any
git work tree) is refused. Add the printed public key to cache.trusted-keys in
intact.yaml; give the secret key to CI as a secret variable (INTACT_SIGNING_KEY
holds its content, INTACT_SIGNING_KEY_FILE a path).`,
    )
    .action(async (opts: { name?: string; out?: string }) => {
      const out = ctx.output();
      const { keysDir, SECRET_SUFFIX, writeKeyPair } = await import('../../cache/key-files.js');
      const name =
        opts.name ??
        `${
          hostname()
            .replace(/[^A-Za-z0-9.-]/g, '-')
            .replace(/^[^A-Za-z0-9]+/, '') || 'intact'
        }-1`;
      const target = resolve(opts.out ?? join(keysDir(process.env), `${name}${SECRET_SUFFIX}`));
      const repo = repositoryOf(dirname(target));
      const made = await writeKeyPair({ name, out: target, ...(repo !== undefined ? { projectDir: repo } : {}) });
      if (out.json) {
        out.document({ ok: true, name, publicKey: made.public.text, secretKeyFile: made.file });
        return;
      }
      out.out.write(`${made.public.text}\n`);
      if (!out.quiet) {
        out.err.write(`secret key written to ${made.file} (mode 0600; never commit it)\n`);
        out.err.write('add the public key above to cache.trusted-keys in intact.yaml\n');
      }
    });

  key
    .command('public')
    .description('print the public key of a secret key (found as `cache push` finds it)')
    .argument('[file]', 'the secret key file')
    .action(async (file: string | undefined) => {
      const out = ctx.output();
      const { findSecretKey } = await import('../../cache/key-files.js');
      const k = await findSecretKey({ ...(file !== undefined ? { file } : {}), env: process.env });
      if (out.json) out.document({ ok: true, name: k.name, publicKey: k.public.text });
      else out.out.write(`${k.public.text}\n`);
    });
}

/** The nearest folder holding a git work tree or an intact project, from `start` up: no secret goes below it. */
function repositoryOf(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (['.git', 'intact.lock', 'recipes'].some((m) => existsSync(join(dir, m)))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
