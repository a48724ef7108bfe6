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
 *   at its idle expiry (plus the grace window, during which its predecessor may still fetch it);
 * - an access token record stays until the JWT's `exp` (its expires_at), revoked or not, so that
 *   introspection and revocation keep knowing it for as long as the token itself is valid;
 * - a redeemed authorization code stays until every token issued from it has expired and gone
 *   (policy.consumedCodeRetentionMs after its expiry, and no token row of its grant left), so
 *   that a replay still revokes those tokens (RFC 6749 §4.1.2);
 * - a grant stays while any code, access token or refresh token of it exists (revocation is
 *   recorded on the grant), and while the single sign-on session it was made in exists (its
 *   clients get back-channel logout tokens);
 * - consents have no lifetime: they last until the user or the client is deleted;
 * - audit events stay for policy.auditRetentionMs (the `audit_retention_days` setting), oldest
 *   first out; without a retention they stay for ever.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';
import type { CleanupCounts, CleanupPolicy, CleanupResult } from './store.js';

/**
 * The first key of the PostgreSQL advisory lock held by a cleanup run (an arbitrary constant,
 * "ghcl" in ASCII); the second key is the hash of the schema name, so that deployments in
 * different schemas of one database clean up independently.
 */
const POSTGRES_CLEANUP_LOCK_CLASS = 0x6768_636c;

export function emptyCounts(): CleanupCounts {
  return {
    authorization_codes: 0,
    access_tokens: 0,
    refresh_tokens: 0,
    grants: 0,
    sessions: 0,
    interactions: 0,
    logout_deliveries: 0,
    audit_events: 0,
  };
}

export async function runCleanup(db: Kysely<Database>, dialect: Dialect, now: number, policy: CleanupPolicy, wait: boolean, sweep: GrantSweep): Promise<CleanupResult> {
  if (!Number.isInteger(policy.batchSize) || policy.batchSize < 1) throw new RangeError(`cleanup batch size must be a positive integer, not ${policy.batchSize}`);
  if (dialect !== 'postgres') return { status: 'done', deleted: await deleteExpired(db, dialect, now, policy, sweep) };
  // A session-level advisory lock on one connection of the pool, held for the whole run; the
  // deletes run on that same connection, each statement in its own (autocommit) transaction.
  return db.connection().execute(async (conn) => {
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
  });
}

/** Where the backstop sweep over old grants continues at the next run (kept by the store). */
export interface GrantSweep {
  after: { createdAt: number; id: string } | undefined;
}

type Db = Kysely<Database>;

