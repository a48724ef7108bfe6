/**
 * The resolved settings of one Gatehouse instance. Built by src/config/resolve-settings.ts from
 * (in order of precedence) CLI flags, environment variables, the config file and defaults.
 */
import type { TokenEndpointAuthMethod } from '../store/store.js';

export interface ClientFixture {
  client_id: string;
  /** When absent for a confidential client, the client cannot authenticate until one is set. */
  client_secret?: string;
  client_name?: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  scope: string;
  require_pkce: boolean;
}

export interface UserFixture {
  username: string;
  password: string;
  email?: string;
  name?: string;
}

/** A protected resource (RFC 8707 resource indicator) declared in the config file. */
export interface ResourceFixture {
  /** The resource indicator: an absolute URI without fragment. */
  resource: string;
  name?: string;
  scopes: string[];
  /** Client ids (the resource server's own credentials) allowed to introspect its tokens. */
  introspection_client_ids: string[];
}

export interface GatehouseSettings {
  /** The issuer identifier (RFC 8414 §2): https, or http only on a loopback host. */
  issuer: string;
  port: number;
  host: string;
  /** `sqlite:PATH`, `sqlite::memory:` or `postgres://...`. */
  databaseUrl: string;
  /** Secret from which the key encrypting signing keys at rest is derived. */
  secret: string;
  /** Signing algorithm for new keys. */
  signingAlg: 'ES256' | 'EdDSA';
  /** RFC 9700 §4.2.1 / RFC 6749 §4.1.2: short-lived codes (default 60 s). */
  codeTtlSeconds: number;
  accessTokenTtlSeconds: number;
  /** Lifetime of a single sign-on session. */
  sessionTtlSeconds: number;
  /** How long a user has to log in and consent once an authorization request arrived. */
  interactionTtlSeconds: number;
  /** A refresh token unused for this long expires (its family may live on through its successor). */
  refreshTokenIdleTtlSeconds: number;
  /** A refresh token family ends this long after the authorization, however often it is used. */
  refreshTokenAbsoluteTtlSeconds: number;
  /**
   * A just-rotated refresh token presented again by the same client within this window gets the
   * same successor instead of revoking the family (lost responses, parallel requests). 0 disables.
   */
  refreshTokenGraceSeconds: number;
  /** Fixtures applied idempotently at start. */
  clients: ClientFixture[];
  users: UserFixture[];
  resources: ResourceFixture[];
}

export const DEFAULT_SETTINGS = {
  port: 9001,
  host: 'localhost',
  databaseUrl: 'sqlite:./gatehouse.db',
  signingAlg: 'ES256',
  codeTtlSeconds: 60,
  accessTokenTtlSeconds: 3600,
  sessionTtlSeconds: 8 * 3600,
  interactionTtlSeconds: 600,
  refreshTokenIdleTtlSeconds: 14 * 24 * 3600,
  refreshTokenAbsoluteTtlSeconds: 90 * 24 * 3600,
  refreshTokenGraceSeconds: 10,
} as const satisfies Partial<GatehouseSettings>;
