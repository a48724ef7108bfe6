/**
 * Kysely typings of the database tables created by the migrations (src/store/migration-history.ts).
 *
 * The column representation is chosen to be identical on SQLite and PostgreSQL, so that one
 * query code path serves both:
 * - times are integer milliseconds since the epoch (BIGINT on PostgreSQL, parsed to `number`
 *   by the pool's int8 type parser, see src/store/open-store.ts);
 * - booleans are integers 0/1;
 * - arrays and structured values are JSON text.
 */

import type { Generated } from 'kysely';

/** An integer 0 or 1 standing for a boolean. */
export type IntBool = 0 | 1;

/** JSON text; the comment on each column says what it decodes to. */
export type JsonText = string;

export interface ClientsTable {
  client_id: string;
  client_secret_hash: string | null;
  client_name: string | null;
  /** JSON string[] */
  redirect_uris: JsonText;
  /** JSON string[] */
  grant_types: JsonText;
  /** JSON string[] */
  response_types: JsonText;
  token_endpoint_auth_method: string;
  /** Space-separated scopes (kept in the protocol's own representation). */
  scope: string;
  require_pkce: IntBool;
  /** 'ES256' | 'RS256' | null (the server default); added by migration 0003. */
  id_token_signed_response_alg: string | null;
  /** Null: the server's id_token_claims_default; added by migration 0008. */
  id_token_claims: IntBool | null;
  /** 'public' | 'pairwise'; added by migration 0005 with default 'public'. */
  subject_type: string;
  /** JSON string[]; added by migration 0004 with default '[]'. */
  post_logout_redirect_uris: JsonText;
  /** Added by migration 0004. */
  backchannel_logout_uri: string | null;
  /** Added by migration 0004 with default 0. */
  backchannel_logout_session_required: IntBool;
  /** JSON string[]; added by migration 0012 with default '[]'. */
  token_exchange_resources: JsonText;
  /** Added by migration 0013 with default 0. */
  dpop_bound_access_tokens: IntBool;
  /** RFC 9126 §6; added by migration 0011 with default 0. */
  require_pushed_authorization_requests: IntBool;
  /** RFC 9101 §10.5 / OIDC Dynamic Client Registration §2; added by migration 0016. */
  request_object_signing_alg: string | null;
  /** RFC 9101 §10.5; added by migration 0016 with default 0. */
  require_signed_request_object: IntBool;
  /** 'fapi2' or null (the server's profile); added by migration 0017. */
  profile: string | null;
  /** The row of a Client ID Metadata Document's client; added by migration 0015. */
  metadata_document: IntBool;
  created_at: number;
  /** JSON JWK Set (public keys) for private_key_jwt; added by migration 0010. */
  jwks: JsonText | null;
  /** Added by migration 0010. */
  jwks_uri: string | null;
  /** Added by migration 0010. */
  token_endpoint_auth_signing_alg: string | null;
  /** The client_secret_jwt secret sealed with a server key (compact JWE); added by migration 0010. */
  client_secret_sealed: string | null;
  /** 'operator' | 'dynamic' (RFC 7591 POST /register); added by migration 0014 with default 'operator'. */
  registration_kind: string;
}

export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  email: string | null;
  name: string | null;
  /** JSON object of OIDC Core §5.1 claims; added by migration 0003 with default '{}'. */
  claims: JsonText;
  created_at: number;
  /** When the user was disabled (cannot sign in); NULL when enabled. Added by migration 0018. */
  disabled_at: number | null;
  /** 1 when the user holds the admin role (admin API); NULL or 0 otherwise. Added by migration 0020. */
  admin: IntBool | null;
}

export interface SessionsTable {
  id_hash: string;
  /** Public session id; added by migration 0003 (null only for rows written by older code). */
  sid: string | null;
  user_id: string;
  auth_time: number;
  created_at: number;
  expires_at: number;
  /** Added by migration 0024. */
  user_agent: string | null;
  /** Added by migration 0024. */
  last_seen_at: number | null;
}

