// Every command, registered in one list. A command file parses its options into a
// typed object, calls the library, and prints; no logic beyond that.
import type { Command } from 'commander';
import type { CliContext } from '../main.js';
import { registerInit } from './init.js';
import { registerVerify } from './verify.js';

export function registerCommands(program: Command, ctx: CliContext): void {
  registerInit(program, ctx);
  registerVerify(program, ctx);
}
