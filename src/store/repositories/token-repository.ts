/**
 * Issued tokens: access token records (for revocation and introspection) and refresh token
 * families (RFC 9700 §4.14.2 rotation).
 */
import type { Selectable } from 'kysely';
import type { AccessTokenRecord, RefreshTokenRecord, RotateRefreshTokenResult } from '../records.js';
import type { RefreshTokensTable } from '../schema.js';
import type { Executor } from '../executor.js';
import { GRANT_TERMS, optionalActor, optionalText, rowCodec, stringArray, type RowCodec } from './row-codec.js';
import { firstRecord, listRecords, revokeRows, type SelectAll } from './row-queries.js';

export interface AccessTokenRepository {
  create(token: AccessTokenRecord): Promise<void>;
  get(jti: string): Promise<AccessTokenRecord | undefined>;
  listByGrant(grantId: string): Promise<AccessTokenRecord[]>;
  /** Marks one access token revoked; false when it does not exist or was already revoked. */
  revoke(jti: string, at: number): Promise<boolean>;
}

export interface RefreshTokenRepository {
  create(token: RefreshTokenRecord): Promise<void>;
  get(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  listByGrant(grantId: string): Promise<RefreshTokenRecord[]>;
  /**
   * Atomically marks `tokenHash` rotated at `now` (only if it was not rotated yet), records
   * the successor's hash and encrypted value on it, and inserts `successor`, in one
   * transaction. Of any number of concurrent callers exactly one gets `rotated`.
   */
  rotate(
    tokenHash: string,
    successor: RefreshTokenRecord,
    successorEncrypted: string,
    now: number,
  ): Promise<RotateRefreshTokenResult>;
}

/**
 * What both kinds of token offer: `create`, `get` by the key (`byKey`: SQL written once) and
 * `listByGrant`, oldest first (then by key).
 */
function tokenRecords<R, T extends 'access_tokens' | 'refresh_tokens'>(
  ex: Executor,
  codec: RowCodec<R, T>,
  byKey: string,
  key: 'jti' | 'token_hash',
) {
  return {
    create: async (token: R) => ex.run(codec.insert(token)),
    get: (value: string) => firstRecord(ex, codec, byKey, [value]),
    listByGrant: (grantId: string) =>
      listRecords(ex, codec, (query) => {
        const rows = query as unknown as SelectAll<'access_tokens'>;
        return rows
          .where('grant_id', '=', grantId)
          .orderBy('created_at')
          .orderBy(key as 'jti') as unknown as typeof query;
      }),
  };
}

export function accessTokenRepository(ex: Executor): AccessTokenRepository {
  return {
    ...tokenRecords(ex, ACCESS_TOKEN, ACCESS_TOKEN_BY_JTI, 'jti'),
    revoke: async (jti, at) => (await revokeRows(ex.db, 'access_tokens', 'jti', jti, at)) > 0n,
  };
}

export function refreshTokenRepository(ex: Executor): RefreshTokenRepository {
  return {
    ...tokenRecords(ex, REFRESH_TOKEN, REFRESH_TOKEN_BY_HASH, 'token_hash'),
    rotate: (tokenHash, successor, successorEncrypted, now) =>
      rotate(ex, tokenHash, successor, successorEncrypted, now),
  };
}

/**
 * As with codes, the conditional UPDATE decides the one winner: on PostgreSQL it takes the
 * row lock, so concurrent callers wait for the winner's commit and then find `rotated_at` set
 * (READ COMMITTED re-checks the WHERE against the committed row); on SQLite the transaction
 * holds the single connection (or, across connections, the write lock). The successor is
 * inserted in the same transaction, so a token is never marked rotated without its successor
 * existing, nor the other way round.
 */
async function rotate(
  ex: Executor,
  tokenHash: string,
  successor: RefreshTokenRecord,
  successorEncrypted: string,
  now: number,
): Promise<RotateRefreshTokenResult> {
  const rotated = await ex.transaction(async (tx) => {
    const row = await tx.first<Selectable<RefreshTokensTable>>(REFRESH_TOKEN_ROTATE, [
      now,
      successor.tokenHash,
      successorEncrypted,
      tokenHash,
    ]);
    if (row) await tx.run(REFRESH_TOKEN.insert(successor));
    return row;
  });
  if (rotated) return { status: 'rotated', token: REFRESH_TOKEN.fromRow(rotated) };

  // Read after the losing transaction ended: the winner, if any, has committed by now (its
  // row lock made our UPDATE wait for it), so the row carries the winner's successor.
  const existing = await firstRecord(ex, REFRESH_TOKEN, REFRESH_TOKEN_BY_HASH, [tokenHash]);
  return existing ? { status: 'already_rotated', token: existing } : { status: 'not_found' };
}

// --- Row mapping ----------------------------------------------------------------------------

export const ACCESS_TOKEN = rowCodec<AccessTokenRecord, 'access_tokens'>('access_tokens', {
  jti: true,
  grantId: true,
  flowId: true,
  clientId: true,
  userId: true,
  scope: stringArray,
  audience: stringArray,
  createdAt: true,
  expiresAt: true,
  revokedAt: true,
  act: optionalActor,
  dpopJkt: optionalText,
});
export const REFRESH_TOKEN = rowCodec<RefreshTokenRecord, 'refresh_tokens'>('refresh_tokens', {
  tokenHash: true,
  grantId: true,
  flowId: true,
  clientId: true,
  userId: true,
  scope: stringArray,
  ...GRANT_TERMS,
  familyExpiresAt: true,
  rotatedAt: true,
  successorHash: true,
  successorEncrypted: true,
  dpopJkt: optionalText,
});

const ACCESS_TOKEN_BY_JTI = ACCESS_TOKEN.selectWhere('"jti" = ?');
const REFRESH_TOKEN_BY_HASH = REFRESH_TOKEN.selectWhere('"token_hash" = ?');
const REFRESH_TOKEN_ROTATE = `update "refresh_tokens" set "rotated_at" = ?, "successor_hash" = ?, "successor_encrypted" = ? where "token_hash" = ? and "rotated_at" is null returning ${REFRESH_TOKEN.columns}`;
