/**
 * Protected resources (RFC 8707), looked up on every authorization and token request that names
 * one and on every introspection by a resource, are cached per instance and invalidated across
 * instances like clients (see ./store-cache.ts for how, the bound on staleness, and the size bound).
 */
import type { ProtectedResource, Store } from '../../store/store.js';
import { changedKey, StoreCache, type StoreCacheOptions } from '../cache/store-cache.js';

export class ResourceCache extends StoreCache<ProtectedResource> {
  constructor(store: Pick<Store, 'resources'>, options: StoreCacheOptions) {
    super((identifier) => store.resources.get(identifier), changedKey('resource', 'identifier'), options);
  }
}