export interface InteractionsTable {
  id: string;
  flow_id: string;
  client_id: string;
  /** JSON StoredAuthorizationRequest */
  request: JsonText;
  browser_binding_hash: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
  /** Added by migration 0019. */
  typed_username: string | null;
}

export interface ConsentsTable {
  user_id: string;
  client_id: string;
  /** JSON string[] */
  scopes: JsonText;
  granted_at: number;
}

export interface GrantsTable {
  id: string;
  flow_id: string;
  client_id: string;
  user_id: string | null;
  /** JSON string[] */
  scope: JsonText;
  /** The session's public id; added by migration 0003. */
  sid: string | null;
  created_at: number;
  revoked_at: number | null;
  /**
   * The terms of the grant's refresh token family (migration 0028), null for a grant that
   * started none yet: JSON string[] (RFC 8707 resources), and the sign-in time.
   */
  resources: JsonText | null;
  auth_time: number | null;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  grant_id: string;
  flow_id: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  redirect_uri_provided: IntBool;
  /** JSON string[] */
  scope: JsonText;
  code_challenge: string | null;
  code_challenge_method: string | null;
  nonce: string | null;
  /** JSON string[] (RFC 8707 resources); added by migration 0002 with default '[]'. */
  resources: JsonText;
  auth_time: number;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
  /** RFC 9449 §10 dpop_jkt; added by migration 0016. */
  dpop_jkt: string | null;
}

