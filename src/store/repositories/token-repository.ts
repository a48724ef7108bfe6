/**
 * Issued tokens: access token records (for revocation and introspection) and refresh token
 * families (RFC 9700 §4.14.2 rotation).
 */
import type { Selectable } from 'kysely';
import type {
  AccessTokenRecord,
  RefreshTokenForRotation,
  RefreshTokenRecord,
  RotateRefreshTokenResult,
} from '../records.js';
import type { GrantsTable, RefreshTokensTable } from '../schema.js';
import type { Executor } from '../executor.js';
import { optionalActor, optionalText, rowCodec, stringArray } from './row-codec.js';
import { firstRecord, listRecords, revokeRows } from './row-queries.js';

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
   * transaction. Of any number of concurrent callers exactly one gets `rotated`. The successor
   * is of the same grant (family) as the token it replaces; otherwise this throws and changes
   * nothing. `accessToken`, the access token issued with the successor, is stored with it, or
   * not at all. On PostgreSQL one statement: one round trip, no BEGIN or COMMIT.
   */
  rotate(
    tokenHash: string,
    successor: RefreshTokenRecord,
    successorEncrypted: string,
    now: number,
    accessToken?: AccessTokenRecord,
  ): Promise<RotateRefreshTokenResult>;
  /** The token, as `get` reads it, with its grant's session id and revocation: one read for the token endpoint. */
  getForRotation(tokenHash: string): Promise<RefreshTokenForRotation | undefined>;
}

export function accessTokenRepository(ex: Executor): AccessTokenRepository {
  return {
    create: async (token) => ex.run(ACCESS_TOKEN.insert(token)),
    get: (jti) => firstRecord(ex, ACCESS_TOKEN, ACCESS_TOKEN_BY_JTI, [jti]),
    // Oldest first, then by jti.
    listByGrant: (grantId) =>
      listRecords(ex, ACCESS_TOKEN, (query) =>
        query.where('grant_id', '=', grantId).orderBy('created_at').orderBy('jti'),
      ),
    revoke: async (jti, at) => (await revokeRows(ex.db, 'access_tokens', 'jti', jti, at)) > 0n,
  };
}

/**
 * A refresh token's row holds what changes per token; the terms its whole family shares (client,
 * user, scope, resources, sign-in time) are its grant's (migration 0028), so every read joins the
 * grant, and a token is written into 4 B-trees rather than 7.
 */
export function refreshTokenRepository(ex: Executor): RefreshTokenRepository {
  return {
    create: (token) => createRefreshToken(ex, token),
    get: (tokenHash) => readRefreshToken(ex, REFRESH_TOKEN_BY_HASH, tokenHash),
    listByGrant: async (grantId) => (await ex.all<JoinedRow>(REFRESH_TOKENS_OF_GRANT, [grantId])).map(fromJoinedRow),
    rotate: (tokenHash, successor, successorEncrypted, now, accessToken) =>
      rotate(ex, tokenHash, successor, successorEncrypted, now, accessToken),
    getForRotation: async (tokenHash) => {
      const row = await ex.first<JoinedRow & { grant_sid: string | null; grant_revoked_at: number | null }>(
        REFRESH_TOKEN_FOR_ROTATION,
        [tokenHash],
      );
      return row && { token: fromJoinedRow(row), sid: row.grant_sid, grantRevokedAt: row.grant_revoked_at };
    },
  };
}

/**
 * The family's terms go onto its grant with its first token, in the same transaction, unless the
 * grant has them already: a grant issued with a code does (CodeRepository.issue), and so does
 * every grant once its family started. On SQLite that common case is one statement, the INSERT
 * conditioned on the grant holding them; only when it inserted nothing (a grant without them yet,
 * or none at all, which the INSERT then refuses) do the UPDATE and the INSERT follow. On
 * PostgreSQL both are one statement anyway (Executor.insertRowsTogether), where the UPDATE finds
 * nothing to change when the grant has the terms.
 */
export async function createRefreshToken(ex: Executor, token: RefreshTokenRecord): Promise<void> {
  const insert = REFRESH_TOKEN_ROW.insert(token);
  if (ex.dialect !== 'postgres') {
    const inserted = await ex.first(REFRESH_TOKEN_INSERT_UNDER_STARTED_GRANT, [...insert.values, token.grantId]);
    if (inserted !== undefined) return;
  }
  await ex.insertRowsTogether([
    { text: GRANT_START_FAMILY, values: [stringArray.encode(token.resources), token.authTime, token.grantId] },
    insert,
  ]);
}

