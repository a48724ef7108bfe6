/**
 * The one store interface. Every piece of state Gatehouse keeps lives behind it, so that any
 * number of identical instances sharing one database act as one server.
 *
 * Two implementations share a single Kysely code path (src/store/kysely-store.ts): SQLite
 * (better-sqlite3, the embedded default) and PostgreSQL (`pg`, production). The contract test
 * suite in test/store/contract.test.ts runs against both.
 *
 * Conventions:
 * - Every time is an integer count of milliseconds since the Unix epoch (`Date.now()` style).
 * - Secrets (codes, session ids, client secrets, browser bindings) are never stored in clear:
 *   the caller passes a hash, and lookups are by hash.
 * - Methods that must be atomic under concurrency say so; they use a single conditional
 *   statement (UPDATE ... WHERE ... RETURNING), never read-then-write.
 */

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

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
   * see src/core/subject.ts).
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
   * `email` key here (see src/core/user-claims.ts).
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
}

export type RotateRefreshTokenResult =
  /** This caller rotated the token; the successor has been stored. */
  | { status: 'rotated'; token: RefreshTokenRecord }
  /** Somebody rotated it before (a retry, a parallel request, or a replay). */
  | { status: 'already_rotated'; token: RefreshTokenRecord }
  | { status: 'not_found' };

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
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** Public JWK as JSON text. */
  publicJwk: string;
  /** Private JWK encrypted at rest (compact JWE, see src/core/keys.ts). */
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
export interface LogoutDeliveryOutcome {
  deliveredAt: number | null;
  nextAttemptAt: number | null;
  lastError: string | null;
  logoutToken: string;
}

/**
 * How one limited subject (a username, a client, an IP address) is counted: see
 * src/core/limits.ts, which builds these from the `limits` settings.
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

export type ConsumeCodeResult =
  | { status: 'consumed'; code: AuthorizationCode }
  /** The code exists but was already consumed: a replay (RFC 6749 §4.1.2). */
  | { status: 'replayed'; code: AuthorizationCode }
  | { status: 'not_found' };

/** A connection pool's state: connections open, of those idle, and queries waiting for one. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * A change to data that instances cache in memory (src/core/store-cache.ts, the key ring),
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

/**
 * How long each kind of row is kept past its expiry by the cleanup (src/store/cleanup.ts);
 * computed from the settings by src/core/cleanup.ts.
 */
export interface CleanupPolicy {
  /**
   * A redeemed authorization code is kept until this long after its expiry (the longest life of
   * a token issued from it), so that a replay can still revoke those tokens (RFC 6749 §4.1.2).
   */
  consumedCodeRetentionMs: number;
  /**
   * An unrotated refresh token is kept this long past its idle expiry: the refresh grace window,
   * in which its rotated predecessor may still be answered with it.
   */
  refreshTokenGraceMs: number;
  /** Delivered or abandoned back-channel logout deliveries stay listed this long. */
  logoutDeliveryRetentionMs: number;
  /**
   * Grants younger than this are never removed by the sweep (their first code may be on its way);
   * expired sessions are kept this long past their expiry, so every grant made in one is at least
   * this old when the session goes.
   */
  grantMinAgeMs: number;
  /** Rows per DELETE statement. */
  batchSize: number;
  /**
   * Audit events older than this are deleted (the `audit_retention_days` setting); absent: the
   * audit trail is kept for ever.
   */
  auditRetentionMs?: number;
}

/** Rows deleted per table by one cleanup run. */
export interface CleanupCounts {
  authorization_codes: number;
  access_tokens: number;
  refresh_tokens: number;
  grants: number;
  sessions: number;
  interactions: number;
  logout_deliveries: number;
  audit_events: number;
}

export type CleanupResult =
  | { status: 'done'; deleted: CleanupCounts }
  /** Another instance holds the cleanup lock (PostgreSQL); nothing was done. */
  | { status: 'skipped' };

export interface Store {
  /** 'sqlite' or 'postgres', for diagnostics. */
  readonly dialect: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema; idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * A cheap round trip to the database (`SELECT 1`), for readiness probes; rejects when the
   * database is unreachable.
   */
  ping(): Promise<void>;
  /**
   * Runs `fn` with a store whose every call belongs to one database transaction: committed when
   * `fn` resolves, rolled back when it rejects (or the connection is lost), so that several
   * writes happen all together or not at all. Inside, the store's own atomic methods join the
   * transaction. `fn` must use only the store it is given (on SQLite the transaction holds the
   * single connection, so a call on the outer store would wait for it forever).
   */
  transaction<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  /** The connection pool's state (PostgreSQL), for metrics; null without a pool (SQLite). */
  poolStats(): PoolStats | null;

