// Deterministic JSON: object keys sorted by code point, two-space indent, a final
// newline. The lockfile is written with it (so a diff shows only real changes) and
// hashes are taken over it (so formatting never changes a hash).

export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

/** Compact form, for hashing. */
export function canonicalCompact(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    // Null prototype: a key named `__proto__` is data, not the prototype.
    const out = nameMap<unknown>();
    for (const k of Object.keys(value).sort(byCodePoint)) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Locale-independent order, so every machine sorts alike. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A map from names (recipes, dependencies) to values with no prototype, so a
 * name such as `constructor` or `__proto__` is looked up and stored as data.
 */
export function nameMap<T>(entries: Iterable<readonly [string, T]> = []): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [k, v] of entries) out[k] = v;
  return out;
}