async function readRefreshToken(
  ex: Executor,
  text: string,
  tokenHash: string,
): Promise<RefreshTokenRecord | undefined> {
  const row = await ex.first<JoinedRow>(text, [tokenHash]);
  return row && fromJoinedRow(row);
}

/**
 * As with codes, the conditional UPDATE decides the one winner: on PostgreSQL it takes the
 * row lock, so concurrent callers wait for the winner's commit and then find `rotated_at` set
 * (READ COMMITTED re-checks the WHERE against the committed row); on SQLite the transaction
 * holds the single connection (or, across connections, the write lock). The successor (and
 * the access token issued with it) is inserted in the same statement on PostgreSQL, the same
 * transaction on SQLite, so a token is never marked rotated without its successor existing,
 * nor the other way round.
 */
async function rotate(
  ex: Executor,
  tokenHash: string,
  successor: RefreshTokenRecord,
  successorEncrypted: string,
  now: number,
  accessToken: AccessTokenRecord | undefined,
): Promise<RotateRefreshTokenResult> {
  const rotated =
    ex.dialect === 'postgres'
      ? await ex.first<Selectable<RefreshTokensTable>>(accessToken ? ROTATE_WITH_ACCESS_TOKEN : ROTATE, [
          now,
          successor.tokenHash,
          successorEncrypted,
          tokenHash,
          successor.grantId,
          JSON.stringify(REFRESH_TOKEN_ROW.toRow(successor)),
          ...(accessToken ? [JSON.stringify(ACCESS_TOKEN.toRow(accessToken))] : []),
        ])
      : await rotateInTransaction(ex, tokenHash, successor, successorEncrypted, now, accessToken);
  if (rotated) {
    // RETURNING reaches no other table; the rotated token's terms are its grant's, the successor's.
    const { flowId, clientId, userId, scope, resources, authTime } = successor;
    return {
      status: 'rotated',
      token: { ...REFRESH_TOKEN_ROW.fromRow(rotated), flowId, clientId, userId, scope, resources, authTime },
    };
  }

  // Read after the losing statement or transaction ended: the winner, if any, has committed by
  // now (its row lock made our UPDATE wait for it), so the row carries the winner's successor.
  const existing = await readRefreshToken(ex, REFRESH_TOKEN_BY_HASH, tokenHash);
  if (existing === undefined) return { status: 'not_found' };
  // PostgreSQL's UPDATE matched nothing for a successor of another grant (see rotateInTransaction).
  if (existing.rotatedAt === null && existing.grantId !== successor.grantId) throw otherFamily(existing, successor);
  return { status: 'already_rotated', token: existing };
}

function otherFamily(token: Pick<RefreshTokenRecord, 'grantId'>, successor: RefreshTokenRecord): Error {
  return new Error(`The successor of a refresh token must be of its grant ${token.grantId}, not ${successor.grantId}`);
}

