/**
 * Issued tokens: access token records (for revocation and introspection) and refresh token
 * families (RFC 9700 §4.14.2 rotation).
 */
import type { Selectable } from 'kysely';
import type { AccessTokenRecord, RefreshTokenRecord, RotateRefreshTokenResult } from '../records.js';
import type { AccessTokensTable, RefreshTokensTable } from '../schema.js';
import { columnList, type Executor } from '../executor.js';
import { decodeStringArray, encodeJson } from './row-codec.js';

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
  rotate(tokenHash: string, successor: RefreshTokenRecord, successorEncrypted: string, now: number): Promise<RotateRefreshTokenResult>;
}

export function accessTokenRepository(ex: Executor): AccessTokenRepository {
  return {
    create: async (token) => {
      await ex.insertRow('access_tokens', accessTokenToRow(token));
    },

    get: async (jti) => {
      const row = await ex.first<Selectable<AccessTokensTable>>(`select ${ACCESS_TOKEN_COLUMNS} from "access_tokens" where "jti" = ?`, [jti]);
      return row && rowToAccessToken(row);
    },

    listByGrant: async (grantId) => {
      const rows = await ex.db.selectFrom('access_tokens').selectAll().where('grant_id', '=', grantId).orderBy('created_at').orderBy('jti').execute();
      return rows.map(rowToAccessToken);
    },

    // `revoked_at IS NULL` keeps the first revocation time and tells a change from a no-op.
    revoke: async (jti, at) => {
      const result = await ex.db.updateTable('access_tokens').set({ revoked_at: at }).where('jti', '=', jti).where('revoked_at', 'is', null).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

export function refreshTokenRepository(ex: Executor): RefreshTokenRepository {
  return {
    create: async (token) => {
      await ex.insertRow('refresh_tokens', refreshTokenToRow(token));
    },

    get: async (tokenHash) => {
      const row = await ex.first<Selectable<RefreshTokensTable>>(`select ${REFRESH_TOKEN_COLUMNS} from "refresh_tokens" where "token_hash" = ?`, [tokenHash]);
      return row && rowToRefreshToken(row);
    },

    listByGrant: async (grantId) => {
      const rows = await ex.db.selectFrom('refresh_tokens').selectAll().where('grant_id', '=', grantId).orderBy('created_at').orderBy('token_hash').execute();
      return rows.map(rowToRefreshToken);
    },

    rotate: (tokenHash, successor, successorEncrypted, now) => rotate(ex, tokenHash, successor, successorEncrypted, now),
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
async function rotate(ex: Executor, tokenHash: string, successor: RefreshTokenRecord, successorEncrypted: string, now: number): Promise<RotateRefreshTokenResult> {
  const rotated = await ex.transaction(async (tx) => {
    const row = await tx.first<Selectable<RefreshTokensTable>>(
      `update "refresh_tokens" set "rotated_at" = ?, "successor_hash" = ?, "successor_encrypted" = ? where "token_hash" = ? and "rotated_at" is null returning ${REFRESH_TOKEN_COLUMNS}`,
      [now, successor.tokenHash, successorEncrypted, tokenHash],
    );
    if (row) await tx.insertRow('refresh_tokens', refreshTokenToRow(successor));
    return row;
  });
  if (rotated) return { status: 'rotated', token: rowToRefreshToken(rotated) };

  // Read after the losing transaction ended: the winner, if any, has committed by now (its
  // row lock made our UPDATE wait for it), so the row carries the winner's successor.
  const existing = await ex.first<Selectable<RefreshTokensTable>>(`select ${REFRESH_TOKEN_COLUMNS} from "refresh_tokens" where "token_hash" = ?`, [tokenHash]);
  return existing ? { status: 'already_rotated', token: rowToRefreshToken(existing) } : { status: 'not_found' };
}

// --- Row mapping ----------------------------------------------------------------------------

const ACCESS_TOKEN_COLUMNS = columnList<AccessTokensTable>({
  jti: true, grant_id: true, flow_id: true, client_id: true, user_id: true, scope: true, audience: true, created_at: true,
  expires_at: true, revoked_at: true,
});
const REFRESH_TOKEN_COLUMNS = columnList<RefreshTokensTable>({
  token_hash: true, grant_id: true, flow_id: true, client_id: true, user_id: true, scope: true, resources: true, auth_time: true,
  created_at: true, expires_at: true, family_expires_at: true, rotated_at: true, successor_hash: true, successor_encrypted: true,
});

function accessTokenToRow(token: AccessTokenRecord): AccessTokensTable {
  return {
    jti: token.jti,
    grant_id: token.grantId,
    flow_id: token.flowId,
    client_id: token.clientId,
    user_id: token.userId,
    scope: encodeJson(token.scope),
    audience: encodeJson(token.audience),
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    revoked_at: token.revokedAt,
  };
}

function rowToAccessToken(row: Selectable<AccessTokensTable>): AccessTokenRecord {
  return {
    jti: row.jti,
    grantId: row.grant_id,
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    scope: decodeStringArray(row.scope, 'access_tokens.scope'),
    audience: decodeStringArray(row.audience, 'access_tokens.audience'),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

function refreshTokenToRow(token: RefreshTokenRecord): RefreshTokensTable {
  return {
    token_hash: token.tokenHash,
    grant_id: token.grantId,
    flow_id: token.flowId,
    client_id: token.clientId,
    user_id: token.userId,
    scope: encodeJson(token.scope),
    resources: encodeJson(token.resources),
    auth_time: token.authTime,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    family_expires_at: token.familyExpiresAt,
    rotated_at: token.rotatedAt,
    successor_hash: token.successorHash,
    successor_encrypted: token.successorEncrypted,
  };
}

function rowToRefreshToken(row: Selectable<RefreshTokensTable>): RefreshTokenRecord {
  return {
    tokenHash: row.token_hash,
    grantId: row.grant_id,
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    scope: decodeStringArray(row.scope, 'refresh_tokens.scope'),
    resources: decodeStringArray(row.resources, 'refresh_tokens.resources'),
    authTime: row.auth_time,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    familyExpiresAt: row.family_expires_at,
    rotatedAt: row.rotated_at,
    successorHash: row.successor_hash,
    successorEncrypted: row.successor_encrypted,
  };
}
