/**
 * Authorization codes (RFC 6749 §4.1.2): issued with their grant at the authorization endpoint,
 * read and then redeemed once at the token endpoint (§4.1.3), a replay detected (§4.1.2, RFC 9700
 * §4.5).
 */
import type { Selectable } from 'kysely';
import type {
  AuthorizationCode,
  CodeForRedemption,
  CodeRedemption,
  ConsumeCodeResult,
  Grant,
  RedeemCodeResult,
} from '../records.js';
import type { Executor } from '../executor.js';
import type { AuthorizationCodesTable } from '../schema.js';
import { GRANT_TERMS, intBool, optionalText, rowCodec, stringArray } from './row-codec.js';
import { firstRecord } from './row-queries.js';
import { GRANT_WITH_TERMS } from './session-repository.js';
import { ACCESS_TOKEN, createRefreshToken, REFRESH_TOKEN_ROW } from './token-repository.js';

export interface CodeRepository {
  create(code: AuthorizationCode): Promise<void>;
  /**
   * Records a new grant and its authorization code in one transaction: both or neither, and
   * one commit instead of two on the authorization endpoint's hot path.
   */
  issue(grant: Grant, code: AuthorizationCode): Promise<void>;
  /**
   * Reads a code by its hash without consuming it, consumed or expired codes included: the
   * token endpoint checks the client, redirect_uri and PKCE verifier on it before it consumes
   * (RFC 6749 §4.1.3), so that a request failing them changes nothing.
   */
  get(codeHash: string): Promise<AuthorizationCode | undefined>;
  /**
   * Atomically marks the code consumed. Exactly one of any number of concurrent callers gets
   * `consumed`; the others get `replayed`. An expired code is still returned (the caller
   * decides), so that expiry and replay are reported precisely.
   */
  consume(codeHash: string, now: number): Promise<ConsumeCodeResult>;
  /** The code, as `get` reads it, with its grant's session id: one read for the token endpoint. */
  getForRedemption(codeHash: string): Promise<CodeForRedemption | undefined>;
  /**
   * RFC 6749 §4.1.2 and §5.1 in one atomic step: consumes the code if it is unconsumed and stores
   * the tokens issued for it, or does neither. Exactly one of any number of concurrent callers
   * gets `redeemed`; the others get `replayed` and store nothing. On PostgreSQL one statement
   * (one round trip, no BEGIN or COMMIT) that also holds the grant's row (FOR SHARE) while it
   * runs: a revocation of the grant either committed before it (and `grantRevokedAt` says so)
   * or waits for it, and then finds the tokens it stored.
   */
  redeem(codeHash: string, now: number, issued: CodeRedemption): Promise<RedeemCodeResult>;
}

export function codeRepository(ex: Executor): CodeRepository {
  return {
    create: async (code) => {
      await ex.db.insertInto('authorization_codes').values(CODE.toRow(code)).execute();
    },

    issue: async (grant, code) => {
      await ex.insertRowsTogether([
        GRANT_WITH_TERMS.insert({ ...grant, resources: code.resources, authTime: code.authTime }),
        CODE.insert(code),
      ]);
    },

    get: (codeHash) => firstRecord(ex, CODE, CODE_BY_HASH, [codeHash]),

    // The conditional UPDATE is the whole of the atomicity: of any number of concurrent callers,
    // exactly one sees `consumed_at IS NULL` and gets the row back. The follow-up SELECT only
    // tells a replay (row exists) from an unknown code.
    consume: async (codeHash, now) => {
      const consumed = await firstRecord(ex, CODE, CODE_CONSUME, [now, codeHash]);
      if (consumed) return { status: 'consumed', code: consumed };
      const existing = await firstRecord(ex, CODE, CODE_BY_HASH, [codeHash]);
      return existing ? { status: 'replayed', code: existing } : { status: 'not_found' };
    },

    getForRedemption: async (codeHash) => {
      const row = await ex.first<Selectable<AuthorizationCodesTable> & { grant_sid: string | null }>(
        CODE_FOR_REDEMPTION,
        [codeHash],
      );
      return row === undefined ? undefined : { code: CODE.fromRow(row), sid: row.grant_sid };
    },

    redeem: async (codeHash, now, issued) => {
      const redeemed =
        ex.dialect === 'postgres'
          ? await redeemInOneStatement(ex, codeHash, now, issued)
          : await redeemInTransaction(ex, codeHash, now, issued);
      if (redeemed !== undefined) return redeemed;
      // Not consumed by this call: a replay (the winner has committed: its row lock made the
      // UPDATE wait for it), or no such code.
      const existing = await firstRecord(ex, CODE, CODE_BY_HASH, [codeHash]);
      return existing ? { status: 'replayed', code: existing } : { status: 'not_found' };
    },
  };
}

type Redeemed = Extract<RedeemCodeResult, { status: 'redeemed' }>;

