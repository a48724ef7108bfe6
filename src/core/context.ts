/**
 * What the protocol handlers depend on. Handlers are framework-free: they take parsed input and
 * their dependencies, and return a result or throw an OAuthError.
 *
 * The HTTP layer and the server hold one ProviderContext and pass it whole; each handler declares
 * the part it uses (fosite style), next to it: the members of ProviderContext it reads and the
 * repositories of the store it touches, e.g.
 * `Pick<ProviderContext, 'settings' | 'now'> & { store: Pick<Store, 'codes' | 'grants'> }`. The
 * full context satisfies every such type, and a handler's signature tells what it reads and writes.
 */
import type { GatehouseSettings } from '../config/settings.js';
import type { Client, ProtectedResource, Store } from '../store/store.js';
import type { EventBus } from './events.js';
import type { KeyRing } from './keys/key-ring.js';
import type { SubjectIdentifiers } from './users/subject-identifiers.js';
import type { UserDirectory } from './users/user-directory.js';
import type { StoreCache } from './cache/store-cache.js';
import type { ClientJwksCache } from './clients/client-jwks.js';
import type { FlowInspector } from './inspector/flow-inspector.js';

export interface ProviderContext {
  settings: GatehouseSettings;
  store: Store;
  keys: KeyRing;
  /** Clients, cached per instance and invalidated across instances (src/core/clients/client-cache.ts). */
  clients: StoreCache<Client>;
  /** The key sets at private_key_jwt clients' jwks_uri, cached per instance (src/core/clients/client-jwks.ts). */
  clientKeys: ClientJwksCache;
  /** Protected resources (RFC 8707), cached like clients (src/core/resources/resource-cache.ts). */
  resources: StoreCache<ProtectedResource>;
  events: EventBus;
  /** Where users are looked up and passwords checked: the store's, or an embedding app's (src/core/users/user-directory.ts). */
  users: UserDirectory;
  /** OIDC Core §8: the `sub` each client sees for a user (public or pairwise). */
  subjects: SubjectIdentifiers;
  /** Milliseconds since the epoch; replaceable in tests. */
  now(): number;
  /** The flow inspector, only while settings.inspector.enabled (absent: nothing is recorded). */
  inspector?: FlowInspector;
}

/**
 * The store's `transaction`, for a handler whose store is narrowed to some repositories
 * (`Pick<Store, ...> & Transactions`): `fn` is given the same narrowed store, bound to the
 * transaction (Store.transaction gives a full Store, which this type narrows back). The full
 * Store satisfies it.
 */
export interface Transactions {
  transaction<T>(fn: (store: this) => Promise<T>): Promise<T>;
}

export const ENDPOINT_PATHS = {
  authorization: '/authorize',
  token: '/token',
  /** RFC 9126 §2 pushed_authorization_request_endpoint. */
  pushedAuthorizationRequest: '/par',
  revocation: '/revoke',
  introspection: '/introspect',
  jwks: '/jwks',
  /** OpenID Connect RP-Initiated Logout 1.0 end_session_endpoint. */
  endSession: '/logout',
  userinfo: '/userinfo',
  interaction: '/interaction',
  /** RFC 8628 §3.1 device_authorization_endpoint. */
  deviceAuthorization: '/device_authorization',
  /** RFC 8628 §3.2 verification_uri: the page where the user enters the user code. */
  deviceVerification: '/device',
  /** RFC 7591 §3 registration_endpoint; RFC 7592 §2: a client's registration_client_uri is below it. */
  registration: '/register',
  /** The End-User's account page: connected applications, sessions, password (src/core/account/). */
  account: '/account',
} as const;
