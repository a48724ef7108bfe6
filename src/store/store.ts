/**
 * The one store interface. Every piece of state Gatehouse keeps lives behind it, so that any
 * number of identical instances sharing one database act as one server.
 *
 * Two implementations share a single Kysely code path (src/store/kysely-store.ts): SQLite
 * (better-sqlite3, the embedded default) and PostgreSQL (`pg`, production). The contract test
 * suite in test/store/contract.test.ts runs against both.
 *
 * The interface is composed of one small interface per concern (ClientRepository,
 * CodeRepository, ...), defined beside its implementation in src/store/repositories/, so that
 * code needing one concern can depend on that interface alone.
 *
 * Conventions:
 * - Every time is an integer count of milliseconds since the Unix epoch (`Date.now()` style).
 * - Secrets (codes, session ids, client secrets, browser bindings) are never stored in clear:
 *   the caller passes a hash, and lookups are by hash.
 * - Methods that must be atomic under concurrency say so; they use a single conditional
 *   statement (UPDATE ... WHERE ... RETURNING), never read-then-write.
 */

import type { ClientRepository, ResourceRepository, UserRepository } from './repositories/client-repository.js';
import type { CodeRepository } from './repositories/code-repository.js';
import type {
  ConsentRepository,
  GrantRepository,
  InteractionRepository,
  SessionRepository,
} from './repositories/session-repository.js';
import type { AccessTokenRepository, RefreshTokenRepository } from './repositories/token-repository.js';
import type { DeviceCodeRepository } from './repositories/device-code-repository.js';
import type { SigningKeyRepository } from './repositories/key-repository.js';
import type { LogoutDeliveryRepository, LogoutRepository } from './repositories/logout-repository.js';
import type { AuditRepository, RateLimitRepository } from './repositories/limit-repository.js';
import type { ReplayRepository } from './repositories/replay-repository.js';
import type { PushedRequestRepository } from './repositories/pushed-request-repository.js';
import type { RegistrationRepository } from './repositories/registration-repository.js';
import type { AccountRepository } from './repositories/account-repository.js';
import type { InspectorRepository } from './repositories/inspector-repository.js';
import type { CleanupCounts, CleanupPolicy, CleanupRepository, CleanupResult } from './repositories/expired-rows.js';

export type {
  AccountRepository,
  AccessTokenRepository,
  CleanupCounts,
  CleanupPolicy,
  CleanupRepository,
  CleanupResult,
  AuditRepository,
  ClientRepository,
  CodeRepository,
  ConsentRepository,
  DeviceCodeRepository,
  GrantRepository,
  InspectorRepository,
  InteractionRepository,
  LogoutDeliveryRepository,
  LogoutRepository,
  PushedRequestRepository,
  RateLimitRepository,
  RefreshTokenRepository,
  RegistrationRepository,
  ReplayRepository,
  ResourceRepository,
  SessionRepository,
  SigningKeyRepository,
  UserRepository,
};

export type * from './records.js';
export type { InspectorFlowFilter, InspectorStepRecord } from './repositories/inspector-repository.js';
import type { DatabaseDiagnostics, PoolStats, StoreChangeListener } from './records.js';

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
   * single connection, so a call on the outer store would wait for it forever). The store given
   * is a full Store: its changes to cached data are announced once the transaction has
   * committed, never when it rolled back; a nested `transaction` joins the enclosing one.
   */
  transaction<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  /** The database's clock and durability settings, for `gatehouse doctor`. */
  diagnostics(): Promise<DatabaseDiagnostics>;
  /** The connection pool's state (PostgreSQL), for metrics; null without a pool (SQLite). */
  poolStats(): PoolStats | null;

  clients: ClientRepository;
  users: UserRepository;
  sessions: SessionRepository;
  interactions: InteractionRepository;
  consents: ConsentRepository;
  grants: GrantRepository;
  /** A user's own view across consents, grants and tokens (the account page). */
  account: AccountRepository;
  codes: CodeRepository;
  /** RFC 8628 device authorizations. */
  deviceCodes: DeviceCodeRepository;
  /** RFC 9126 pushed authorization requests, each used once. */
  pushedRequests: PushedRequestRepository;
  accessTokens: AccessTokenRepository;
  refreshTokens: RefreshTokenRepository;
  resources: ResourceRepository;
  /** RFC 7591/7592: self-registered clients' registrations and the initial access tokens. */
  registrations: RegistrationRepository;
  signingKeys: SigningKeyRepository;
  /** Ending sessions (OpenID Connect RP-Initiated Logout 1.0, Back-Channel Logout 1.0). */
  logout: LogoutRepository;
  /** The persisted queue of Back-Channel Logout 1.0 deliveries. */
  logoutDeliveries: LogoutDeliveryRepository;
  /** Attempt counters of the brute-force limits, shared by every instance. */
  rateLimits: RateLimitRepository;
  /** The audit trail (src/core/audit/audit-trail.ts writes it in batches). */
  audit: AuditRepository;
  /** Single-use JWT ids (client assertions, DPoP proofs, request objects), shared by every instance. */
  usedJtis: ReplayRepository;
  /** The flow inspector's steps and links, written only while it is on (src/core/inspector/). */
  inspector: InspectorRepository;

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

  /** Removal of expired rows (src/store/repositories/expired-rows.ts). */
  cleanup: CleanupRepository;
}
