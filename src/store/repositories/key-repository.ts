/** The signing key ring (src/core/keys/key-ring.ts); every instance caches it, so writes announce a change. */
import type { Selectable } from 'kysely';
import type { SigningKeyRecord } from '../records.js';
import type { SigningKeysTable } from '../schema.js';
import type { Executor } from '../executor.js';

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
    list: async () => {
      const rows = await ex.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
      return rows.map(rowToSigningKey);
    },

    get: async (kid) => {
      const row = await ex.db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
      return row ? rowToSigningKey(row) : undefined;
    },

    create: async (key) => {
      await ex.changing({ kind: 'signing_keys' }, (tx) => tx.db.insertInto('signing_keys').values(signingKeyToRow(key)).execute());
    },

    retire: async (kid, at) => {
      const result = await ex.changing({ kind: 'signing_keys' }, (tx) =>
        tx.db.updateTable('signing_keys').set({ retired_at: at }).where('kid', '=', kid).where('retired_at', 'is', null).executeTakeFirst(),
      );
      return result.numUpdatedRows > 0n;
    },
  };
}

// --- Row mapping ----------------------------------------------------------------------------

function signingKeyToRow(key: SigningKeyRecord): SigningKeysTable {
  return {
    kid: key.kid,
    alg: key.alg,
    public_jwk: key.publicJwk,
    private_jwk_encrypted: key.privateJwkEncrypted,
    created_at: key.createdAt,
    activates_at: key.activatesAt,
    retired_at: key.retiredAt,
  };
}

function rowToSigningKey(row: Selectable<SigningKeysTable>): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: row.public_jwk,
    privateJwkEncrypted: row.private_jwk_encrypted,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiredAt: row.retired_at,
  };
}
