// `intact cache pull`: fill the store from the registries without building. Every
// entry is fetched at once (the substituter bounds the downloads); each is
// unpacked once its dependencies are in the store, because the output checks
// resolve links and ELF interpreters into them. An entry whose dependency could
// not be pulled is skipped, naming it.
import { hasEntry } from '../store/entry.js';
import type { PlanLike, Substituter } from './substitute.js';
import type { EntryChecks } from './entry-checks.js';

export interface PullReport {
  name: string;
  version: string;
  key: string;
  status: 'pulled' | 'present' | 'failed' | 'skipped';
  /** Where it came from, or why not. */
  note?: string;
}

export async function pullEntries(
  plans: readonly PlanLike[],
  sub: Substituter,
  checks: Pick<EntryChecks, 'store'>,
  onReport?: (r: PullReport) => void,
): Promise<PullReport[]> {
  const results = new Map<string, Promise<PullReport>>();
  const byName = new Map(plans.map((p) => [p.name, p]));
  sub.prefetch();
  const one = (p: PlanLike): Promise<PullReport> => {
    let r = results.get(p.name);
    if (r === undefined) {
      r = (async (): Promise<PullReport> => {
        const base = { name: p.name, version: p.version, key: p.key };
        const deps = await Promise.all(
          p.deps
            .map((d) => byName.get(d.name))
            .filter((d): d is PlanLike => d !== undefined)
            .map(one),
        );
        const bad = deps.find((d) => d.status === 'failed' || d.status === 'skipped');
        if (await hasEntry(checks.store, p.key, p.name, p.version)) return { ...base, status: 'present' };
        if (bad) return { ...base, status: 'skipped', note: `its dependency ${bad.name} could not be pulled` };
        const o = await sub.substitute(p);
        return o.ok ? { ...base, status: 'pulled', note: o.from } : { ...base, status: 'failed', note: o.reason };
      })();
      r.then(
        (x) => onReport?.(x),
        () => undefined,
      );
      results.set(p.name, r);
    }
    return r;
  };
  return Promise.all(plans.map(one));
}