/** SQLite: the same steps in one transaction. */
async function rotateInTransaction(
  ex: Executor,
  tokenHash: string,
  successor: RefreshTokenRecord,
  successorEncrypted: string,
  now: number,
  accessToken: AccessTokenRecord | undefined,
): Promise<Selectable<RefreshTokensTable> | undefined> {
  return ex.transaction(async (tx) => {
    const row = await tx.first<Selectable<RefreshTokensTable>>(REFRESH_TOKEN_ROTATE, [
      now,
      successor.tokenHash,
      successorEncrypted,
      tokenHash,
    ]);
    if (!row) return undefined;
    // A family's terms are its grant's: a successor in another family would not be one.
    if (row.grant_id !== successor.grantId) throw otherFamily({ grantId: row.grant_id }, successor);
    await tx.run(REFRESH_TOKEN_ROW.insert(successor));
    if (accessToken !== undefined) await tx.run(ACCESS_TOKEN.insert(accessToken));
    return row;
  });
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

/** The fields of a refresh token its own row holds; the others are its family's, on the grant. */
type RefreshTokenRow = Pick<
  RefreshTokenRecord,
  | 'tokenHash'
  | 'grantId'
  | 'createdAt'
  | 'expiresAt'
  | 'familyExpiresAt'
  | 'rotatedAt'
  | 'successorHash'
  | 'successorEncrypted'
  | 'dpopJkt'
>;
export const REFRESH_TOKEN_ROW = rowCodec<RefreshTokenRow, 'refresh_tokens'>('refresh_tokens', {
  tokenHash: true,
  grantId: true,
  createdAt: true,
  expiresAt: true,
  familyExpiresAt: true,
  rotatedAt: true,
  successorHash: true,
  successorEncrypted: true,
  dpopJkt: optionalText,
});

/** A refresh token's row with its grant's family columns. */
type JoinedRow = Selectable<RefreshTokensTable> &
  Pick<Selectable<GrantsTable>, 'flow_id' | 'client_id' | 'user_id' | 'scope' | 'resources' | 'auth_time'>;

function fromJoinedRow(row: JoinedRow): RefreshTokenRecord {
  return {
    ...REFRESH_TOKEN_ROW.fromRow(row),
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    scope: stringArray.decode(row.scope, 'grants.scope', row),
    // NULL only on a grant without a family, which no token row references.
    resources: stringArray.decode(row.resources ?? 'null', 'grants.resources', row),
    authTime: row.auth_time === null ? null : Number(row.auth_time),
  };
}

const JOINED_COLUMNS = [
  ...REFRESH_TOKEN_ROW.columnNames.map((column) => `r."${column}"`),
  ...['flow_id', 'client_id', 'user_id', 'scope', 'resources', 'auth_time'].map((column) => `g."${column}"`),
].join(', ');
const JOINED = `select ${JOINED_COLUMNS} from "refresh_tokens" r join "grants" g on g."id" = r."grant_id"`;

const REFRESH_TOKEN_FOR_ROTATION = `select ${JOINED_COLUMNS}, g."sid" as "grant_sid", g."revoked_at" as "grant_revoked_at" from "refresh_tokens" r join "grants" g on g."id" = r."grant_id" where r."token_hash" = ?`;
/**
 * PostgreSQL's rotation as one statement: the conditional UPDATE (only a token of the successor's
 * grant), and the successor and access token inserted from JSON only when it matched. The
 * successor's grant holds the family's terms already (its predecessor's did).
 */
const ROTATE_PREFIX = `with "rotated" as (update "refresh_tokens" set "rotated_at" = ?, "successor_hash" = ?, "successor_encrypted" = ? where "token_hash" = ? and "rotated_at" is null and "grant_id" = ? returning ${REFRESH_TOKEN_ROW.columns}), "successor" as (insert into "refresh_tokens" select * from json_populate_record(null::"refresh_tokens", ?::json) where exists (select 1 from "rotated"))`;
const ROTATE_SUFFIX = ` select ${REFRESH_TOKEN_ROW.columns} from "rotated"`;
const ROTATE = `${ROTATE_PREFIX}${ROTATE_SUFFIX}`;
const ROTATE_WITH_ACCESS_TOKEN = `${ROTATE_PREFIX}, "access" as (insert into "access_tokens" select * from json_populate_record(null::"access_tokens", ?::json) where exists (select 1 from "rotated"))${ROTATE_SUFFIX}`;
const ACCESS_TOKEN_BY_JTI = ACCESS_TOKEN.selectWhere('"jti" = ?');
const REFRESH_TOKEN_BY_HASH = `${JOINED} where r."token_hash" = ?`;
const REFRESH_TOKENS_OF_GRANT = `${JOINED} where r."grant_id" = ? order by r."created_at", r."token_hash"`;
const REFRESH_TOKEN_ROTATE = `update "refresh_tokens" set "rotated_at" = ?, "successor_hash" = ?, "successor_encrypted" = ? where "token_hash" = ? and "rotated_at" is null returning ${REFRESH_TOKEN_ROW.columns}`;
const REFRESH_TOKEN_PLACEHOLDERS = REFRESH_TOKEN_ROW.columnNames.map(() => '?').join(', ');
const REFRESH_TOKEN_INSERT_UNDER_STARTED_GRANT = `insert into "refresh_tokens" (${REFRESH_TOKEN_ROW.columns}) select ${REFRESH_TOKEN_PLACEHOLDERS} where exists (select 1 from "grants" where "id" = ? and "resources" is not null) returning "token_hash"`;
const GRANT_START_FAMILY = `update "grants" set "resources" = ?, "auth_time" = ? where "id" = ? and "resources" is null`;
