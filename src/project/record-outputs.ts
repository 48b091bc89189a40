// `intact lock --outputs`: build (or reuse) each recipe for this platform and
// record its output hash in the lock, where a reviewer sees it and any machine
// can check it (`install` refuses a build that differs). Only the `output` field
// of each entry changes; pins are untouched.
import { IntactError } from '../errors.js';
import { readLock, writeLock } from '../lock/index.js';
import { serializeLock } from '../lock/parse.js';
import { readMeta } from '../store/entry.js';
import { buildOne } from '../build/build-one.js';
import type { BuildContext, BuildServices } from '../build/context.js';
import { planProject, plansByName } from './plan.js';

export interface RecordedOutput {
  name: string;
  before?: string;
  after: string;
}

export async function recordOutputs(
  projectDir: string,
  names: readonly string[],
  build: BuildServices,
  jobs: number,
  write: boolean,
): Promise<{ changes: RecordedOutput[]; written: boolean }> {
  const sel = await planProject(projectDir, names);
  const platform = sel.platform;
  const plans = plansByName(sel.plans);
  // Re-recording is the point: an output that differs from the old record is expected here.
  const ctx: BuildContext = { ...build, plans, jobs, allowMismatch: true };
  const outputs = new Map<string, string>();
  for (const p of sel.plans) {
    const o = await buildOne(p, ctx);
    const meta = o.meta ?? (await readMeta(ctx.store, p.key));
    if (!meta) throw new IntactError('IO', `${p.name}: the store entry has no metadata`, { hint: `run \`intact repair ${p.name}\`` });
    outputs.set(p.name, meta.output);
  }
  const read = await readLock(projectDir);
  if (!read) throw new IntactError('LOCK_MISSING', 'there is no intact.lock', { hint: 'run `intact lock` first' });
  const lock = read.lock;
  const wanted = names.length > 0 ? new Set(names) : new Set(outputs.keys());
  const changes: RecordedOutput[] = [];
  for (const [name, out] of outputs) {
    if (!wanted.has(name)) continue;
    const entry = lock.recipes[name]!;
    const before = entry.output?.[platform];
    if (before === out) continue;
    entry.output = { ...(entry.output ?? {}), [platform]: out };
    changes.push({ name, ...(before ? { before } : {}), after: out });
  }
  const written = write && changes.length > 0 && serializeLock(lock) !== read.text;
  if (written) await writeLock(projectDir, lock);
  return { changes, written };
}