/** Migration 0009 (RFC 8628). */
export interface DeviceCodesTable {
  device_code_hash: string;
  user_code_hash: string;
  flow_id: string;
  client_id: string;
  /** JSON string[] */
  scope: JsonText;
  /** JSON string[] (RFC 8707 resources) */
  resources: JsonText;
  /** 'pending' | 'approved' | 'denied' */
  status: string;
  user_id: string | null;
  sid: string | null;
  auth_time: number | null;
  interval_seconds: number;
  last_polled_at: number | null;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface AccessTokensTable {
  jti: string;
  grant_id: string | null;
  flow_id: string | null;
  client_id: string;
  user_id: string | null;
  /** JSON string[] */
  scope: JsonText;
  /** JSON string[] */
  audience: JsonText;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  /** JSON Actor (RFC 8693 §4.1), null unless the token came from a token exchange; added by migration 0012. */
  act: JsonText | null;
  /** RFC 9449 cnf.jkt; added by migration 0013. */
  dpop_jkt: string | null;
}

/**
 * What changes per token of a family (migration 0028); the family's grant, client, user, scope,
 * resources and auth time are its grant's (GrantsTable).
 */
export interface RefreshTokensTable {
  token_hash: string;
  grant_id: string;
  created_at: number;
  expires_at: number;
  /** The family's, kept on each token for the cleanup's index of rotated tokens. */
  family_expires_at: number;
  rotated_at: number | null;
  successor_hash: string | null;
  successor_encrypted: string | null;
  /** RFC 9449 §5 key binding of a public client's family; added by migration 0013. */
  dpop_jkt: string | null;
}

export interface ProtectedResourcesTable {
  identifier: string;
  name: string | null;
  /** JSON string[] */
  scopes: JsonText;
  /** JSON string[] */
  introspection_client_ids: JsonText;
  created_at: number;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk_encrypted: string;
  created_at: number;
  activates_at: number;
  retired_at: number | null;
}

/** Back-Channel Logout 1.0 deliveries; created by migration 0004. */
export interface LogoutDeliveriesTable {
  id: string;
  client_id: string;
  uri: string;
  logout_token: string;
  attempts: number;
  /** Null once delivered or given up. */
  next_attempt_at: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

/**
 * Attempt counters of the brute-force limits (src/core/limits/attempt-limits.ts); created by migration 0006.
 * One row per limited subject, e.g. `login_username:alice` or `client_ip:203.0.113.7`.
 */
export interface RateLimitsTable {
  key: string;
  /** Attempts counted since the row was last forgotten. */
  attempts: number;
  /** When the last attempt was counted. */
  last_at: number;
  /** No attempt is allowed before this time (a time in the past: not blocked). */
  blocked_until: number;
  /** The counter is forgotten from this time on (and the row may be purged). */
  expires_at: number;
}

/** Single-use JWT ids (src/store/repositories/replay-repository.ts); created by migration 0010. */
export interface UsedJtisTable {
  /** What the id was used for, e.g. `client_assertion`. */
  purpose: string;
  /** SHA-256 of purpose and id: the id itself is never stored. */
  jti_hash: string;
  /** The JWT's `exp`: the row may go from then on. */
  expires_at: number;
}

/** The audit trail (src/core/audit/audit-trail.ts); created by migration 0006. */
export interface AuditEventsTable {
  /** Generated: increases with every insert (SQLite rowid, PostgreSQL bigserial). */
  id: Generated<number>;
  at: number;
  type: string;
  flow_id: string | null;
  client_id: string | null;
  user_id: string | null;
  /** The username as typed (failed logins) or of the user the event is about. */
  username: string | null;
  ip: string | null;
  /** JSON object: the rest of the event. */
  details: JsonText;
}

/** RFC 9126 pushed authorization requests; created by migration 0011. */
export interface PushedAuthorizationRequestsTable {
  /** SHA-256 of the request_uri. */
  request_uri_hash: string;
  client_id: string;
  /** JSON [name, value][]: the pushed parameters. */
  parameters: JsonText;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

/** RFC 7592: a self-registered client's registration; created by migration 0014. */
export interface ClientRegistrationsTable {
  client_id: string;
  /** SHA-256 of the registration access token. */
  access_token_hash: string;
  created_at: number;
  last_active_at: number;
}

/** RFC 7591 §3 initial access tokens; created by migration 0014. */
export interface RegistrationTokensTable {
  id: string;
  /** SHA-256 of the token. */
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  uses_left: number | null;
  revoked_at: number | null;
}

/** The flow inspector's steps (src/core/inspector/); created by migration 0022. */
export interface InspectorStepsTable {
  id: string;
  flow_id: string;
  at: number;
  client_id: string | null;
  /** `ok`, `failed` or `info`. */
  outcome: string;
  /** JSON object: the step as the inspector draws it (secrets only as short hashes). */
  data: JsonText;
  expires_at: number;
}

/** Links from a token's jti, or a hashed interaction id or code, to its flow; created by migration 0022. */
export interface InspectorLinksTable {
  key: string;
  flow_id: string;
  expires_at: number;
}

export interface MigrationsTable {
  name: string;
  applied_at: number;
}

export interface Database {
  clients: ClientsTable;
  users: UsersTable;
  sessions: SessionsTable;
  interactions: InteractionsTable;
  consents: ConsentsTable;
  grants: GrantsTable;
  authorization_codes: AuthorizationCodesTable;
  device_codes: DeviceCodesTable;
  access_tokens: AccessTokensTable;
  refresh_tokens: RefreshTokensTable;
  protected_resources: ProtectedResourcesTable;
  signing_keys: SigningKeysTable;
  logout_deliveries: LogoutDeliveriesTable;
  rate_limits: RateLimitsTable;
  used_jtis: UsedJtisTable;
  audit_events: AuditEventsTable;
  pushed_authorization_requests: PushedAuthorizationRequestsTable;
  client_registrations: ClientRegistrationsTable;
  registration_tokens: RegistrationTokensTable;
  inspector_steps: InspectorStepsTable;
  inspector_links: InspectorLinksTable;
  gatehouse_migrations: MigrationsTable;
}

export type Dialect = 'sqlite' | 'postgres';
