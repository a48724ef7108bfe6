/**
 * Clients, looked up on every token, revocation, introspection and authorization request, are
 * cached per instance and invalidated across instances (see ./store-cache.ts for how, and the
 * bound on staleness).
 */
import type { Client, Store } from '../store/store.js';
import { StoreCache, type StoreCacheOptions } from './store-cache.js';

/** Clients kept per instance at most; the least recently used go first. */
export const CLIENT_CACHE_MAX_ENTRIES = 10_000;

export class ClientCache extends StoreCache<Client> {
  constructor(store: Pick<Store, 'clients'>, options: StoreCacheOptions) {
    super(
      (clientId) => store.clients.get(clientId),
      (change) => (change.kind === 'client' ? change.clientId : undefined),
      { maxEntries: CLIENT_CACHE_MAX_ENTRIES, ...options },
    );
  }
}
