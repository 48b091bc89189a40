// Every command, registered in one list. A command file parses its options into a
// typed object, calls the library, and prints; no logic beyond that.
import type { Command } from 'commander';
import type { CliContext } from '../main.js';
import { registerAdd } from './add.js';
import { registerBuild } from './build.js';
import { registerCache } from './cache.js';
import { registerKey } from './key.js';
import { registerDiff } from './diff.js';
import { registerOutdated } from './outdated.js';
import { registerReview } from './review.js';
import { registerSbom } from './sbom.js';
import { registerUpgrade } from './upgrade.js';
import { registerDoctor } from './doctor.js';
import { registerFetch } from './fetch.js';
import { registerGc } from './gc.js';
import { registerList } from './list.js';
import { registerRepair } from './repair.js';
import { registerWhy } from './why.js';
import { registerInstall } from './install.js';
import { registerLog } from './log.js';
import { registerUse } from './use.js';
import { registerInit } from './init.js';
import { registerLock } from './lock.js';
import { registerVerify } from './verify.js';

export function registerCommands(program: Command, ctx: CliContext): void {
  registerInit(program, ctx);
  registerLock(program, ctx);
  registerFetch(program, ctx);
  registerInstall(program, ctx);
  registerBuild(program, ctx);
  registerUse(program, ctx);
  registerLog(program, ctx);
  registerVerify(program, ctx);
  registerAdd(program, ctx);
  registerOutdated(program, ctx);
  registerUpgrade(program, ctx);
  registerDiff(program, ctx);
  registerReview(program, ctx);
  registerSbom(program, ctx);
  registerDoctor(program, ctx);
  registerRepair(program, ctx);
  registerGc(program, ctx);
  registerWhy(program, ctx);
  registerList(program, ctx);
  registerKey(program, ctx);
  registerCache(program, ctx);
}
