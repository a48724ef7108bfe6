/**
 * Ending sessions (OpenID Connect RP-Initiated Logout 1.0, Back-Channel Logout 1.0) and the
 * persisted queue of back-channel logout deliveries.
 */
import type { UpdateObject } from 'kysely';
import type { LogoutDelivery, LogoutDeliveryOutcome } from '../records.js';
import type { Database } from '../schema.js';
import type { Executor } from '../executor.js';
import { rowCodec } from './row-codec.js';
import { findRecord, listRecords } from './row-queries.js';

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
      const rows = await ex.db
        .selectFrom('grants')
        .select('client_id')
        .where('sid', '=', sid)
        .groupBy('client_id')
        .orderBy('client_id')
        .execute();
      return rows.map((row) => row.client_id);
    },

    // The DELETE decides the one caller that ends the session; its deliveries are queued in
    // the same transaction, so a logout is never recorded without them, nor twice.
    endSession: async (sessionIdHash, deliveries) =>
      ex.transaction(async (tx) => {
        const deleted = await tx.db
          .deleteFrom('sessions')
          .where('id_hash', '=', sessionIdHash)
          .returning('id_hash')
          .executeTakeFirst();
        if (!deleted) return false;
        if (deliveries.length > 0) {
          await tx.db.insertInto('logout_deliveries').values(deliveries.map(LOGOUT_DELIVERY.toRow)).execute();
        }
        return true;
      }),
  };
}

export function logoutDeliveryRepository(ex: Executor): LogoutDeliveryRepository {
  /**
   * Updates attempt number `attempt` of a delivery, only while no other attempt was claimed
   * since (`attempts = attempt`: the claim still holds) and, with `undelivered`, while it is not
   * delivered; true when it did.
   */
  const updateAttempt = async (
    id: string,
    attempt: number,
    set: UpdateObject<Database, 'logout_deliveries'>,
    undelivered: boolean,
  ): Promise<boolean> => {
    let query = ex.db.updateTable('logout_deliveries').set(set).where('id', '=', id).where('attempts', '=', attempt);
    if (undelivered) query = query.where('delivered_at', 'is', null);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  };

  return {
    get: (id) => findRecord(ex, LOGOUT_DELIVERY, (query) => query.where('id', '=', id)),

    list: (options = {}) =>
      listRecords(ex, LOGOUT_DELIVERY, (query) => {
        let narrowed = options.failed
          ? query.where('delivered_at', 'is', null).where('last_error', 'is not', null)
          : query;
        narrowed = narrowed.orderBy('created_at', 'desc').orderBy('id');
        return options.limit === undefined ? narrowed : narrowed.limit(options.limit);
      }),

    listDue: (now, limit) =>
      listRecords(ex, LOGOUT_DELIVERY, (query) =>
        query.where('next_attempt_at', '<=', now).orderBy('next_attempt_at').orderBy('id').limit(limit),
      ),

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
      return row && LOGOUT_DELIVERY.fromRow(row);
    },

    finish: (id, attempt, outcome) =>
      updateAttempt(
        id,
        attempt,
        {
          delivered_at: outcome.deliveredAt,
          next_attempt_at: outcome.nextAttemptAt,
          last_error: outcome.lastError,
          logout_token: outcome.logoutToken,
        },
        false,
      ),

    release: (id, attempt, now) =>
      updateAttempt(id, attempt, { next_attempt_at: now, attempts: (eb) => eb('attempts', '-', 1) }, true),
  };
}

export const LOGOUT_DELIVERY = rowCodec<LogoutDelivery, 'logout_deliveries'>('logout_deliveries', {
  id: true,
  clientId: true,
  uri: true,
  logoutToken: true,
  attempts: true,
  nextAttemptAt: true,
  lastError: true,
  deliveredAt: true,
  createdAt: true,
});
