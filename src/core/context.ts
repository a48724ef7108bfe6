/**
 * What every protocol handler depends on. Handlers are framework-free: they take parsed input
 * and this context, and return a result or throw an OAuthError.
 */
import type { GatehouseSettings } from '../config/settings.js';
import type { Client, ProtectedResource, Store } from '../store/store.js';
import type { EventBus } from './events.js';
import type { KeyRing } from './keys/key-ring.js';
import type { SubjectIdentifiers } from './users/subject-identifiers.js';
import type { StoreCache } from './cache/store-cache.js';

export interface ProviderContext {
  settings: GatehouseSettings;
  store: Store;
  keys: KeyRing;
  /** Clients, cached per instance and invalidated across instances (src/core/clients/client-cache.ts). */
  clients: StoreCache<Client>;
  /** Protected resources (RFC 8707), cached like clients (src/core/resources/resource-cache.ts). */
  resources: StoreCache<ProtectedResource>;
  events: EventBus;
  /** OIDC Core §8: the `sub` each client sees for a user (public or pairwise). */
  subjects: SubjectIdentifiers;
  /** Milliseconds since the epoch; replaceable in tests. */
  now(): number;
}

export const ENDPOINT_PATHS = {
  authorization: '/authorize',
  token: '/token',
  revocation: '/revoke',
  introspection: '/introspect',
  jwks: '/jwks',
  /** OpenID Connect RP-Initiated Logout 1.0 end_session_endpoint. */
  endSession: '/logout',
  userinfo: '/userinfo',
  interaction: '/interaction',
} as const;