async function deleteExpired(db: Db, dialect: Dialect, now: number, policy: CleanupPolicy, sweep: GrantSweep): Promise<CleanupCounts> {
  const counts = emptyCounts();
  const n = policy.batchSize;
  const lock = <Q extends { forUpdate(): Q; skipLocked(): Q }>(query: Q): Q => (dialect === 'postgres' ? query.forUpdate().skipLocked() : query);
  const grantsOf = async (ids: ReadonlyArray<string | null>): Promise<void> => {
    counts.grants += await deleteUnusedGrants(db, uniqueNonNull(ids), { now, minAgeMs: 0 });
  };

  // Sessions past their lifetime (sessions.get already ignores them), once grantMinAgeMs has
  // passed too: every grant made in the session is then at least that old, so the grants whose
  // only remaining tie was the session can go with it (none can still be waiting for its code).
  const sessionCutoff = now - policy.grantMinAgeMs;
  await drain(n, async () => {
    const rows = await db
      .deleteFrom('sessions')
      .where('id_hash', 'in', lock(db.selectFrom('sessions').select('id_hash').where('expires_at', '<=', sessionCutoff).orderBy('expires_at').limit(n)))
      .returning('sid')
      .execute();
    counts.sessions += rows.length;
    const sids = uniqueNonNull(rows.map((row) => row.sid));
    if (sids.length > 0) {
      // (Still only grants that old: one made in the last moment of a session is left to the sweep.)
      const grants = await db.selectFrom('grants').select('id').where('sid', 'in', sids).execute();
      counts.grants += await deleteUnusedGrants(db, uniqueNonNull(grants.map((grant) => grant.id)), { now, minAgeMs: policy.grantMinAgeMs });
    }
    return rows.length;
  });

  await drain(n, async () => {
    const rows = await db
      .deleteFrom('interactions')
      .where('id', 'in', lock(db.selectFrom('interactions').select('id').where('expires_at', '<=', now).orderBy('expires_at').limit(n)))
      .returning('id')
      .execute();
    counts.interactions += rows.length;
    return rows.length;
  });

  // Access token records go at the JWT's exp: after it no verifier accepts the token anyway.
  await drain(n, async () => {
    const rows = await db
      .deleteFrom('access_tokens')
      .where('jti', 'in', lock(db.selectFrom('access_tokens').select('jti').where('expires_at', '<=', now).orderBy('expires_at').limit(n)))
      .returning('grant_id')
      .execute();
    counts.access_tokens += rows.length;
    await grantsOf(rows.map((row) => row.grant_id));
    return rows.length;
  });

  // Whole refresh token families past their absolute expiry, rotated members included.
  await drain(n, async () => {
    const rows = await db
      .deleteFrom('refresh_tokens')
      .where(
        'token_hash',
        'in',
        lock(db.selectFrom('refresh_tokens').select('token_hash').where('family_expires_at', '<=', now).orderBy('family_expires_at').limit(n)),
      )
      .returning('grant_id')
      .execute();
    counts.refresh_tokens += rows.length;
    await grantsOf(rows.map((row) => row.grant_id));
    return rows.length;
  });

  // Unrotated refresh tokens past their idle expiry and the grace window (index from 0007).
  // Rotated ones are not touched here: they stay for reuse detection until the family expires.
  const idleCutoff = now - policy.refreshTokenGraceMs;
  await drain(n, async () => {
    const rows = await db
      .deleteFrom('refresh_tokens')
      .where(
        'token_hash',
        'in',
        lock(
          db
            .selectFrom('refresh_tokens')
            .select('token_hash')
            .where('rotated_at', 'is', null)
            .where('expires_at', '<=', idleCutoff)
            .orderBy('expires_at')
            .limit(n),
        ),
      )
      .where('rotated_at', 'is', null)
      .returning('grant_id')
      .execute();
    counts.refresh_tokens += rows.length;
    await grantsOf(rows.map((row) => row.grant_id));
    return rows.length;
  });

  // Codes never redeemed: nothing was issued from them (index from 0007).
  await drain(n, async () => {
    const rows = await db
      .deleteFrom('authorization_codes')
      .where(
        'code_hash',
        'in',
        lock(
          db
            .selectFrom('authorization_codes')
            .select('code_hash')
            .where('consumed_at', 'is', null)
            .where('expires_at', '<=', now)
            .orderBy('expires_at')
            .limit(n),
        ),
      )
      .where('consumed_at', 'is', null)
      .returning('grant_id')
      .execute();
    counts.authorization_codes += rows.length;
    await grantsOf(rows.map((row) => row.grant_id));
    return rows.length;
  });

  // Redeemed codes, once every token issued from them is gone (a replay has nothing left to
  // revoke). The retention keeps this scan from revisiting codes whose tokens still live.
  const consumedCutoff = now - policy.consumedCodeRetentionMs;
  await drain(n, async () => {
    const rows = await db
      .deleteFrom('authorization_codes')
      .where(
        'code_hash',
        'in',
        lock(
          db
            .selectFrom('authorization_codes as c')
            .select('c.code_hash')
            .where('c.expires_at', '<=', consumedCutoff)
            .where('c.consumed_at', 'is not', null)
            .where(({ not, exists, selectFrom }) =>
              not(exists(selectFrom('access_tokens as a').select('a.jti').whereRef('a.grant_id', '=', 'c.grant_id'))),
            )
            .where(({ not, exists, selectFrom }) =>
              not(exists(selectFrom('refresh_tokens as r').select('r.token_hash').whereRef('r.grant_id', '=', 'c.grant_id'))),
            )
            .orderBy('c.expires_at')
            .limit(n),
        ),
      )
      .returning('grant_id')
      .execute();
    counts.authorization_codes += rows.length;
    await grantsOf(rows.map((row) => row.grant_id));
    return rows.length;
  });

  // Back-channel logout deliveries delivered or given up (no next attempt), kept a while as
  // history for `gatehouse logout-deliveries list`.
  const deliveryCutoff = now - policy.logoutDeliveryRetentionMs;
  await drain(n, async () => {
    const rows = await db
      .deleteFrom('logout_deliveries')
      .where(
        'id',
        'in',
        lock(
          db
            .selectFrom('logout_deliveries')
            .select('id')
            .where('next_attempt_at', 'is', null)
            .where('created_at', '<=', deliveryCutoff)
            .orderBy('created_at')
            .limit(n),
        ),
      )
      .where('next_attempt_at', 'is', null)
      .returning('id')
      .execute();
    counts.logout_deliveries += rows.length;
    return rows.length;
  });

  // The audit trail beyond its retention (by the index on `at`, from the audit migration).
  if (policy.auditRetentionMs !== undefined) {
    const auditCutoff = now - policy.auditRetentionMs;
    await drain(n, async () => {
      const rows = await db
        .deleteFrom('audit_events')
        .where('id', 'in', lock(db.selectFrom('audit_events').select('id').where('at', '<=', auditCutoff).orderBy('at').limit(n)))
        .returning('id')
        .execute();
      counts.audit_events += rows.length;
      return rows.length;
    });
  }

  // Backstop: grants whose last dependent went another way (a session ended by logout, a row
  // deleted by an older version) are found by a slow sweep, one batch per run, oldest first.
  counts.grants += await sweepGrants(db, now, policy, sweep);
  return counts;
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
async function deleteUnusedGrants(db: Db, ids: readonly string[], options: { now: number; minAgeMs: number }): Promise<number> {
  let deleted = 0;
  // Bounded IN lists (SQLite allows 32766 parameters, PostgreSQL 65535).
  for (let start = 0; start < ids.length; start += 1000) {
    const chunk = ids.slice(start, start + 1000);
    const rows = await db
      .deleteFrom('grants')
      .where('id', 'in', chunk)
      .where('created_at', '<=', options.now - options.minAgeMs)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('authorization_codes').select('code_hash').whereRef('authorization_codes.grant_id', '=', 'grants.id'))))
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('access_tokens').select('jti').whereRef('access_tokens.grant_id', '=', 'grants.id'))))
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('refresh_tokens').select('token_hash').whereRef('refresh_tokens.grant_id', '=', 'grants.id'))))
      .where(({ or, eb, not, exists, selectFrom }) =>
        or([eb('grants.sid', 'is', null), not(exists(selectFrom('sessions').select('id_hash').whereRef('sessions.sid', '=', 'grants.sid')))]),
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
      or([eb('created_at', '>', after.createdAt), and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)])]),
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
