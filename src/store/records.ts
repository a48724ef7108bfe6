/**
 * The records the store keeps and hands out (clients, users, sessions, codes, tokens, keys,
 * logout deliveries, limits, audit events) and the few shapes shared by the store's parts (pool
 * statistics, change notifications). Plain data types: the repositories in
 * src/store/repositories/ map them to rows, and src/store/store.ts re-exports them with the
 * Store interface, so the repositories depend on this file and never on store.ts (no cycle).
 *
 * Conventions: every time is an integer count of milliseconds since the Unix epoch; secrets are
 * never stored in clear (the caller passes a hash, and lookups are by hash).
 */
export type TokenEndpointAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'none';

/** RFC 7517 §5: a JWK Set; the keys are public JWKs (RFC 7517 §4), checked at registration. */
export interface JwkSet {
  keys: Array<Record<string, unknown>>;
}

export interface Client {
  clientId: string;
  /** Hash of the secret (see src/core/secrets.ts); null for public clients. */
  clientSecretHash: string | null;
  clientName: string | null;
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Space-separated scopes this client may request. */
  scope: string;
  /** RFC 9700 §2.1.1: PKCE is required unless a confidential client opted out. */
  requirePkce: boolean;
  /**
   * OpenID Connect Dynamic Client Registration §2 `id_token_signed_response_alg`: the JWS
   * algorithm of this client's ID tokens; null means the server's `id_token_signed_response_alg_default` (RS256).
   */
  idTokenSignedResponseAlg: 'ES256' | 'RS256' | null;
  /**
   * Whether this client's ID tokens carry the user's claims its granted scopes release (OIDC
   * Core §5.4: profile, email, address, phone), besides UserInfo. Absent: the server's
   * `id_token_claims_default` (stored as NULL).
   */
  idTokenClaims?: boolean;
  /**
   * OpenID Connect Core §8: `public` (sub is the user id) or `pairwise` (sub differs per sector;
   * see src/core/users/subject-identifiers.ts).
   */
  subjectType: 'public' | 'pairwise';
  /**
   * OpenID Connect RP-Initiated Logout 1.0 §3.1: where the browser may be sent after a logout
   * (`post_logout_redirect_uri` must match one of these exactly).
   */
  postLogoutRedirectUris: string[];
  /** OpenID Connect Back-Channel Logout 1.0 §2.2: where logout tokens are POSTed; null for none. */
  backchannelLogoutUri: string | null;
  /** Back-Channel Logout 1.0 §2.2: whether the client needs `sid` in logout tokens. */
  backchannelLogoutSessionRequired: boolean;
  /**
   * RFC 8693 policy (a Gatehouse metadata extension, `token_exchange_resources`): the registered
   * resources this client may get tokens for by exchanging a user's access token. Empty: none.
   */
  tokenExchangeResources: string[];
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: the client must send a DPoP proof with every token request. */
  dpopBoundAccessTokens: boolean;
  /** RFC 7591 §2 `jwks`: the client's public keys (private_key_jwt, RFC 7523 §2.2); null for none. */
  jwks: JwkSet | null;
  /** RFC 7591 §2 `jwks_uri`: where the client publishes its public keys (https); null for none. */
  jwksUri: string | null;
  /**
   * OpenID Connect Dynamic Client Registration §2 `token_endpoint_auth_signing_alg`: the only JWS
   * algorithm accepted for this client's assertions; null: any the server supports for its method.
   */
  tokenEndpointAuthSigningAlg: string | null;
  /**
   * client_secret_jwt (OIDC Core §9): the client secret sealed under a key derived from
   * GATEHOUSE_SECRET (src/core/clients/client-secret-seal.ts), since verifying the HMAC needs the
   * secret itself; null for every other method.
   */
  clientSecretSealed: string | null;
  /**
   * RFC 9126 §6 `require_pushed_authorization_requests`: this client's authorization requests
   * must come through the pushed authorization request endpoint.
   */
  requirePushedAuthorizationRequests: boolean;
  createdAt: number;
}