/** SQLite (a statement costs no round trip): the same steps in one transaction. */
async function redeemInTransaction(
  ex: Executor,
  codeHash: string,
  now: number,
  issued: CodeRedemption,
): Promise<Redeemed | undefined> {
  return ex.transaction(async (tx) => {
    const consumed = await tx.first<{ grant_id: string }>(CODE_CONSUME_GRANT, [now, codeHash]);
    if (consumed === undefined) return undefined;
    const grant = await tx.first<{ revoked_at: number | null }>(GRANT_REVOKED_AT, [consumed.grant_id]);
    await tx.run(ACCESS_TOKEN.insert(issued.accessToken));
    if (issued.refreshToken !== null) await createRefreshToken(tx, issued.refreshToken);
    return { status: 'redeemed', grantRevokedAt: grant?.revoked_at ?? null } as const;
  });
}

/**
 * PostgreSQL: one statement, atomic by itself. The token rows are passed as JSON and inserted
 * only when the code's conditional UPDATE matched (`where exists consumed`); the grant's row is
 * read FOR SHARE, so that a concurrent revocation (which updates the grant first, then its
 * tokens) either committed before this statement, or waits until it has committed and then
 * revokes the tokens it stored.
 */
async function redeemInOneStatement(
  ex: Executor,
  codeHash: string,
  now: number,
  issued: CodeRedemption,
): Promise<Redeemed | undefined> {
  const values: unknown[] = [codeHash, now, codeHash, JSON.stringify(ACCESS_TOKEN.toRow(issued.accessToken))];
  const refreshToken = issued.refreshToken;
  if (refreshToken !== null)
    values.push(
      stringArray.encode(refreshToken.resources),
      refreshToken.authTime,
      JSON.stringify(REFRESH_TOKEN_ROW.toRow(refreshToken)),
    );
  const row = await ex.first<{ revoked_at: number | null }>(
    issued.refreshToken !== null ? REDEEM_WITH_REFRESH_TOKEN : REDEEM_WITHOUT_REFRESH_TOKEN,
    values,
  );
  if (row === undefined) return undefined;
  return { status: 'redeemed', grantRevokedAt: row.revoked_at };
}

// --- Row mapping ----------------------------------------------------------------------------

/** Scopes in first-seen order without duplicates. */
const CODE = rowCodec<AuthorizationCode, 'authorization_codes'>('authorization_codes', {
  codeHash: true,
  grantId: true,
  flowId: true,
  clientId: true,
  userId: true,
  redirectUri: true,
  redirectUriProvided: intBool,
  scope: stringArray,
  codeChallenge: true,
  codeChallengeMethod: true,
  nonce: true,
  ...GRANT_TERMS,
  consumedAt: true,
  dpopJkt: optionalText,
});

const CODE_BY_HASH = CODE.selectWhere('"code_hash" = ?');
const CODE_FOR_REDEMPTION = `select ${CODE.columns}, (select "sid" from "grants" where "grants"."id" = "authorization_codes"."grant_id") as "grant_sid" from "authorization_codes" where "code_hash" = ?`;
const CODE_CONSUME_GRANT = `update "authorization_codes" set "consumed_at" = ? where "code_hash" = ? and "consumed_at" is null returning "grant_id"`;
const GRANT_REVOKED_AT = `select "revoked_at" from "grants" where "id" = ?`;
const REDEEM_PREFIX = `with "grant_row" as (select "revoked_at" from "grants" where "id" = (select "grant_id" from "authorization_codes" where "code_hash" = ?) for share), "consumed" as (update "authorization_codes" set "consumed_at" = ? where "code_hash" = ? and "consumed_at" is null returning "grant_id"), "access" as (insert into "access_tokens" select * from json_populate_record(null::"access_tokens", ?::json) where exists (select 1 from "consumed"))`;
const REDEEM_SUFFIX = ` select (select "revoked_at" from "grant_row") as "revoked_at" from "consumed"`;
const REDEEM_WITHOUT_REFRESH_TOKEN = `${REDEEM_PREFIX}${REDEEM_SUFFIX}`;
// The family's terms go onto the grant unless it has them (a grant issued with its code has them,
// see issue; one from before migration 0028 may not), as createRefreshToken does.
const REDEEM_WITH_REFRESH_TOKEN = `${REDEEM_PREFIX}, "family" as (update "grants" set "resources" = ?, "auth_time" = ? where "id" in (select "grant_id" from "consumed") and "resources" is null), "refresh" as (insert into "refresh_tokens" select * from json_populate_record(null::"refresh_tokens", ?::json) where exists (select 1 from "consumed"))${REDEEM_SUFFIX}`;
const CODE_CONSUME = `update "authorization_codes" set "consumed_at" = ? where "code_hash" = ? and "consumed_at" is null returning ${CODE.columns}`;
