// Substitution: getting entries from the configured registries instead of
// building them. `prefetch` starts, for every planned entry not in the store,
// the search (manifest, metadata, signature, binding: find-artifact.ts) and the
// receiving of its archive (download and unpacking of the parts: receive.ts), a
// few entries at a time and in dependency order, so that downloads overlap each
// other and the builds; `substitute(plan)` (BuildContext.substitute) waits for
// its entry, then admits it into the store (admit.ts: the output checks, which
// need the entry's dependencies in the store, the tree hash, the atomic add).
//
// It never throws for a bad or absent artifact: it answers false, and says why
// in one line (onFallback), and install builds from source. Registries are tried
// in the configured order; one that is unreachable or refuses our credentials is
// not asked again during this run (one slow timeout, not one per entry).
import { existsSync } from 'node:fs';
import type { BuildPlan } from '../build/plan.js';
import { IntactError, isIntactError, type ErrorCode } from '../errors.js';
import type { FetchProgress } from '../fetch/types.js';
import { entryPath } from '../store/entry.js';
import type { CacheConfig } from './config.js';
import { findArtifact, type FoundArtifact } from './find-artifact.js';
import { RegistryClient, type ClientLimits } from './oci/client.js';
import type { CredentialLookup } from './oci/credentials.js';
import { cleanStale, removeTree } from './tmp.js';
import type { Wanted } from './trust.js';
import { admitEntry } from './admit.js';
import type { EntryChecks } from './entry-checks.js';
import { receiveEntry, type Received } from './receive.js';

/** The part of a build plan substitution needs. */
export type PlanLike = Pick<BuildPlan, 'name' | 'version' | 'platform' | 'key' | 'entry' | 'bin'> & {
  deps: readonly { name: string }[];
  /** The output hash intact.lock records (`intact lock --outputs`): a signed artifact must agree. */
  expectedOutput?: string;
};

export interface SubstituterOptions {
  config: Pick<CacheConfig, 'substituters' | 'trustedKeys'>;
  checks: EntryChecks;
  /** Every plan of this run (dependencies included), in dependency order. */
  plans: readonly PlanLike[];
  lookup: CredentialLookup;
  env?: NodeJS.ProcessEnv;
  limits?: Partial<ClientLimits>;
  /** Blob downloads at once. */
  downloads?: number;
  onEvent?: FetchProgress;
  signal?: AbortSignal;
}

export type Outcome = { ok: true; from: string } | { ok: false; reason: string; code: ErrorCode };

type Fetched = { ok: true; found: FoundArtifact; got: Received } | { ok: false; reason: string; code: ErrorCode };

/** What a failure is called in the one fallback line. */
const LABEL: Partial<Record<ErrorCode, string>> = {
  CACHE_MISSING: 'missing',
  CACHE_UNSIGNED: 'unsigned',
  CACHE_UNTRUSTED: 'untrusted',
  CACHE_BAD_SIGNATURE: 'untrusted',
  CACHE_MISMATCH: 'mismatching',
  CACHE_DIGEST_MISMATCH: 'mismatching',
  CACHE_UNREACHABLE: 'unreachable',
  CACHE_AUTH: 'refused',
  CACHE_REGISTRY: 'registry error',
  CACHE_INVALID: 'invalid',
  CACHE_TOO_LARGE: 'invalid',
};

/** Registry-wide failures: asking this registry again in this run would fail the same way. */
const REGISTRY_DOWN: ReadonlySet<ErrorCode> = new Set(['CACHE_UNREACHABLE', 'CACHE_AUTH', 'CACHE_REGISTRY']);

export class Substituter {
  readonly #o: SubstituterOptions;
  readonly #clients: RegistryClient[];
  readonly #byName: Map<string, PlanLike>;
  readonly #fetches = new Map<string, Promise<Fetched>>();
  readonly #down = new Map<RegistryClient, { reason: string; code: ErrorCode }>();
  readonly #abort = new AbortController();
  readonly #signal: AbortSignal;
  readonly #queue: (() => void)[] = [];
  #running = 0;
  #cleaned: Promise<void> | undefined;

