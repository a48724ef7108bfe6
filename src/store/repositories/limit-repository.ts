/** Attempt counters of the brute-force limits (src/core/limits/attempt-limits.ts), and the audit trail. */
import { sql, type Selectable } from 'kysely';
import type { AuditEvent, AuditFilter, RateLimitHitResult, RateLimitPolicy, RateLimitState } from '../records.js';
import type { AuditEventsTable, Database } from '../schema.js';
import type { Executor } from '../executor.js';
import { jsonObject, rowCodec } from './row-codec.js';

export interface RateLimitRepository {
  /** The counters of `keys` that are not forgotten at `now` (absent keys are left out). */
  get(keys: string[], now: number): Promise<RateLimitState[]>;
  /**
   * Atomically counts one attempt for every entry and sets its block from the policy, in one
   * transaction whose first statement per key is a conditional upsert. With `unlessBlocked`,
   * when any key is blocked at `now`, nothing is counted: of concurrent callers only as many
   * get through as the policy allows before its block starts.
   */
  hit(
    entries: Array<{ key: string; policy: RateLimitPolicy }>,
    now: number,
    options: { unlessBlocked: boolean },
  ): Promise<RateLimitHitResult>;
  /** Takes back one attempt counted by `hit` (an attempt that turned out fine); atomic. */
  release(key: string, policy: RateLimitPolicy, now: number): Promise<void>;
  /** Forgets the counter of `key`. */
  reset(key: string): Promise<void>;
  /** Deletes counters forgotten at `now`; returns how many. */
  purge(now: number): Promise<number>;
}

export interface AuditRepository {
  /** Inserts the events, in one multi-row statement. */
  insert(events: AuditEvent[]): Promise<void>;
  /** Matching events, newest first. */
  list(filter: AuditFilter): Promise<AuditEvent[]>;
}