  clients: {
    create(client: Client): Promise<void>;
    /** Inserts or replaces by clientId (config-file fixtures are applied idempotently). */
    upsert(client: Client): Promise<void>;
    get(clientId: string): Promise<Client | undefined>;
    list(): Promise<Client[]>;
    delete(clientId: string): Promise<boolean>;
  };

  users: {
    create(user: User): Promise<void>;
    /** Inserts or replaces by username, keeping the existing id when there is one. */
    upsert(user: User): Promise<User>;
    getById(id: string): Promise<User | undefined>;
    getByUsername(username: string): Promise<User | undefined>;
    list(): Promise<User[]>;
    delete(username: string): Promise<boolean>;
  };

  sessions: {
    create(session: Session): Promise<void>;
    /** Returns the session only while it has not expired at `now`. */
    get(idHash: string, now: number): Promise<Session | undefined>;
    delete(idHash: string): Promise<void>;
  };

  interactions: {
    create(interaction: Interaction): Promise<void>;
    /** Returns the interaction only while it has not expired at `now`. */
    get(id: string, now: number): Promise<Interaction | undefined>;
    /** Atomically removes the interaction; true only for the one caller that removed it. */
    consume(id: string): Promise<boolean>;
    /** How many interactions have not expired at `now`, counting no further than `atMost`. */
    countLive(now: number, atMost: number): Promise<number>;
  };

  consents: {
    get(userId: string, clientId: string): Promise<Consent | undefined>;
    /** Records consent; scopes are merged with any earlier consent of the same user and client. */
    grant(consent: Consent): Promise<void>;
  };

  grants: {
    create(grant: Grant): Promise<void>;
    get(id: string): Promise<Grant | undefined>;
    /** Marks the grant and every access token issued under it revoked. Idempotent. */
    revoke(id: string, at: number): Promise<void>;
  };

  codes: {
    create(code: AuthorizationCode): Promise<void>;
    /**
     * Records a new grant and its authorization code in one transaction: both or neither, and
     * one commit instead of two on the authorization endpoint's hot path.
     */
    issue(grant: Grant, code: AuthorizationCode): Promise<void>;
    /**
     * Reads a code by its hash without consuming it, consumed or expired codes included: the
     * token endpoint checks the client, redirect_uri and PKCE verifier on it before it consumes
     * (RFC 6749 §4.1.3), so that a request failing them changes nothing.
     */
    get(codeHash: string): Promise<AuthorizationCode | undefined>;
    /**
     * Atomically marks the code consumed. Exactly one of any number of concurrent callers gets
     * `consumed`; the others get `replayed`. An expired code is still returned (the caller
     * decides), so that expiry and replay are reported precisely.
     */
    consume(codeHash: string, now: number): Promise<ConsumeCodeResult>;
  };

  accessTokens: {
    create(token: AccessTokenRecord): Promise<void>;
    get(jti: string): Promise<AccessTokenRecord | undefined>;
    listByGrant(grantId: string): Promise<AccessTokenRecord[]>;
    /** Marks one access token revoked; false when it does not exist or was already revoked. */
    revoke(jti: string, at: number): Promise<boolean>;
  };

