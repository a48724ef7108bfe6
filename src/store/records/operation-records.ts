/** What running the server keeps: signing keys, back-channel logout deliveries, rate limits, the audit trail, pool statistics and change notifications. Conventions: see ../records.ts. */
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
  /** Only events of these flows (`gatehouse flows` reads a flow's events together). */
  flowIds?: string[];
  /** Only events at or after this time. */
  since?: number;
  /** Only events before this one in the listing's order (newest first): the admin API's cursor. */
  before?: { at: number; id: number };
  limit: number;
}

/** A connection pool's state: connections open, of those idle, and queries waiting for one. */
/**
 * What `gatehouse doctor` reads of the database: its clock, and the settings that decide whether
 * a commit survives a crash (SQLite `journal_mode` and `synchronous`; PostgreSQL `fsync` and
 * `synchronous_commit`), by name as the database reports them.
 */
export interface DatabaseDiagnostics {
  /** The database's current time, milliseconds since the epoch. */
  now: number;
  durability: Record<string, string>;
}

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