export interface User {
  id: string;
  username: string;
  /** argon2id PHC string. */
  passwordHash: string;
  /** OIDC Core §5.1 `email`. */
  email: string | null;
  /** OIDC Core §5.1 `name`. */
  name: string | null;
  /**
   * The other OpenID Connect Core §5.1 standard claims of the user (given_name, family_name,
   * email_verified, phone_number, phone_number_verified, address, updated_at, ...), as JSON
   * values. `name` and `email` live in their own fields above, which win over any `name` or
   * `email` key here (see src/core/users/user-claims.ts).
   */
  claims: Record<string, unknown>;
  createdAt: number;
}

/** A single sign-on session of one browser. */
export interface Session {
  /** SHA-256 of the session cookie value. */
  idHash: string;
  /**
   * A stable, public identifier of this session (OpenID Connect Front-/Back-Channel Logout
   * `sid`), random and unrelated to the cookie value; sent in ID tokens.
   */
  sid: string;
  userId: string;
  /** When the user last authenticated (OIDC `auth_time`). */
  authTime: number;
  createdAt: number;
  expiresAt: number;
}

/**
 * A validated authorization request waiting for the resource owner (login and/or consent).
 * It is bound to the browser that started it (`browserBindingHash`, the hash of a cookie value)
 * so that no other browser can complete it.
 */
export interface Interaction {
  id: string;
  flowId: string;
  clientId: string;
  /** The validated authorization request, as JSON-serializable data. */
  request: StoredAuthorizationRequest;
  browserBindingHash: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

export interface StoredAuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** Whether redirect_uri was present in the request (RFC 6749 §4.1.3 then requires it at the token endpoint). */
  redirectUriProvided: boolean;
  scope: string[];
  state: string | null;
  responseMode: 'query' | 'form_post';
  codeChallenge: string | null;
  codeChallengeMethod: 'S256' | null;
  nonce: string | null;
  /** OpenID Connect Core §3.1.2.1 `prompt` values (login, consent, ...). */
  prompt: string[];
  /** OpenID Connect Core §3.1.2.1 `login_hint`, pre-filled into the login form. */
  loginHint: string | null;
  /** OpenID Connect Core §3.1.2.1 `max_age` in seconds; null when not requested. */
  maxAge: number | null;
  /** `sub` of a valid OpenID Connect Core §3.1.2.1 `id_token_hint`; null when none was sent. */
  idTokenHintSub: string | null;
  /** OpenID Connect Core §3.1.2.1 `ui_locales`, in order of preference (BCP 47 tags). */
  uiLocales: string[];
  /** RFC 8707 resource indicators the client asked for (registered resources only). */
  resources: string[];
}

export interface Consent {
  userId: string;
  clientId: string;
  scopes: string[];
  grantedAt: number;
}

/**
 * One authorization: what a user granted a client in one flow. Codes and tokens issued in the
 * flow point at it, so revoking the grant revokes all of them at once (RFC 6749 §4.1.2).
 */
