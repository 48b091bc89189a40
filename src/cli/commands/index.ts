// Every command, in one table. A command file parses its options into a typed
// object, calls the library, and prints; no logic beyond that.
//
// Start-up cost is measured (bench/verify-static.mjs): loading all 21 command
// modules costs ~20 ms, a third of Node's own start. So only the module of the
// command being run is loaded; `intact --help` (or an unknown command) loads all.
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { commandWord } from '../argv.js';

type Register = (program: Command, ctx: CliContext) => void;

/** Command name → its module's register function; `use` registers run, shell and env. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./init.js')).registerInit,
  lock: async () => (await import('./lock.js')).registerLock,
  fetch: async () => (await import('./fetch.js')).registerFetch,
  install: async () => (await import('./install.js')).registerInstall,
  build: async () => (await import('./build.js')).registerBuild,
  use: async () => (await import('./use.js')).registerUse,
  log: async () => (await import('./log.js')).registerLog,
  verify: async () => (await import('./verify.js')).registerVerify,
  add: async () => (await import('./add.js')).registerAdd,
  outdated: async () => (await import('./outdated.js')).registerOutdated,
  upgrade: async () => (await import('./upgrade.js')).registerUpgrade,
  diff: async () => (await import('./diff.js')).registerDiff,
  review: async () => (await import('./review.js')).registerReview,
  sbom: async () => (await import('./sbom.js')).registerSbom,
  doctor: async () => (await import('./doctor.js')).registerDoctor,
  repair: async () => (await import('./repair.js')).registerRepair,
  gc: async () => (await import('./gc.js')).registerGc,
  why: async () => (await import('./why.js')).registerWhy,
  list: async () => (await import('./list.js')).registerList,
  key: async () => (await import('./key.js')).registerKey,
  cache: async () => (await import('./cache.js')).registerCache,
};
const ALIASES: Record<string, string> = { run: 'use', shell: 'use', env: 'use' };

export async function registerCommands(program: Command, ctx: CliContext, argv: readonly string[]): Promise<void> {
  const word = commandWord(argv);
  const key = word === undefined ? undefined : (ALIASES[word] ?? word);
  const wanted = key !== undefined && key in COMMANDS ? [key] : Object.keys(COMMANDS);
  for (const register of await Promise.all(wanted.map((k) => COMMANDS[k]!()))) register(program, ctx);
}
