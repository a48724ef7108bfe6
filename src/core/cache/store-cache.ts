/**
 * Records read on nearly every request and changed rarely (clients, protected resources) are
 * cached in memory per instance (bounded, with a TTL), and dropped when they change:
 * - in the process that changed them at once (the store announces its own changes);
 * - on every other instance when the change's PostgreSQL NOTIFY arrives (milliseconds), and
 *   entirely whenever the listening connection had to reconnect;
 * - in any case after the TTL (settings.clientCacheTtlSeconds, default 5 s), which is the bound
 *   on SQLite shared by several processes, and if notifications are lost.
 * So a record deleted or changed anywhere stops being used everywhere within the TTL at most.
 */
import type { StoreChange } from '../../store/store.js';
import { BoundedCache } from './bounded-cache.js';

/** Entries kept per cache and instance at most (by default); the least recently used go first. */
export const STORE_CACHE_MAX_ENTRIES = 10_000;

export interface StoreCacheOptions {
  ttlMs: number;
  maxEntries?: number;
  clock?: () => number;
}

/** The store changes that name one record: `field` of a change of `kind`. */
type KeyedChange = Extract<StoreChange, { kind: 'client' } | { kind: 'resource' }>;

/** StoreCache's `changedKey` for the records a change of `kind` names by `field`. */
export function changedKey<K extends KeyedChange['kind']>(
  kind: K,
  field: Exclude<keyof Extract<KeyedChange, { kind: K }>, 'kind'>,
): (change: StoreChange) => string | undefined {
  return (change) => (change.kind === kind ? (change as Record<string, string>)[field as string] : undefined);
}

export class StoreCache<V> {
  private readonly cache: BoundedCache<string, V>;
  private readonly inFlight = new Map<string, Promise<V | undefined>>();

  /**
   * @param load Reads one record from the store.
   * @param changedKey The key of the record a store change concerns, if it concerns this cache.
   */
  constructor(
    private readonly load: (key: string) => Promise<V | undefined>,
    private readonly changedKey: (change: StoreChange) => string | undefined,
    options: StoreCacheOptions | { shared: BoundedCache<string, V> },
  ) {
    this.cache =
      'shared' in options
        ? options.shared
        : new BoundedCache(options.maxEntries ?? STORE_CACHE_MAX_ENTRIES, options.ttlMs, options.clock);
  }

  /**
   * This cache (the same entries), reading misses with `load` instead: inside a transaction,
   * misses must be read through the transaction's store. On SQLite an open transaction holds the
   * only connection, and a read through the root store would wait for it forever.
   */
  readingWith(load: (key: string) => Promise<V | undefined>): StoreCache<V> {
    return new StoreCache(load, this.changedKey, { shared: this.cache });
  }

  get size(): number {
    return this.cache.size;
  }

  get ttlMs(): number {
    return this.cache.ttlMs;
  }

  /** The record, from the cache or the store. Unknown keys are not cached: a new record works at once. */
  get(key: string): Promise<V | undefined> {
    const cached = this.cache.get(key);
    if (cached) return Promise.resolve(cached);
    // Concurrent requests for one record share one read.
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const epoch = this.cache.epoch;
    const loading: Promise<V | undefined> = this.load(key)
      .then((value) => {
        if (value) this.cache.set(key, value, epoch);
        return value;
      })
      .finally(() => {
        if (this.inFlight.get(key) === loading) this.inFlight.delete(key);
      });
    this.inFlight.set(key, loading);
    return loading;
  }

  /** Reads the store, bypassing (and refreshing) the cache: for checks that must not be stale. */
  async fresh(key: string): Promise<V | undefined> {
    this.invalidate(key);
    return this.get(key);
  }

  invalidate(key: string): void {
    this.cache.delete(key);
    this.inFlight.delete(key);
  }

  clear(): void {
    this.cache.clear();
    this.inFlight.clear();
  }

  /** Applies a store change announcement. */
  apply(change: StoreChange): void {
    const key = this.changedKey(change);
    if (key !== undefined) this.invalidate(key);
  }
}
