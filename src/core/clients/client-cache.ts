/**
 * Clients, looked up on every token, revocation, introspection and authorization request, are
 * cached per instance and invalidated across instances (see ./store-cache.ts for how, the bound
 * on staleness, and the size bound).
 */
import type { Client, Store } from '../../store/store.js';
import { changedKey, StoreCache, type StoreCacheOptions } from '../cache/store-cache.js';

export class ClientCache extends StoreCache<Client> {
  constructor(store: Pick<Store, 'clients'>, options: StoreCacheOptions) {
    super((clientId) => store.clients.get(clientId), changedKey('client', 'clientId'), options);
  }
}
