/**
 * Removal of expired rows, for both dialects (Store['cleanup']).
 *
 * Every DELETE removes at most `batchSize` rows chosen by primary key through an index on the
 * expiry column (`DELETE ... WHERE pk IN (SELECT pk ... ORDER BY expiry LIMIT n)`), so each
 * statement is short, touches only rows nobody can use any more, and never locks a table. On
 * PostgreSQL the inner SELECT skips rows another transaction holds (FOR UPDATE SKIP LOCKED):
 * cleanup never waits for the hot path, it picks those rows up on a later run. Between batches
 * the event loop gets a turn.
 *
 * What stays, although past some expiry, because it is still needed:
 * - a rotated refresh token stays until its family's absolute expiry, so that presenting it again
 *   is still detected as reuse and revokes the family (RFC 9700 §4.14.2); an unrotated one goes
 *   at its idle expiry (plus the grace window, during which its predecessor may still fetch it),
 *   or at its family's expiry if that comes first;
 * - an access token record stays until the JWT's `exp` (its expires_at), revoked or not, so that
 *   introspection and revocation keep knowing it for as long as the token itself is valid;
 * - a redeemed authorization code stays until every token issued from it has expired and gone
 *   (policy.consumedCodeRetentionMs after its expiry, and no token row of its grant left), so
 *   that a replay still revokes those tokens (RFC 6749 §4.1.2);
 * - a grant stays while any code, access token or refresh token of it exists (revocation is
 *   recorded on the grant), and while the single sign-on session it was made in exists (its
 *   clients get back-channel logout tokens);
 * - a used JWT id (used_jtis) stays until the JWT's exp, so that a replay is refused while the
 *   JWT would otherwise be valid;
 * - consents have no lifetime: they last until the user or the client is deleted;
 * - a self-registered client (RFC 7591) stays while it is used: it goes with all of its rows once
 *   no token was issued to it for policy.abandonedClientMs (never without that policy);
 * - audit events stay for policy.auditRetentionMs (the `audit_retention_days` setting), oldest
 *   first out; without a retention they stay for ever.
 */
import { sql, type ExpressionBuilder, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database, Dialect } from '../schema.js';

/**
 * How long each kind of row is kept past its expiry by the cleanup (below);
 * computed from the settings by src/core/maintenance/cleanup-worker.ts.
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
   * Self-registered clients (RFC 7591) inactive this long (no token issued to them since their
   * registration or their last marked use) are deleted with everything of theirs; absent: never.
   */
  abandonedClientMs?: number;
  /**
   * Audit events older than this are deleted (the `audit_retention_days` setting); absent: the
   * audit trail is kept for ever.
   */
  auditRetentionMs?: number;
}

/** The tables a cleanup run deletes from, in the order its counts are listed. */
export const CLEANUP_TABLES = [
  'authorization_codes',
  'access_tokens',
  'refresh_tokens',
  'grants',
  'sessions',
  'interactions',
  'pushed_authorization_requests',
  'logout_deliveries',
  'audit_events',
  'used_jtis',
  'device_codes',
  'registration_tokens',
  'clients',
] as const;

/** Rows deleted per table by one cleanup run. */
export type CleanupCounts = Record<(typeof CLEANUP_TABLES)[number], number>;

export type CleanupResult =
  | { status: 'done'; deleted: CleanupCounts }
  /** Another instance holds the cleanup lock (PostgreSQL); nothing was done. */
  | { status: 'skipped' };

export interface CleanupRepository {
  /**
   * Deletes, in batches of `policy.batchSize` rows by primary key, what expired at `now` and
   * is no longer needed for reuse detection or revocation. On PostgreSQL one run at a time
   * per schema: with `wait` false a run finding another in progress returns `skipped`.
   */
  run(now: number, policy: CleanupPolicy, options?: { wait?: boolean }): Promise<CleanupResult>;
}

/**
 * The first key of the PostgreSQL advisory lock held by a cleanup run (an arbitrary constant,
 * "ghcl" in ASCII); the second key is the hash of the schema name, so that deployments in
 * different schemas of one database clean up independently.
 */
const POSTGRES_CLEANUP_LOCK_CLASS = 0x6768_636c;

export function emptyCounts(): CleanupCounts {
  return Object.fromEntries(CLEANUP_TABLES.map((table) => [table, 0])) as CleanupCounts;
}