export interface Grant {
  id: string;
  flowId: string;
  clientId: string;
  userId: string | null;
  scope: string[];
  /** `sid` of the single sign-on session the user authorized in; null without a user. */
  sid: string | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface AuthorizationCode {
  /** SHA-256 of the code. */
  codeHash: string;
  grantId: string;
  flowId: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  redirectUriProvided: boolean;
  scope: string[];
  codeChallenge: string | null;
  codeChallengeMethod: 'S256' | null;
  nonce: string | null;
  /** RFC 8707 resources authorized in the authorization request. */
  resources: string[];
  authTime: number;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
}

/**
 * A device authorization (RFC 8628 §3.1-3.2): the device code the device polls with and the user
 * code the user enters, both stored hashed, and the user's decision once made.
 */
export interface DeviceCode {
  /** SHA-256 of the device code. */
  deviceCodeHash: string;
  /** SHA-256 of the normalised user code (src/core/device/user-code.ts). */
  userCodeHash: string;
  flowId: string;
  clientId: string;
  scope: string[];
  /** RFC 8707 resources named in the device authorization request. */
  resources: string[];
  status: DeviceCodeStatus;
  /** Who approved (or denied) it, in which session, signed in when; null while pending. */
  userId: string | null;
  sid: string | null;
  authTime: number | null;
  /** RFC 8628 §3.5: the polling interval, raised by every slow_down. */
  intervalSeconds: number;
  lastPolledAt: number | null;
  createdAt: number;
  expiresAt: number;
  /** When tokens were issued for it (once only). */
  consumedAt: number | null;
}

export type DeviceCodeStatus = 'pending' | 'approved' | 'denied';

/** The user's answer at the verification page (RFC 8628 §3.3). */
export type DeviceDecision =
  | { status: 'approved'; userId: string; sid: string; authTime: number }
  | { status: 'denied'; userId: string };

/** `used`: tokens were issued for this device code already. */
export type ConsumeDeviceCodeResult = OneTimeUseResult<'consumed', 'used', 'code', DeviceCode>;

/**
 * A refresh token (RFC 6749 §6). Every refresh token belongs to the family of one authorization,
 * identified by its grant: revoking the grant revokes the family and the access tokens issued
 * from it. Rotation (RFC 9700 §4.14.2) replaces the token at every use with a successor.
 */
export interface RefreshTokenRecord {
  /** SHA-256 of the token. */
  tokenHash: string;
  grantId: string;
  flowId: string;
  clientId: string;
  userId: string | null;
  /** The scope originally granted (a refresh may ask for less, never more). */
  scope: string[];
  /** RFC 8707 resources authorized for the family. */
  resources: string[];
  authTime: number | null;
  createdAt: number;
  /** Idle expiry of this token: never later than familyExpiresAt. */
  expiresAt: number;
  /** Absolute end of the family's life, fixed when the authorization happened. */
  familyExpiresAt: number;
  rotatedAt: number | null;
  successorHash: string | null;
  /**
   * The successor token itself, encrypted at rest (compact JWE under the instance key), so that
   * a retry of the same rotation within the grace window can be answered with the same successor.
   */
  successorEncrypted: string | null;
  /**
   * RFC 9449 §5: the SHA-256 thumbprint of the DPoP key a public client's family is bound to;
   * every refresh must prove that key. Absent: not bound.
   */
  dpopJkt?: string;
}

/**
 * What a one-time use of a stored record (an authorization code, a refresh token) returns, decided
 * by one conditional statement: `Won` for the one caller that used it, `Lost` with the record as
 * it is now for every other (it was used before: a retry, a parallel request, or a replay), or
 * `not_found`.
 */
type OneTimeUseResult<Won extends string, Lost extends string, Key extends string, R> =
  | ({ status: Won } & { [K in Key]: R })
  | ({ status: Lost } & { [K in Key]: R })
  | { status: 'not_found' };

/** `rotated`: this caller rotated the token and its successor has been stored. */
export type RotateRefreshTokenResult = OneTimeUseResult<'rotated', 'already_rotated', 'token', RefreshTokenRecord>;

/** A protected resource (RFC 8707 resource indicator, RFC 9728 resource). */
export interface ProtectedResource {
  /** The resource indicator: an absolute URI without a fragment (RFC 8707 §2). */
  identifier: string;
  name: string | null;
  /** Scopes this resource offers. */
  scopes: string[];
  /** Clients (the resource server's own credentials) allowed to introspect its tokens. */
  introspectionClientIds: string[];
  createdAt: number;
}

/** A record of an issued access token (JWT or opaque), kept for revocation and introspection. */
export interface AccessTokenRecord {
  jti: string;
  grantId: string | null;
  flowId: string | null;
  clientId: string;
  userId: string | null;
  scope: string[];
  audience: string[];
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  /** RFC 8693 §4.1: who acts for the subject, when the token came from a token exchange. */
  act?: Actor;
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to (`cnf.jkt`). Absent: a bearer token. */
  dpopJkt?: string;
}

/**
 * RFC 8693 §4.1 `act`: the party acting for the token's subject, identified by `sub` (a client
 * id, or a user as the acting client sees it); earlier actors nest inside, the least recent the
 * deepest.
 */
export interface Actor {
  sub: string;
  act?: Actor;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** Public JWK as JSON text. */
  publicJwk: string;
  /** Private JWK encrypted at rest (compact JWE, see src/core/keys/signing-key-crypto.ts). */
  privateJwkEncrypted: string;
  createdAt: number;
  /** When the key starts being used for signing; it is published in the JWKS from createdAt. */
  activatesAt: number;
  retiredAt: number | null;
}

/**
 * A queued Back-Channel Logout 1.0 delivery: one logout token for one client. Due while
 * `nextAttemptAt` is set and has passed; `nextAttemptAt` is null once the token was delivered
 * (`deliveredAt`) or the attempts ran out (a failed delivery).
 */
export interface LogoutDelivery {
  id: string;
  clientId: string;
  /** The client's backchannel_logout_uri when the logout happened. */
  uri: string;
  /** The logout token last sent (or to be sent); re-signed when a retry finds it expired. */
  logoutToken: string;
  /** Attempts started so far; an attempt counts from the moment a worker claims it. */
  attempts: number;
  nextAttemptAt: number | null;
  /** Why the last failed attempt failed (kept after a later success, as history). */
  lastError: string | null;
  deliveredAt: number | null;
  createdAt: number;
}

/** What a worker records when its attempt ends. */
export type LogoutDeliveryOutcome = Pick<LogoutDelivery, 'deliveredAt' | 'nextAttemptAt' | 'lastError' | 'logoutToken'>;

/**
 * How one limited subject (a username, a client, an IP address) is counted: see
 * src/core/limits/attempt-limits.ts, which builds these from the `limits` settings.
 */
export interface RateLimitPolicy {
  /** A counter not touched for this long is forgotten (counting starts again at 1). */
  forgetAfterMs: number;
  /** How long the subject is blocked after its `attempts`-th counted attempt (0: not at all). */
  blockMs(attempts: number): number;
}

export interface RateLimitState {
  key: string;
  attempts: number;
  /** Blocked while this is later than now. */
  blockedUntil: number;
}

export type RateLimitHitResult =
  /** Counted; `states` in the order of the entries passed. */
  | { counted: true; states: RateLimitState[] }
  /** Refused: a key was blocked (only with `unlessBlocked`); nothing was counted. */
  | { counted: false; blockedUntil: number };

/** One entry of the audit trail. */
export interface AuditEvent {
  /** Assigned by the store, increasing; absent when inserting. */
  id?: number;
  at: number;
  type: string;
  flowId: string | null;
  clientId: string | null;
  userId: string | null;
  /** The username typed at a login (also an unknown one), or of the user concerned. */
  username: string | null;
  ip: string | null;
  /** The rest of the event (never a password, secret, code or token). */
  details: Record<string, unknown>;
}

export interface AuditFilter {
  types?: string[];
  clientId?: string;
  /** Events whose username or user id is one of these. */
  users?: string[];
  /** Only events at or after this time. */
  since?: number;
  limit: number;
}

/** `replayed`: the code exists but was already consumed, a replay (RFC 6749 §4.1.2). */
export type ConsumeCodeResult = OneTimeUseResult<'consumed', 'replayed', 'code', AuthorizationCode>;

/**
 * An authorization request pushed to the PAR endpoint (RFC 9126 §2), waiting for its one use at
 * the authorization endpoint (§4). Bound to the client that pushed it (§2.2).
 */
export interface PushedAuthorizationRequest {
  /** SHA-256 of the request_uri. */
  requestUriHash: string;
  clientId: string;
  /** The pushed authorization request parameters, in order (client authentication left out). */
  parameters: Array<[string, string]>;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
}

/**
 * `consumed`: this caller is the one use. Else, for the request as it is now: `other_client`,
 * pushed by another client (left untouched); `replayed`, used before; `expired`.
 */
export type ConsumePushedRequestResult = OneTimeUseResult<
  'consumed',
  'other_client' | 'replayed' | 'expired',
  'request',
  PushedAuthorizationRequest
>;

/** A connection pool's state: connections open, of those idle, and queries waiting for one. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * A change to data that instances cache in memory (src/core/cache/store-cache.ts, the key ring),
 * announced to every instance so that each drops its copy: at once in the process that made the
 * change, and through PostgreSQL LISTEN/NOTIFY to the other processes sharing the database.
 */
export type StoreChange =
  /** A client was created, replaced or deleted. */
  | { kind: 'client'; clientId: string }
  /** A protected resource was registered, replaced or deleted. */
  | { kind: 'resource'; identifier: string }
  /** A signing key was created or retired. */
  | { kind: 'signing_keys' };

export interface StoreChangeListener {
  onChange(change: StoreChange): void;
  /**
   * The notification connection was (re)established: changes made while it was down were not
   * seen, so every cached copy must be dropped. Called after every successful connect.
   */
  onReset(): void;
  /** The notification connection failed; it is retried by itself (with a growing delay). */
  onError?(error: unknown): void;
}
