/**
 * A bounded in-memory cache with a time to live, for data every instance reads often and
 * changes rarely (clients). Least recently used entries go first when it is full.
 *
 * Invalidation and loading race: a value read from the store before an invalidation arrived
 * must not be cached after it. Every invalidation bumps `epoch`; a loader remembers the epoch
 * before reading and `set` ignores the value when the epoch moved in between.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  private currentEpoch = 0;

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`cache size must be a positive integer, not ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Counts invalidations; pass the value read before loading to `set`. */
  get epoch(): number {
    return this.currentEpoch;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    // Map order is insertion order: re-inserting makes this the most recently used entry.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for `ttlMs` (default: the cache's) unless an invalidation happened since `epochAtLoad`. */
  set(key: K, value: V, epochAtLoad: number, ttlMs = this.ttlMs): void {
    if (epochAtLoad !== this.currentEpoch || ttlMs <= 0) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, { value, expiresAt: this.clock() + ttlMs });
  }

  delete(key: K): void {
    this.currentEpoch++;
    this.entries.delete(key);
  }

  clear(): void {
    this.currentEpoch++;
    this.entries.clear();
  }
}
