/**
 * Single-use JWT ids, shared by every instance: client assertions (RFC 7523 §3 item 7), and
 * later DPoP proofs (RFC 9449 §11.1) and request objects (RFC 9101 §10.8). A row per (purpose,
 * id) lives until the JWT's `exp`, after which the JWT is refused anyway and the cleanup
 * (./expired-rows.ts) removes the row.
 */
import { createHash } from 'node:crypto';
import type { Executor } from '../executor.js';

export interface ReplayRepository {
  /**
   * Records that `jti` was used for `purpose` until `expiresAt`; true when this call recorded it
   * first, false when it was already recorded and has not expired (a replay). Atomic across
   * callers and instances: one INSERT ... ON CONFLICT DO NOTHING, so of concurrent callers with
   * the same id exactly one gets true. A row already past its expiry is taken over by the caller
   * (the conditional update), as if the cleanup had removed it.
   */
  markUsed(purpose: string, jti: string, expiresAt: number, now: number): Promise<boolean>;
}

/** The stored key of an id: SHA-256 of purpose and id, so that no id is stored and each purpose has its own. */
export function usedJtiHash(purpose: string, jti: string): string {
  return createHash('sha256').update(`${purpose}\u0000${jti}`).digest('base64url');
}

export function replayRepository(ex: Executor): ReplayRepository {
  return {
    markUsed: async (purpose, jti, expiresAt, now) => {
      const row = await ex.db
        .insertInto('used_jtis')
        .values({ purpose, jti_hash: usedJtiHash(purpose, jti), expires_at: expiresAt })
        .onConflict((oc) =>
          oc
            .columns(['purpose', 'jti_hash'])
            .doUpdateSet({ expires_at: expiresAt })
            .where('used_jtis.expires_at', '<=', now),
        )
        .returning('jti_hash')
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
