/** The signing key ring (src/core/keys/key-ring.ts); every instance caches it, so writes announce a change. */
import type { SigningKeyRecord } from '../records.js';
import type { Executor } from '../executor.js';
import { rowCodec } from './row-codec.js';
import { findRecord, listRecords } from './row-queries.js';

export interface SigningKeyRepository {
  /** Every key, retired ones included, oldest first (by createdAt, then kid). */
  list(): Promise<SigningKeyRecord[]>;
  get(kid: string): Promise<SigningKeyRecord | undefined>;
  create(key: SigningKeyRecord): Promise<void>;
  /**
   * Sets retiredAt of a key that is not retired yet (one conditional update); false when the
   * key does not exist or was already retired, which is then left unchanged.
   */
  retire(kid: string, at: number): Promise<boolean>;
}

export function signingKeyRepository(ex: Executor): SigningKeyRepository {
  return {
    list: () => listRecords(ex, SIGNING_KEY, (query) => query.orderBy('created_at').orderBy('kid')),
    get: (kid) => findRecord(ex, SIGNING_KEY, (query) => query.where('kid', '=', kid)),

    create: async (key) => {
      await ex.changing({ kind: 'signing_keys' }, (tx) =>
        tx.db.insertInto('signing_keys').values(SIGNING_KEY.toRow(key)).execute(),
      );
    },

    retire: async (kid, at) => {
      const result = await ex.changing({ kind: 'signing_keys' }, (tx) =>
        tx.db
          .updateTable('signing_keys')
          .set({ retired_at: at })
          .where('kid', '=', kid)
          .where('retired_at', 'is', null)
          .executeTakeFirst(),
      );
      return result.numUpdatedRows > 0n;
    },
  };
}

const SIGNING_KEY = rowCodec<SigningKeyRecord, 'signing_keys'>('signing_keys', {
  kid: true,
  alg: true,
  publicJwk: true,
  privateJwkEncrypted: true,
  createdAt: true,
  activatesAt: true,
  retiredAt: true,
});
