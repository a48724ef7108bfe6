/**
 * A user's own view across consents, grants and tokens: the applications they authorized, for
 * the account page (`/account`, src/core/account/), and taking one of them back.
 */
import { sql } from 'kysely';
import type { ConnectedApp, LogoutDelivery } from '../records.js';
import type { Executor } from '../executor.js';
import { LOGOUT_DELIVERY } from './logout-repository.js';
import { consentRepository, grantRepository } from './session-repository.js';

export interface AccountRepository {
  /**
   * The applications `userId` has a consent or an unrevoked grant for, by client id, each with
   * the scopes consented or granted, since when, and the newest token issued to it for the user.
   */
  connectedApps(userId: string): Promise<ConnectedApp[]>;
  /**
   * Takes back everything `userId` gave `clientId`, in one transaction: the consent is deleted
   * (the next authorization asks again), every unrevoked grant is revoked with the access tokens
   * issued under it (refresh tokens fail through their grant, src/core/token/token-lookup.ts),
   * and `deliveries` (Back-Channel Logout 1.0 logout tokens) are queued. Says whether a consent
   * was deleted and which grants were revoked now; nothing is queued when there was nothing to
   * take back. The account page and the admin API both revoke through it.
   */
  revokeApp(
    userId: string,
    clientId: string,
    at: number,
    deliveries: LogoutDelivery[],
  ): Promise<{ consent: boolean; grantIds: string[] }>;
}

/** The newest issuance time of `table`'s tokens per client, over the user's grants. */
async function lastIssuedByClient(
  ex: Executor,
  table: 'access_tokens' | 'refresh_tokens',
  userId: string,
): Promise<Map<string, number>> {
  const { rows } = await sql<{ client_id: string; last: number | string | bigint }>`
    select g.client_id, max(t.created_at) as last from grants g
    join ${sql.table(table)} t on t.grant_id = g.id
    where g.user_id = ${userId} and g.revoked_at is null
    group by g.client_id`.execute(ex.db);
  return new Map(rows.map((row) => [row.client_id, Number(row.last)]));
}

export function accountRepository(ex: Executor): AccountRepository {
  // The user's consents and unrevoked grants are read as the admin API reads them.
  const consentsOf = consentRepository(ex);
  const grantsOf = grantRepository(ex);
  return {
    connectedApps: async (userId) => {
      const consents = await consentsOf.list({ userId });
      const grants = await grantsOf.list({ userId, revoked: false });
      const accessTokens = await lastIssuedByClient(ex, 'access_tokens', userId);
      const refreshTokens = await lastIssuedByClient(ex, 'refresh_tokens', userId);
      const apps = new Map<string, ConnectedApp>();
      const app = (clientId: string, since: number): ConnectedApp => {
        const found = apps.get(clientId);
        if (found) {
          found.since = Math.min(found.since, since);
          return found;
        }
        const created: ConnectedApp = { clientId, scopes: [], since, lastUsedAt: null, sids: [] };
        apps.set(clientId, created);
        return created;
      };
      for (const consent of consents) app(consent.clientId, consent.grantedAt).scopes.push(...consent.scopes);
      for (const grant of grants) {
        const found = app(grant.clientId, grant.createdAt);
        found.scopes.push(...grant.scope);
        if (grant.sid !== null && !found.sids.includes(grant.sid)) found.sids.push(grant.sid);
      }
      for (const found of apps.values()) {
        found.scopes = [...new Set(found.scopes)];
        const last = Math.max(accessTokens.get(found.clientId) ?? 0, refreshTokens.get(found.clientId) ?? 0);
        found.lastUsedAt = last > 0 ? last : null;
      }
      return [...apps.values()].sort((a, b) => (b.lastUsedAt ?? b.since) - (a.lastUsedAt ?? a.since));
    },

    revokeApp: (userId, clientId, at, deliveries) =>
      ex.transaction(async (tx) => {
        const consent = await tx.db
          .deleteFrom('consents')
          .where('user_id', '=', userId)
          .where('client_id', '=', clientId)
          .returning('client_id')
          .executeTakeFirst();
        const revoked = await tx.db
          .updateTable('grants')
          .set({ revoked_at: at })
          .where('user_id', '=', userId)
          .where('client_id', '=', clientId)
          .where('revoked_at', 'is', null)
          .returning('id')
          .execute();
        const grantIds = revoked.map((row) => row.id);
        if (grantIds.length > 0) {
          await tx.db
            .updateTable('access_tokens')
            .set({ revoked_at: at })
            .where('grant_id', 'in', grantIds)
            .where('revoked_at', 'is', null)
            .execute();
        }
        if ((consent !== undefined || grantIds.length > 0) && deliveries.length > 0) {
          await tx.db.insertInto('logout_deliveries').values(deliveries.map(LOGOUT_DELIVERY.toRow)).execute();
        }
        return { consent: consent !== undefined, grantIds };
      }),
  };
}