  refreshTokens: {
    create(token: RefreshTokenRecord): Promise<void>;
    get(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
    listByGrant(grantId: string): Promise<RefreshTokenRecord[]>;
    /**
     * Atomically marks `tokenHash` rotated at `now` (only if it was not rotated yet), records
     * the successor's hash and encrypted value on it, and inserts `successor`, in one
     * transaction. Of any number of concurrent callers exactly one gets `rotated`.
     */
    rotate(tokenHash: string, successor: RefreshTokenRecord, successorEncrypted: string, now: number): Promise<RotateRefreshTokenResult>;
  };

  resources: {
    /** Inserts or replaces by identifier. */
    upsert(resource: ProtectedResource): Promise<void>;
    get(identifier: string): Promise<ProtectedResource | undefined>;
    list(): Promise<ProtectedResource[]>;
    delete(identifier: string): Promise<boolean>;
  };

  signingKeys: {
    /** Every key, retired ones included, oldest first (by createdAt, then kid). */
    list(): Promise<SigningKeyRecord[]>;
    get(kid: string): Promise<SigningKeyRecord | undefined>;
    create(key: SigningKeyRecord): Promise<void>;
    /**
     * Sets retiredAt of a key that is not retired yet (one conditional update); false when the
     * key does not exist or was already retired, which is then left unchanged.
     */
    retire(kid: string, at: number): Promise<boolean>;
  };

  /** Ending sessions (OpenID Connect RP-Initiated Logout 1.0, Back-Channel Logout 1.0). */
  logout: {
    /** The clients that were issued a code in the session `sid` (its grants), each once. */
    sessionClientIds(sid: string): Promise<string[]>;
    /**
     * Atomically deletes the session and queues `deliveries`, in one transaction. True only for
     * the one caller that deleted the session; for any other (the session was already gone)
     * nothing is queued.
     */
    endSession(sessionIdHash: string, deliveries: LogoutDelivery[]): Promise<boolean>;
  };

  /** The persisted queue of Back-Channel Logout 1.0 deliveries. */
  logoutDeliveries: {
    get(id: string): Promise<LogoutDelivery | undefined>;
    /** Newest first; `failed`: only undelivered ones that have failed at least once. */
    list(options?: { failed?: boolean; limit?: number }): Promise<LogoutDelivery[]>;
    /** Deliveries due at `now` (candidates to claim), the longest-waiting first. */
    listDue(now: number, limit: number): Promise<LogoutDelivery[]>;
    /**
     * Atomically claims a due delivery for one attempt: one conditional UPDATE moves
     * `nextAttemptAt` to `leaseUntil` and counts the attempt, only if the delivery is due at
     * `now`. Of concurrent callers exactly one gets the delivery (with `attempts` counting this
     * attempt); the others get undefined.
     */
    claim(id: string, now: number, leaseUntil: number): Promise<LogoutDelivery | undefined>;
    /**
     * Records the outcome of attempt number `attempt`, only if no other attempt was claimed
     * since (false then, and nothing changes).
     */
    finish(id: string, attempt: number, outcome: LogoutDeliveryOutcome): Promise<boolean>;
    /** Gives back an interrupted attempt `attempt` uncounted, due again at `now`. */
    release(id: string, attempt: number, now: number): Promise<boolean>;
  };

  /** Announcements of changes to cached data (see StoreChange). */
  changes: {
    /**
     * Whether changes made by other processes are announced too (PostgreSQL LISTEN/NOTIFY). When
     * false (SQLite), only this store's own changes are; caches rely on their TTL for the rest.
     */
    readonly crossProcess: boolean;
    /**
     * Starts delivering changes to `listener` until the returned function is called. On
     * PostgreSQL the first subscription opens one dedicated listening connection, which
     * reconnects by itself after a loss (calling onReset once it is back).
     */
    subscribe(listener: StoreChangeListener): () => void;
  };

  /** Removal of expired rows (src/store/cleanup.ts). */
  cleanup: {
    /**
     * Deletes, in batches of `policy.batchSize` rows by primary key, what expired at `now` and
     * is no longer needed for reuse detection or revocation. On PostgreSQL one run at a time
     * per schema: with `wait` false a run finding another in progress returns `skipped`.
     */
    run(now: number, policy: CleanupPolicy, options?: { wait?: boolean }): Promise<CleanupResult>;
  };

  /** Attempt counters of the brute-force limits, shared by every instance. */
  rateLimits: {
    /** The counters of `keys` that are not forgotten at `now` (absent keys are left out). */
    get(keys: string[], now: number): Promise<RateLimitState[]>;
    /**
     * Atomically counts one attempt for every entry and sets its block from the policy, in one
     * transaction whose first statement per key is a conditional upsert. With `unlessBlocked`,
     * when any key is blocked at `now`, nothing is counted: of concurrent callers only as many
     * get through as the policy allows before its block starts.
     */
    hit(entries: Array<{ key: string; policy: RateLimitPolicy }>, now: number, options: { unlessBlocked: boolean }): Promise<RateLimitHitResult>;
    /** Takes back one attempt counted by `hit` (an attempt that turned out fine); atomic. */
    release(key: string, policy: RateLimitPolicy, now: number): Promise<void>;
    /** Forgets the counter of `key`. */
    reset(key: string): Promise<void>;
    /** Deletes counters forgotten at `now`; returns how many. */
    purge(now: number): Promise<number>;
  };

  /** The audit trail (src/core/audit.ts writes it in batches). */
  audit: {
    /** Inserts the events, in one multi-row statement. */
    insert(events: AuditEvent[]): Promise<void>;
    /** Matching events, newest first. */
    list(filter: AuditFilter): Promise<AuditEvent[]>;
  };
}
