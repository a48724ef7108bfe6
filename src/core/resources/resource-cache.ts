/**
 * Protected resources (RFC 8707), looked up on every authorization and token request that names
 * one and on every introspection by a resource, are cached per instance and invalidated across
 * instances like clients (see ./store-cache.ts for how, the bound on staleness, and the size bound).
 *
 * Built-in resources (the admin API, src/core/admin/admin-access.ts) are never stored: `builtIn`
 * answers for them first, also inside transactions (readingWith).
 */
import type { ProtectedResource, Store } from '../../store/store.js';
import { changedKey, StoreCache, type StoreCacheOptions } from '../cache/store-cache.js';

type BuiltIn = (identifier: string) => ProtectedResource | undefined;

function withBuiltIn(builtIn: BuiltIn, load: (identifier: string) => Promise<ProtectedResource | undefined>) {
  return (identifier: string): Promise<ProtectedResource | undefined> => {
    const resource = builtIn(identifier);
    return resource !== undefined ? Promise.resolve(resource) : load(identifier);
  };
}

export class ResourceCache extends StoreCache<ProtectedResource> {
  private readonly builtIn: BuiltIn;

  constructor(store: Pick<Store, 'resources'>, options: StoreCacheOptions, builtIn: BuiltIn = () => undefined) {
    super(
      withBuiltIn(builtIn, (identifier) => store.resources.get(identifier)),
      changedKey('resource', 'identifier'),
      options,
    );
    this.builtIn = builtIn;
  }

  override readingWith(
    load: (identifier: string) => Promise<ProtectedResource | undefined>,
  ): StoreCache<ProtectedResource> {
    return super.readingWith(withBuiltIn(this.builtIn, load));
  }
}
