/**
 * Ending sessions (OpenID Connect RP-Initiated Logout 1.0, Back-Channel Logout 1.0) and the
 * persisted queue of back-channel logout deliveries.
 */
import type { Selectable } from 'kysely';
import type { LogoutDelivery, LogoutDeliveryOutcome } from '../records.js';
import type { LogoutDeliveriesTable } from '../schema.js';
import type { Executor } from '../executor.js';

export interface LogoutRepository {
  /** The clients that were issued a code in the session `sid` (its grants), each once. */
  sessionClientIds(sid: string): Promise<string[]>;
  /**
   * Atomically deletes the session and queues `deliveries`, in one transaction. True only for
   * the one caller that deleted the session; for any other (the session was already gone)
   * nothing is queued.
   */
  endSession(sessionIdHash: string, deliveries: LogoutDelivery[]): Promise<boolean>;
}

export interface LogoutDeliveryRepository {
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
}

export function logoutRepository(ex: Executor): LogoutRepository {
  return {
    sessionClientIds: async (sid) => {
      const rows = await ex.db.selectFrom('grants').select('client_id').where('sid', '=', sid).groupBy('client_id').orderBy('client_id').execute();
      return rows.map((row) => row.client_id);
    },

    // The DELETE decides the one caller that ends the session; its deliveries are queued in
    // the same transaction, so a logout is never recorded without them, nor twice.
    endSession: async (sessionIdHash, deliveries) =>
      ex.transaction(async (tx) => {
        const deleted = await tx.db.deleteFrom('sessions').where('id_hash', '=', sessionIdHash).returning('id_hash').executeTakeFirst();
        if (!deleted) return false;
        if (deliveries.length > 0) {
          await tx.db.insertInto('logout_deliveries').values(deliveries.map(logoutDeliveryToRow)).execute();
        }
        return true;
      }),
  };
}

export function logoutDeliveryRepository(ex: Executor): LogoutDeliveryRepository {
  return {
    get: async (id) => {
      const row = await ex.db.selectFrom('logout_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
      return row && rowToLogoutDelivery(row);
    },

    list: async (options = {}) => {
      let query = ex.db.selectFrom('logout_deliveries').selectAll();
      if (options.failed) query = query.where('delivered_at', 'is', null).where('last_error', 'is not', null);
      query = query.orderBy('created_at', 'desc').orderBy('id');
      if (options.limit !== undefined) query = query.limit(options.limit);
      return (await query.execute()).map(rowToLogoutDelivery);
    },

    listDue: async (now, limit) => {
      const rows = await ex.db
        .selectFrom('logout_deliveries')
        .selectAll()
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(rowToLogoutDelivery);
    },

    // `next_attempt_at <= now` in the UPDATE itself decides the one worker that gets the
    // attempt; moving it to the end of the lease takes the delivery out of everyone's scan.
    claim: async (id, now, leaseUntil) => {
      const row = await ex.db
        .updateTable('logout_deliveries')
        .set((eb) => ({ next_attempt_at: leaseUntil, attempts: eb('attempts', '+', 1) }))
        .where('id', '=', id)
        .where('next_attempt_at', '<=', now)
        .returningAll()
        .executeTakeFirst();
      return row && rowToLogoutDelivery(row);
    },

    // `attempts = attempt`: the claim still holds (nobody claimed the delivery again since).
    finish: async (id, attempt, outcome) => {
      const result = await ex.db
        .updateTable('logout_deliveries')
        .set({
          delivered_at: outcome.deliveredAt,
          next_attempt_at: outcome.nextAttemptAt,
          last_error: outcome.lastError,
          logout_token: outcome.logoutToken,
        })
        .where('id', '=', id)
        .where('attempts', '=', attempt)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    release: async (id, attempt, now) => {
      const result = await ex.db
        .updateTable('logout_deliveries')
        .set((eb) => ({ next_attempt_at: now, attempts: eb('attempts', '-', 1) }))
        .where('id', '=', id)
        .where('attempts', '=', attempt)
        .where('delivered_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

// --- Row mapping ----------------------------------------------------------------------------

function logoutDeliveryToRow(delivery: LogoutDelivery): LogoutDeliveriesTable {
  return {
    id: delivery.id,
    client_id: delivery.clientId,
    uri: delivery.uri,
    logout_token: delivery.logoutToken,
    attempts: delivery.attempts,
    next_attempt_at: delivery.nextAttemptAt,
    last_error: delivery.lastError,
    delivered_at: delivery.deliveredAt,
    created_at: delivery.createdAt,
  };
}

function rowToLogoutDelivery(row: Selectable<LogoutDeliveriesTable>): LogoutDelivery {
  return {
    id: row.id,
    clientId: row.client_id,
    uri: row.uri,
    logoutToken: row.logout_token,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}
