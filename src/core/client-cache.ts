/**
 * Clients, looked up on every token, revocation, introspection and authorization request, are
 * cached in memory per instance (bounded, with a TTL), and dropped when they change:
 * - in the process that changed them at once (the store announces its own changes);
 * - on every other instance when the change's PostgreSQL NOTIFY arrives (milliseconds), and
 *   entirely whenever the listening connection had to reconnect;
 * - in any case after the TTL (settings.clientCacheTtlSeconds, default 5 s), which is the bound
 *   on SQLite shared by several processes, and if notifications are lost.
 * So a client deleted or changed anywhere stops being used everywhere within the TTL at most.
 */
import type { Client, Store, StoreChange } from '../store/store.js';
import { BoundedCache } from './cache.js';

/** Clients kept per instance at most; the least recently used go first. */
export const CLIENT_CACHE_MAX_ENTRIES = 10_000;

export class ClientCache {
  private readonly cache: BoundedCache<string, Client>;
  private readonly inFlight = new Map<string, Promise<Client | undefined>>();

  constructor(
    private readonly store: Pick<Store, 'clients'>,
    options: { ttlMs: number; maxEntries?: number; clock?: () => number },
  ) {
    this.cache = new BoundedCache(options.maxEntries ?? CLIENT_CACHE_MAX_ENTRIES, options.ttlMs, options.clock);
  }

  get size(): number {
    return this.cache.size;
  }

  get ttlMs(): number {
    return this.cache.ttlMs;
  }

  /** The client, from the cache or the store. Unknown ids are not cached: a new client works at once. */
  get(clientId: string): Promise<Client | undefined> {
    const cached = this.cache.get(clientId);
    if (cached) return Promise.resolve(cached);
    // Concurrent requests of one client share one read.
    const pending = this.inFlight.get(clientId);
    if (pending) return pending;
    const epoch = this.cache.epoch;
    const load: Promise<Client | undefined> = this.store.clients
      .get(clientId)
      .then((client) => {
        if (client) this.cache.set(clientId, client, epoch);
        return client;
      })
      .finally(() => {
        if (this.inFlight.get(clientId) === load) this.inFlight.delete(clientId);
      });
    this.inFlight.set(clientId, load);
    return load;
  }

  /** Reads the store, bypassing (and refreshing) the cache: for checks that must not be stale. */
  async fresh(clientId: string): Promise<Client | undefined> {
    this.invalidate(clientId);
    return this.get(clientId);
  }

  invalidate(clientId: string): void {
    this.cache.delete(clientId);
    this.inFlight.delete(clientId);
  }

  clear(): void {
    this.cache.clear();
    this.inFlight.clear();
  }

  /** Applies a store change announcement. */
  apply(change: StoreChange): void {
    if (change.kind === 'client') this.invalidate(change.clientId);
  }
}