  constructor(o: SubstituterOptions) {
    this.#o = o;
    this.#signal = o.signal ? AbortSignal.any([o.signal, this.#abort.signal]) : this.#abort.signal;
    this.#byName = new Map(o.plans.map((p) => [p.name, p]));
    this.#clients = o.config.substituters.map(
      (ref) =>
        new RegistryClient(ref, {
          lookup: o.lookup,
          signal: this.#signal,
          ...(o.env ? { env: o.env } : {}),
          ...(o.limits ? { limits: o.limits } : {}),
          ...(o.onEvent ? { onEvent: o.onEvent } : {}),
        }),
    );
  }

  /** Starts fetching every planned entry that is not in the store yet. */
  prefetch(): void {
    for (const p of this.#o.plans) {
      if (!existsSync(entryPath(this.#o.checks.store, p.key, p.name, p.version))) void this.#fetch(p).catch(() => undefined);
    }
  }

  /** Gets `plan`'s entry into the store from a registry; never throws for a bad or missing artifact. */
  async substitute(plan: PlanLike): Promise<Outcome> {
    const f = await this.#fetch(plan, true);
    // Consumed: a later call for the same entry asks the registries again.
    this.#fetches.delete(plan.key);
    if (!f.ok) return f;
    try {
      const { entry } = f.found.metadata;
      await admitEntry(
        f.got,
        entry,
        { format: 1, key: plan.key, name: plan.name, version: plan.version, platform: plan.platform, deps: entry.deps, bin: [...plan.bin] },
        this.#closure(plan),
        this.#o.checks,
        `${f.found.client.name}:${plan.key}`,
      );
      return { ok: true, from: f.found.client.name };
    } catch (e) {
      if (this.#signal.aborted) throw this.#signal.reason;
      return failure(e);
    }
  }

  /** BuildContext.substitute: true when the entry was added; `onFallback` hears the one line why not. */
  hook(onFallback: (plan: PlanLike, reason: string) => void): (plan: BuildPlan) => Promise<boolean> {
    return async (plan) => {
      const r = await this.substitute(plan);
      if (!r.ok) onFallback(plan, r.reason);
      return r.ok;
    };
  }

  /** Stops downloads and removes what they left. */
  async close(): Promise<void> {
    this.#abort.abort(new IntactError('FETCH_ABORTED', 'substitution stopped'));
    const pending = [...this.#fetches.values()];
    for (const r of await Promise.allSettled(pending)) {
      if (r.status === 'fulfilled' && r.value.ok) await removeTree(r.value.got.work);
    }
    await Promise.all(this.#clients.map((c) => c.close()));
  }

  #closure(plan: PlanLike): PlanLike[] {
    const out = new Map<string, PlanLike>();
    const walk = (p: PlanLike): void => {
      for (const d of p.deps) {
        const dp = this.#byName.get(d.name);
        if (dp && !out.has(dp.name)) {
          out.set(dp.name, dp);
          walk(dp);
        }
      }
    };
    walk(plan);
    return [...out.values()];
  }

  #fetch(plan: PlanLike, urgent = false): Promise<Fetched> {
    let f = this.#fetches.get(plan.key);
    if (f === undefined) {
      f = this.#limited(() => this.#fetchNow(plan), urgent);
      this.#fetches.set(plan.key, f);
    }
    return f;
  }

  /** At most `downloads` fetches at once; an urgent one (a build is waiting for it) jumps the queue. */
  #limited<T>(task: () => Promise<T>, urgent: boolean): Promise<T> {
    const max = Math.max(1, this.#o.downloads ?? 4);
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.#running++;
        task()
          .then(resolve, reject)
          .finally(() => {
            this.#running--;
            this.#queue.shift()?.();
          });
      };
      if (this.#running < max) start();
      else if (urgent) this.#queue.unshift(start);
      else this.#queue.push(start);
    });
  }

  async #fetchNow(plan: PlanLike): Promise<Fetched> {
    this.#cleaned ??= cleanStale(this.#o.checks.store);
    await this.#cleaned;
    if (this.#clients.length === 0) return { ok: false, reason: 'no substituters are configured', code: 'CACHE_NOT_CONFIGURED' };
    const closure = this.#closure(plan);
    const want: Wanted = {
      key: plan.key,
      name: plan.name,
      version: plan.version,
      platform: plan.platform,
      deps: closure.map((d) => d.key).sort(),
      ...(plan.expectedOutput !== undefined ? { output: plan.expectedOutput } : {}),
    };
    const reasons: string[] = [];
    let code: ErrorCode = 'CACHE_MISSING';
    for (const client of this.#clients) {
      const down = this.#down.get(client);
      if (down !== undefined) {
        reasons.push(down.reason);
        code = down.code;
        continue;
      }
      try {
        this.#signal.throwIfAborted();
        const found = await findArtifact(client, want, this.#o.config.trustedKeys);
        const got = await receiveEntry(found, plan, this.#o.checks, { ...(this.#o.onEvent ? { onEvent: this.#o.onEvent } : {}), signal: this.#signal });
        return { ok: true, found, got };
      } catch (e) {
        if (this.#signal.aborted) throw this.#signal.reason;
        const f = failure(e);
        reasons.push(f.reason);
        code = f.code;
        if (REGISTRY_DOWN.has(f.code)) this.#down.set(client, { reason: `${f.reason} (not asked again in this run)`, code: f.code });
      }
    }
    return { ok: false, reason: reasons.join('; '), code };
  }
}

/** `<label>: <why>`; every message names the registry (and the artifact) itself. */
function failure(e: unknown): { ok: false; reason: string; code: ErrorCode } {
  if (isIntactError(e)) return { ok: false, reason: `${LABEL[e.code] ?? 'failed'}: ${e.message}`, code: e.code };
  return { ok: false, reason: `failed: ${(e as Error)?.message ?? String(e)}`, code: 'INTERNAL' };
}

export function makeSubstituter(o: SubstituterOptions): Substituter {
  return new Substituter(o);
}