export async function runCleanup(
  db: Kysely<Database>,
  dialect: Dialect,
  now: number,
  policy: CleanupPolicy,
  wait: boolean,
  sweep: GrantSweep,
): Promise<CleanupResult> {
  if (!Number.isInteger(policy.batchSize) || policy.batchSize < 1)
    throw new RangeError(`cleanup batch size must be a positive integer, not ${policy.batchSize}`);
  if (dialect !== 'postgres') return { status: 'done', deleted: await deleteExpired(db, dialect, now, policy, sweep) };
  // A session-level advisory lock on one connection of the pool, held for the whole run; the
  // deletes run on that same connection, each statement in its own (autocommit) transaction
  // (inside a store transaction: on the transaction's connection, as part of it).
  const locked = async (conn: Kysely<Database>): Promise<CleanupResult> => {
    const lockKey = sql`${POSTGRES_CLEANUP_LOCK_CLASS}::int4, hashtext(current_schema())`;
    if (wait) {
      await sql`select pg_advisory_lock(${lockKey})`.execute(conn);
    } else {
      const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${lockKey}) as locked`.execute(conn);
      if (!rows[0]?.locked) return { status: 'skipped' } as const;
    }
    try {
      return { status: 'done', deleted: await deleteExpired(conn, dialect, now, policy, sweep) } as const;
    } finally {
      await sql`select pg_advisory_unlock(${lockKey})`.execute(conn);
    }
  };
  return db.isTransaction ? locked(db) : db.connection().execute(locked);
}

/** Where the backstop sweep over old grants continues at the next run (kept by the store). */
export interface GrantSweep {
  after: { createdAt: number; id: string } | undefined;
}

type Db = Kysely<Database>;

/** `db` untyped, for statements whose table and columns are chosen at run time (ExpiredRows). */
const untyped = (db: Db) => db as unknown as Kysely<any>;

/**
 * One kind of expired row: a batch is `DELETE FROM table WHERE key IN (candidates LIMIT n)`,
 * with `recheck` repeated on the outer DELETE (a row may have changed since the inner SELECT).
 * Its deleted rows are counted under `table`.
 */
interface ExpiredRows {
  table: Exclude<keyof CleanupCounts, 'grants'>;
  key: string;
  /** The SELECT of up to `n` primary keys, oldest expiry first. */
  candidates: (db: Db, n: number) => SelectQueryBuilder<Database, never, object>;
  recheck?: 'rotated_at' | 'consumed_at' | 'next_attempt_at';
  /** `grant_id`: the grants of deleted rows are deleted too once unused; `sid`: sessions'. */
  returning: 'grant_id' | 'sid' | 'id' | 'jti_hash' | 'device_code_hash' | 'request_uri_hash' | 'client_id';
}

/**
 * The rows of `table` whose `expiry` is at or before `cutoff` (and whose `recheck` column, if
 * given, is null), selected by `key`, oldest first.
 */
function expiredBy(
  table: ExpiredRows['table'],
  key: string,
  returning: ExpiredRows['returning'],
  expiry: string,
  cutoff: number,
  recheck?: ExpiredRows['recheck'],
): ExpiredRows {
  const candidates = (db: Db, n: number) => {
    let query = untyped(db).selectFrom(table).select(key);
    if (recheck !== undefined) query = query.where(recheck, 'is', null);
    return query.where(expiry, '<=', cutoff).orderBy(expiry).limit(n) as SelectQueryBuilder<Database, never, object>;
  };
  return { table, key, returning, candidates, ...(recheck === undefined ? {} : { recheck }) };
}

async function deleteExpired(
  db: Db,
  dialect: Dialect,
  now: number,
  policy: CleanupPolicy,
  sweep: GrantSweep,
): Promise<CleanupCounts> {
  const counts = emptyCounts();
  const n = policy.batchSize;
  const lock = <Q extends { forUpdate(): Q; skipLocked(): Q }>(query: Q): Q =>
    dialect === 'postgres' ? query.forUpdate().skipLocked() : query;

  for (const kind of expiredRows(now, policy)) {
    await drain(n, async () => {
      const candidates = lock(kind.candidates(db, n) as unknown as SelectQueryBuilder<any, any, any>);
      let query = untyped(db).deleteFrom(kind.table).where(kind.key, 'in', candidates);
      if (kind.recheck !== undefined) query = query.where(kind.recheck, 'is', null);
      const rows = (await query.returning(kind.returning).execute()) as Array<Record<string, string | null>>;
      counts[kind.table] += rows.length;
      const values = uniqueNonNull(rows.map((row) => row[kind.returning] ?? null));
      if (kind.returning === 'grant_id') {
        counts.grants += await deleteUnusedGrants(db, values, { now, minAgeMs: 0 });
      } else if (kind.returning === 'sid' && values.length > 0) {
        // (Still only grants that old: one made in the last moment of a session is left to the sweep.)
        const grants = await db.selectFrom('grants').select('id').where('sid', 'in', values).execute();
        counts.grants += await deleteUnusedGrants(db, uniqueNonNull(grants.map((grant) => grant.id)), {
          now,
          minAgeMs: policy.grantMinAgeMs,
        });
      }
      return rows.length;
    });
  }

  // Backstop: grants whose last dependent went another way (a session ended by logout, a row
  // deleted by an older version) are found by a slow sweep, one batch per run, oldest first.
  counts.grants += await sweepGrants(db, now, policy, sweep);
  return counts;
}

/** What the cleanup deletes, in this order. */
function expiredRows(now: number, policy: CleanupPolicy): ExpiredRows[] {
  const sessionCutoff = now - policy.grantMinAgeMs;
  const idleCutoff = now - policy.refreshTokenGraceMs;
  const consumedCutoff = now - policy.consumedCodeRetentionMs;
  const deliveryCutoff = now - policy.logoutDeliveryRetentionMs;
  const kinds: ExpiredRows[] = [
    // Sessions past their lifetime (sessions.get already ignores them), once grantMinAgeMs has
    // passed too: every grant made in the session is then at least that old, so the grants whose
    // only remaining tie was the session can go with it (none can still be waiting for its code).
    expiredBy('sessions', 'id_hash', 'sid', 'expires_at', sessionCutoff),
    expiredBy('interactions', 'id', 'id', 'expires_at', now),
    // RFC 8628 device codes past their expires_in: no poll can use them any more, whether
    // pending, decided or redeemed (the tokens issued from one live on their own grant).
    expiredBy('device_codes', 'device_code_hash', 'device_code_hash', 'expires_at', now),
    // RFC 9126 pushed requests past their lifetime, used or not: an expired request_uri is
    // refused anyway (§4), and the row tells nothing more once it is gone.
    expiredBy('pushed_authorization_requests', 'request_uri_hash', 'request_uri_hash', 'expires_at', now),
    // Access token records go at the JWT's exp: after it no verifier accepts the token anyway.
    expiredBy('access_tokens', 'jti', 'grant_id', 'expires_at', now),
    // Whole refresh token families past their absolute expiry: the rotated members, kept for
    // reuse detection until then, by the partial index of rotated tokens (0028)...
    {
      table: 'refresh_tokens',
      key: 'token_hash',
      returning: 'grant_id',
      candidates: (db, n) =>
        db
          .selectFrom('refresh_tokens')
          .select('token_hash')
          .where('rotated_at', 'is not', null)
          .where('family_expires_at', '<=', now)
          .orderBy('family_expires_at')
          .limit(n) as unknown as SelectQueryBuilder<Database, never, object>,
    },
    // ...and the unrotated ones by the partial index of unrotated tokens (0007): past their idle
    // expiry and the grace window, or their family's expiry, which is never before their own
    // (src/core/token/refresh-token-family.ts), so every one of them is within `expires_at <= now`
    // and the scan steps over no more than the tokens in their grace window. Rotated tokens are
    // not touched here: they stay for reuse detection until the family expires (RFC 9700 §4.14.2).
    {
      table: 'refresh_tokens',
      key: 'token_hash',
      returning: 'grant_id',
      recheck: 'rotated_at',
      candidates: (db, n) =>
        db
          .selectFrom('refresh_tokens')
          .select('token_hash')
          .where('rotated_at', 'is', null)
          .where('expires_at', '<=', now)
          .where(({ or, eb }) => or([eb('expires_at', '<=', idleCutoff), eb('family_expires_at', '<=', now)]))
          .orderBy('expires_at')
          .limit(n) as unknown as SelectQueryBuilder<Database, never, object>,
    },
    // Codes never redeemed: nothing was issued from them (index from 0007).
    expiredBy('authorization_codes', 'code_hash', 'grant_id', 'expires_at', now, 'consumed_at'),
    // Redeemed codes, once every token issued from them is gone (a replay has nothing left to
    // revoke). The retention keeps this scan from revisiting codes whose tokens still live.
    {
      table: 'authorization_codes',
      key: 'code_hash',
      returning: 'grant_id',
      candidates: (db, n) =>
        db
          .selectFrom('authorization_codes as c')
          .select('c.code_hash')
          .where('c.expires_at', '<=', consumedCutoff)
          .where('c.consumed_at', 'is not', null)
          .where(noRowOf('access_tokens as a', 'a.jti', 'a.grant_id', 'c.grant_id'))
          .where(noRowOf('refresh_tokens as r', 'r.token_hash', 'r.grant_id', 'c.grant_id'))
          .orderBy('c.expires_at')
          .limit(n) as unknown as SelectQueryBuilder<Database, never, object>,
    },
    // Back-channel logout deliveries delivered or given up (no next attempt), kept a while as
    // history for `gatehouse logout-deliveries list`.
    expiredBy('logout_deliveries', 'id', 'id', 'created_at', deliveryCutoff, 'next_attempt_at'),
    // Single-use JWT ids past their JWT's exp (index from 0010): the JWT is refused by then
    // anyway. jti_hash alone is unique (it hashes the purpose too).
    expiredBy('used_jtis', 'jti_hash', 'jti_hash', 'expires_at', now),
  ];
  // RFC 7591 initial access tokens past their expiry (index from 0014): refused anyway.
  kinds.push(expiredBy('registration_tokens', 'id', 'id', 'expires_at', now));
  // Abandoned self-registered clients (index from 0014 on last_active_at); their registration,
  // grants, codes and tokens go with them (ON DELETE CASCADE).
  if (policy.abandonedClientMs !== undefined) {
    const abandonedCutoff = now - policy.abandonedClientMs;
    kinds.push({
      table: 'clients',
      key: 'client_id',
      returning: 'client_id',
      candidates: (db, n) =>
        db
          .selectFrom('client_registrations')
          .select('client_id')
          .where('last_active_at', '<=', abandonedCutoff)
          .orderBy('last_active_at')
          .limit(n) as unknown as SelectQueryBuilder<Database, never, object>,
    });
  }
  // The audit trail beyond its retention (by the index on `at`, from the audit migration).
  if (policy.auditRetentionMs !== undefined)
    kinds.push(expiredBy('audit_events', 'id', 'id', 'at', now - policy.auditRetentionMs));
  return kinds;
}

/** `NOT EXISTS (SELECT key FROM from WHERE ref = outerRef)`: no row of `from` belongs to the grant `outerRef`. */
function noRowOf(from: string, key: string, ref: string, outerRef: string) {
  return ({ not, exists, selectFrom }: ExpressionBuilder<any, any>) =>
    not(exists(selectFrom(from).select(key).whereRef(ref, '=', outerRef)));
}

/** Runs `batch` until it deletes fewer than `n` rows, yielding to the event loop in between. */
async function drain(n: number, batch: () => Promise<number>): Promise<void> {
  for (;;) {
    const deleted = await batch();
    if (deleted < n) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function uniqueNonNull(values: ReadonlyArray<string | null>): string[] {
  return [...new Set(values.filter((value): value is string => value !== null))];
}

/**
 * Deletes those of `ids` that no code, access token or refresh token references any more, whose
 * session is gone, and which are at least `minAgeMs` old. Checked and deleted in one statement.
 */
async function deleteUnusedGrants(
  db: Db,
  ids: readonly string[],
  options: { now: number; minAgeMs: number },
): Promise<number> {
  let deleted = 0;
  // Bounded IN lists (SQLite allows 32766 parameters, PostgreSQL 65535).
  for (let start = 0; start < ids.length; start += 1000) {
    const chunk = ids.slice(start, start + 1000);
    const rows = await db
      .deleteFrom('grants')
      .where('id', 'in', chunk)
      .where('created_at', '<=', options.now - options.minAgeMs)
      .where(noRowOf('authorization_codes', 'code_hash', 'authorization_codes.grant_id', 'grants.id'))
      .where(noRowOf('access_tokens', 'jti', 'access_tokens.grant_id', 'grants.id'))
      .where(noRowOf('refresh_tokens', 'token_hash', 'refresh_tokens.grant_id', 'grants.id'))
      .where(({ or, eb, not, exists, selectFrom }) =>
        or([
          eb('grants.sid', 'is', null),
          not(exists(selectFrom('sessions').select('id_hash').whereRef('sessions.sid', '=', 'grants.sid'))),
        ]),
      )
      .returning('id')
      .execute();
    deleted += rows.length;
  }
  return deleted;
}

async function sweepGrants(db: Db, now: number, policy: CleanupPolicy, sweep: GrantSweep): Promise<number> {
  const cutoff = now - policy.grantMinAgeMs;
  let query = db.selectFrom('grants').select(['id', 'created_at']).where('created_at', '<=', cutoff);
  const after = sweep.after;
  if (after) {
    query = query.where(({ or, and, eb }) =>
      or([
        eb('created_at', '>', after.createdAt),
        and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
      ]),
    );
  }
  const batch = await query.orderBy('created_at').orderBy('id').limit(policy.batchSize).execute();
  const last = batch.at(-1);
  // At the end of the table the next run starts over from the oldest grant.
  sweep.after = batch.length < policy.batchSize || !last ? undefined : { createdAt: last.created_at, id: last.id };
  return deleteUnusedGrants(
    db,
    batch.map((row) => row.id),
    { now, minAgeMs: policy.grantMinAgeMs },
  );
}