export function rateLimitRepository(ex: Executor): RateLimitRepository {
  return {
    get: async (keys, now) => {
      if (keys.length === 0) return [];
      const rows = await ex.all<Pick<Selectable<Database['rate_limits']>, 'key' | 'attempts' | 'blocked_until'>>(
        `select "key", "attempts", "blocked_until" from "rate_limits" where "key" in (${keys.map(() => '?').join(', ')}) and "expires_at" > ?`,
        [...keys, now],
      );
      return rows.map((row) => ({ key: row.key, attempts: row.attempts, blockedUntil: row.blocked_until }));
    },

    hit: (entries, now, options) => hit(ex, entries, now, options),

    // The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before the block is
    // recomputed from the count it returned, so a concurrent hit or release waits for it.
    release: async (key, policy, now) => {
      await ex.transaction(async (tx) => {
        const row = await tx.db
          .updateTable('rate_limits')
          .set((eb) => ({ attempts: eb('attempts', '-', 1) }))
          .where('key', '=', key)
          .where('attempts', '>', 0)
          .where('expires_at', '>', now)
          .returning(['attempts', 'last_at'])
          .executeTakeFirst();
        if (!row) return;
        const block = row.attempts > 0 ? policy.blockMs(row.attempts) : 0;
        const blockedUntil = block > 0 ? row.last_at + block : 0;
        await tx.db
          .updateTable('rate_limits')
          .set({ blocked_until: blockedUntil, expires_at: Math.max(blockedUntil, row.last_at + policy.forgetAfterMs) })
          .where('key', '=', key)
          .execute();
      });
    },

    reset: async (key) => {
      await ex.db.deleteFrom('rate_limits').where('key', '=', key).execute();
    },

    purge: async (now) => {
      const result = await ex.db.deleteFrom('rate_limits').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/** Aborts a rate-limit hit transaction when a key is blocked. */
class RateLimitBlocked extends Error {
  constructor(readonly blockedUntil: number) {
    super('blocked');
  }
}

/**
 * Per key, the upsert is the first statement and decides: it inserts the counter or, unless
 * the key is blocked (`unlessBlocked`), counts the attempt (from 1 again once the counter was
 * forgotten). Its row lock (PostgreSQL) or the write lock (SQLite) is held until commit, so
 * the block computed from the returned count is written before any other caller counts.
 * Keys are taken in sorted order, so two callers never wait for each other's rows. Inside an
 * enclosing transaction the hit runs in a savepoint, so that a refusal still counts nothing.
 */
async function hit(
  ex: Executor,
  entries: Array<{ key: string; policy: RateLimitPolicy }>,
  now: number,
  options: { unlessBlocked: boolean },
): Promise<RateLimitHitResult> {
  const order = entries
    .map((_, index) => index)
    .sort((a, b) => (entries[a]!.key < entries[b]!.key ? -1 : entries[a]!.key > entries[b]!.key ? 1 : 0));
  try {
    return await ex.transaction(
      async (tx) => {
        const states: RateLimitState[] = [];
        for (const index of order) {
          const { key, policy } = entries[index]!;
          const row = await tx.db
            .insertInto('rate_limits')
            .values({ key, attempts: 1, last_at: now, blocked_until: 0, expires_at: now + policy.forgetAfterMs })
            .onConflict((oc) => {
              const update = oc.column('key').doUpdateSet({
                attempts: sql<number>`case when ${sql.ref('rate_limits.expires_at')} <= ${now} then 1 else ${sql.ref('rate_limits.attempts')} + 1 end`,
                last_at: now,
              });
              return options.unlessBlocked ? update.where(sql.ref('rate_limits.blocked_until'), '<=', now) : update;
            })
            .returning('attempts')
            .executeTakeFirst();
          if (!row) {
            const blocked = await tx.db
              .selectFrom('rate_limits')
              .select('blocked_until')
              .where('key', '=', key)
              .executeTakeFirstOrThrow();
            throw new RateLimitBlocked(blocked.blocked_until);
          }
          const block = policy.blockMs(row.attempts);
          const blockedUntil = block > 0 ? now + block : 0;
          await tx.db
            .updateTable('rate_limits')
            .set({ blocked_until: blockedUntil, expires_at: Math.max(blockedUntil, now + policy.forgetAfterMs) })
            .where('key', '=', key)
            .execute();
          states[index] = { key, attempts: row.attempts, blockedUntil };
        }
        return { counted: true as const, states };
      },
      { savepoint: true },
    );
  } catch (error) {
    // Thrown inside the transaction so that the keys counted before it are rolled back.
    if (error instanceof RateLimitBlocked) return { counted: false, blockedUntil: error.blockedUntil };
    throw error;
  }
}

export function auditRepository(ex: Executor): AuditRepository {
  return {
    insert: async (events) => {
      if (events.length === 0) return;
      // SQLite: one unit of the group commit, one INSERT written once and run per event (a
      // statement costs no round trip), so a batch neither builds a query of 8 × 200 values with
      // Kysely nor waits on its driver and commits alone. PostgreSQL: one multi-row INSERT, one
      // round trip.
      if (ex.dialect !== 'postgres') {
        await ex.insertRowsTogether(events.map((event) => AUDIT_EVENT_ROW.insert(event)));
        return;
      }
      await ex.db.insertInto('audit_events').values(events.map(auditEventToRow)).execute();
    },

    list: async (filter) => {
      let query = ex.db.selectFrom('audit_events').selectAll();
      if (filter.types !== undefined && filter.types.length > 0) query = query.where('type', 'in', filter.types);
      if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
      const users = filter.users;
      if (users !== undefined && users.length > 0) {
        query = query.where((eb) => eb.or([eb('user_id', 'in', users), eb('username', 'in', users)]));
      }
      const flowIds = filter.flowIds;
      if (flowIds !== undefined) {
        if (flowIds.length === 0) return [];
        query = query.where('flow_id', 'in', flowIds);
      }
      if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
      const before = filter.before;
      if (before !== undefined) {
        query = query.where((eb) =>
          eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]),
        );
      }
      const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(rowToAuditEvent);
    },
  };
}

// --- Row mapping ----------------------------------------------------------------------------

/** The INSERT of an audit event on SQLite (`id` is the table's own, read by `list`). */
const AUDIT_EVENT_ROW = rowCodec<Omit<AuditEvent, 'id'>, 'audit_events', 'id'>('audit_events', {
  at: true,
  type: true,
  flowId: true,
  clientId: true,
  userId: true,
  username: true,
  ip: true,
  details: jsonObject,
});

function auditEventToRow(event: AuditEvent): Omit<AuditEventsTable, 'id'> {
  return {
    at: event.at,
    type: event.type,
    flow_id: event.flowId,
    client_id: event.clientId,
    user_id: event.userId,
    username: event.username,
    ip: event.ip,
    details: JSON.stringify(event.details),
  };
}

function rowToAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  let details: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(row.details) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      details = parsed as Record<string, unknown>;
  } catch {
    details = { unparsed: row.details };
  }
  return {
    id: Number(row.id),
    at: row.at,
    type: row.type,
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    username: row.username,
    ip: row.ip,
    details,
  };
}
