// `intact build NAME`: build one recipe again in a fresh folder, even when the
// store has it, and say whether the result equals the store's entry (and the
// lock's recorded output, when there is one). Its dependencies are taken from the
// store (built first if missing). A result for an absent entry is added.
import { addEntry, hasEntry, readMeta } from '../store/entry.js';
import { buildOne, forceRemove } from '../build/build-one.js';
import type { BuildContext, BuildServices } from '../build/context.js';
import { planProject, plansByName } from './plan.js';
import type { Platform } from '../platform.js';

export interface RebuildResult {
  name: string;
  output: string;
  /** The store's entry's output hash, when it has the entry. */
  store?: string;
  /** The lock's recorded output hash for this platform, when recorded (native builds only). */
  locked?: string;
  added: boolean;
}

export async function rebuild(projectDir: string, name: string, build: BuildServices, jobs: number, platform?: Platform): Promise<RebuildResult> {
  const sel = await planProject(projectDir, [name], platform);
  const plans = plansByName(sel.plans);
  const ctx: BuildContext = { ...build, plans, jobs };
  for (const p of sel.plans) if (p.name !== name) await buildOne(p, ctx);
  const plan = plans.get(name)!;
  const fresh = await buildOne(plan, ctx, { fresh: true });
  try {
    const output = fresh.meta!.output;
    const present = await hasEntry(build.store, plan.key, plan.name, plan.version);
    const stored = present ? (await readMeta(build.store, plan.key))?.output : undefined;
    // The lock's recorded output, as the plan holds it: a native build's only (a cross build's output is its own).
    const locked = plan.expectedOutput;
    let added = false;
    if (!present) added = (await addEntry(build.store, fresh.path, fresh.meta!)) === 'added';
    return { name, output, ...(stored ? { store: stored } : {}), ...(locked ? { locked } : {}), added };
  } finally {
    if (fresh.keptAt) await forceRemove(fresh.keptAt);
  }
}
