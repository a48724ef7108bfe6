/**
 * What one sign-in and one authorization leave behind: single sign-on sessions, interactions
 * waiting for the user, consents, grants and their authorization codes.
 */
import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type {
  AuthorizationCode,
  CodeForRedemption,
  CodeRedemption,
  Consent,
  ConsumeCodeResult,
  RedeemCodeResult,
  Grant,
  Interaction,
  Session,
  StoredAuthorizationRequest,
} from '../records.js';
import type { Executor } from '../executor.js';
import type { AuthorizationCodesTable, SessionsTable } from '../schema.js';
import {
  GRANT_TERMS,
  intBool,
  jsonObject,
  optionalText,
  optionalTime,
  rowCodec,
  stringArray,
  type FieldCodec,
} from './row-codec.js';
import { findRecord, firstRecord, listRecords, revokeRows } from './row-queries.js';
import { ACCESS_TOKEN, createRefreshToken, REFRESH_TOKEN_ROW } from './token-repository.js';

/** A page of a listing in key order: the rows after `after`, at most `limit` of them. */
export interface PageFilter {
  after?: string | undefined;
  limit?: number | undefined;
}

export interface SessionRepository {
  create(session: Session): Promise<void>;
  /** Returns the session only while it has not expired at `now`. */
  get(idHash: string, now: number): Promise<Session | undefined>;
  /**
   * The session as `get` reads it, with its user's consent to `clientId` (undefined when there
   * is none): the authorization endpoint's two reads in one statement (one round trip on
   * PostgreSQL instead of two).
   */
  getWithConsent(
    idHash: string,
    now: number,
    clientId: string,
  ): Promise<{ session: Session; consent: Consent | undefined } | undefined>;
  delete(idHash: string): Promise<void>;
  /** Records that the browser used the session at `at` (the account page's "last seen"). */
  touch(idHash: string, at: number): Promise<void>;
  /**
   * The sessions not expired at `now`, of one user when `userId` is given (admin API), by sid;
   * a page of them with `after` (the last sid of the previous page) and `limit`.
   */
  list(filter: { userId?: string | undefined } & PageFilter, now: number): Promise<Session[]>;
  /** The session with this public id (OpenID Connect `sid`) while it has not expired at `now`. */
  getBySid(sid: string, now: number): Promise<Session | undefined>;
}

export interface InteractionRepository {
  create(interaction: Interaction): Promise<void>;
  /** Returns the interaction only while it has not expired at `now`. */
  get(id: string, now: number): Promise<Interaction | undefined>;
  /** Atomically removes the interaction; true only for the one caller that removed it. */
  consume(id: string): Promise<boolean>;
  /** How many interactions have not expired at `now`, counting no further than `atMost`. */
  countLive(now: number, atMost: number): Promise<number>;
  /** Keeps the username of a failed sign-in, for the login page shown after the redirect. */
  noteTypedUsername(id: string, username: string): Promise<void>;
}

export interface ConsentRepository {
  get(userId: string, clientId: string): Promise<Consent | undefined>;
  /** Records consent; scopes are merged with any earlier consent of the same user and client. */
  grant(consent: Consent): Promise<void>;
  /** The consents of one user and/or client (admin API), by user and client. */
  list(filter: { userId?: string | undefined; clientId?: string | undefined }): Promise<Consent[]>;
  /** Forgets the consent of `userId` to `clientId` (the next authorization asks again); true when there was one. */
  delete(userId: string, clientId: string): Promise<boolean>;
}

/**
 * What every refresh token of a grant's family shares besides the grant's own fields (migration
 * 0028): the RFC 8707 resources and the sign-in time.
 */
export interface GrantFamilyTerms {
  resources: string[];
  authTime: number | null;
}

export interface GrantRepository {
  /**
   * `family`: the terms of the refresh token family the grant starts at once (the device grant,
   * RFC 8628 §3.5), so that its first refresh token need not write the grant row again.
   */
  create(grant: Grant, family?: GrantFamilyTerms): Promise<void>;
  get(id: string): Promise<Grant | undefined>;
  /** Marks the grant and every access token issued under it revoked. Idempotent. */
  revoke(id: string, at: number): Promise<void>;
  /**
   * The grants of one user and/or client (admin API), revoked ones only when `revoked` is true,
   * by id; a page of them with `after` (the last id of the previous page) and `limit`.
   */
  list(
    filter: {
      userId?: string | undefined;
      clientId?: string | undefined;
      revoked?: boolean | undefined;
    } & PageFilter,
  ): Promise<Grant[]>;
}

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

export function sessionRepository(ex: Executor): SessionRepository {
  return {
    create: async (session) => {
      await ex.db.insertInto('sessions').values(SESSION.toRow(session)).execute();
    },

    get: (idHash, now) => firstRecord(ex, SESSION, SESSION_LIVE_BY_ID_HASH, [idHash, now]),

    getWithConsent: async (idHash, now, clientId) => {
      const row = await ex.first<
        Selectable<SessionsTable> & { consent_scopes: string | null; consent_granted_at: number | null }
      >(SESSION_LIVE_WITH_CONSENT, [idHash, now, clientId]);
      if (row === undefined) return undefined;
      const consent =
        row.consent_scopes === null
          ? undefined
          : CONSENT.fromRow({
              user_id: row.user_id,
              client_id: clientId,
              scopes: row.consent_scopes,
              granted_at: row.consent_granted_at!,
            });
      return { session: SESSION.fromRow(row), consent };
    },

    delete: async (idHash) => {
      await ex.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    },

    touch: async (idHash, at) => {
      await ex.db.updateTable('sessions').set({ last_seen_at: at }).where('id_hash', '=', idHash).execute();
    },

    list: (filter, now) =>
      listRecords(ex, SESSION, (query) => {
        let live = query.where('expires_at', '>', now);
        if (filter.userId !== undefined) live = live.where('user_id', '=', filter.userId);
        // Keyset pagination on the unique sid index: a page costs its own rows, not the table's.
        if (filter.after !== undefined) live = live.where('sid', '>', filter.after);
        live = live.orderBy('sid');
        return filter.limit !== undefined ? live.limit(filter.limit) : live;
      }),

    getBySid: (sid, now) =>
      findRecord(ex, SESSION, (query) => query.where('sid', '=', sid).where('expires_at', '>', now)),
  };
}

export function interactionRepository(ex: Executor): InteractionRepository {
  return {
    create: async (interaction) => {
      await ex.db.insertInto('interactions').values(INTERACTION.toRow(interaction)).execute();
    },

    get: (id, now) => findRecord(ex, INTERACTION, (query) => query.where('id', '=', id).where('expires_at', '>', now)),

    // The DELETE itself decides the winner: only one statement can remove the row.
    consume: async (id) => {
      const removed = await ex.db.deleteFrom('interactions').where('id', '=', id).returning('id').executeTakeFirst();
      return removed !== undefined;
    },

    noteTypedUsername: async (id, username) => {
      await ex.db.updateTable('interactions').set({ typed_username: username }).where('id', '=', id).execute();
    },

    // The LIMIT stops the count at the cap: a full table costs no more than a full cap.
    countLive: async (now, atMost) => {
      const live = ex.db.selectFrom('interactions').select('id').where('expires_at', '>', now).limit(atMost).as('live');
      const row = await ex.db
        .selectFrom(live)
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('count'))
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}

export function consentRepository(ex: Executor): ConsentRepository {
  return {
    get: (userId, clientId) => firstRecord(ex, CONSENT, CONSENT_BY_USER_AND_CLIENT, [userId, clientId]),

    grant: async (consent) => {
      await ex.transaction(async (tx) => {
        // The upsert inserts the consent or, when one exists, locks its row (PostgreSQL) or
        // the database (SQLite) before we read it, so concurrent grants merge one after the
        // other instead of overwriting each other. Its no-op update returns the stored scopes.
        const stored = await tx.db
          .insertInto('consents')
          .values(CONSENT.toRow({ ...consent, scopes: uniqueScopes(consent.scopes) }))
          .onConflict((oc) =>
            oc.columns(['user_id', 'client_id']).doUpdateSet((eb) => ({ scopes: eb.ref('consents.scopes') })),
          )
          .returning('scopes')
          .executeTakeFirstOrThrow();
        const merged = uniqueScopes([
          ...stringArray.decode(stored.scopes, 'consents.scopes', stored),
          ...consent.scopes,
        ]);
        await tx.db
          .updateTable('consents')
          .set({ scopes: stringArray.encode(merged), granted_at: consent.grantedAt })
          .where('user_id', '=', consent.userId)
          .where('client_id', '=', consent.clientId)
          .execute();
      });
    },

    list: (filter) =>
      listRecords(ex, CONSENT, (query) => {
        let narrowed = query;
        if (filter.userId !== undefined) narrowed = narrowed.where('user_id', '=', filter.userId);
        if (filter.clientId !== undefined) narrowed = narrowed.where('client_id', '=', filter.clientId);
        return narrowed.orderBy('user_id').orderBy('client_id');
      }),

    delete: async (userId, clientId) => {
      const removed = await ex.db
        .deleteFrom('consents')
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .returning('user_id')
        .executeTakeFirst();
      return removed !== undefined;
    },
  };
}

export function grantRepository(ex: Executor): GrantRepository {
  return {
    create: async (grant, family) => {
      if (family === undefined) await ex.db.insertInto('grants').values(GRANT.toRow(grant)).execute();
      else await ex.run(GRANT_WITH_TERMS.insert({ ...grant, resources: family.resources, authTime: family.authTime }));
    },

    get: (id) => firstRecord(ex, GRANT, GRANT_BY_ID, [id]),

    // `revoked_at IS NULL` keeps the first revocation time, which makes this idempotent.
    revoke: async (id, at) => {
      await ex.transaction(async (tx) => {
        await revokeRows(tx.db, 'grants', 'id', id, at);
        await revokeRows(tx.db, 'access_tokens', 'grant_id', id, at);
      });
    },

    list: (filter) =>
      listRecords(ex, GRANT, (query) => {
        let narrowed = query;
        if (filter.userId !== undefined) narrowed = narrowed.where('user_id', '=', filter.userId);
        if (filter.clientId !== undefined) narrowed = narrowed.where('client_id', '=', filter.clientId);
        if (filter.revoked !== undefined)
          narrowed = narrowed.where('revoked_at', filter.revoked ? 'is not' : 'is', null);
        // Keyset pagination on the primary key.
        if (filter.after !== undefined) narrowed = narrowed.where('id', '>', filter.after);
        narrowed = narrowed.orderBy('id');
        return filter.limit !== undefined ? narrowed.limit(filter.limit) : narrowed;
      }),
  };
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
function uniqueScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)];
}

/**
 * The sid of a session row written without one (by a version older than migration 0003 during
 * a rolling upgrade): derived from the id hash, one-way, so it is stable and reveals nothing.
 */
const sessionSid: FieldCodec<string, string | null> = {
  encode: (sid) => sid,
  decode: (sid, _label, row) =>
    sid ??
    createHash('sha256')
      .update(`gatehouse sid\0${row.id_hash as string}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url'),
};

/**
 * A stored authorization request. Interactions stored by older versions (a rolling upgrade) lack
 * the newer fields: no resource indicators, no max_age, no id_token_hint, no ui_locales.
 */
const authorizationRequest: FieldCodec<StoredAuthorizationRequest, string> = {
  encode: (request) => JSON.stringify(request),
  decode: (text, label, row) => {
    const request = jsonObject.decode(text, label, row) as Partial<StoredAuthorizationRequest>;
    return {
      ...request,
      resources: Array.isArray(request.resources) ? request.resources : [],
      maxAge: typeof request.maxAge === 'number' ? request.maxAge : null,
      idTokenHintSub: typeof request.idTokenHintSub === 'string' ? request.idTokenHintSub : null,
      uiLocales: Array.isArray(request.uiLocales) ? request.uiLocales : [],
    } as StoredAuthorizationRequest;
  },
};

const SESSION = rowCodec<Session, 'sessions'>('sessions', {
  idHash: true,
  sid: sessionSid,
  userId: true,
  authTime: true,
  createdAt: true,
  expiresAt: true,
  userAgent: optionalText,
  lastSeenAt: optionalTime,
});
const INTERACTION = rowCodec<Interaction, 'interactions'>('interactions', {
  id: true,
  flowId: true,
  clientId: true,
  request: authorizationRequest,
  browserBindingHash: true,
  csrfToken: true,
  createdAt: true,
  expiresAt: true,
  typedUsername: optionalText,
});
const CONSENT = rowCodec<Consent, 'consents'>('consents', {
  userId: true,
  clientId: true,
  scopes: stringArray,
  grantedAt: true,
});
const GRANT_FIELDS = {
  id: true,
  flowId: true,
  clientId: true,
  userId: true,
  scope: stringArray,
  sid: true,
  createdAt: true,
  revokedAt: true,
} as const;
/** A grant as the rest of the code sees it; its refresh token family's terms are the token repository's. */
const GRANT = rowCodec<Grant, 'grants', 'resources' | 'auth_time'>('grants', GRANT_FIELDS);
/**
 * A grant written with its code, and with the terms the code carries (RFC 8707 resources, the
 * sign-in time): a refresh token family started from the code has the same, so that its first
 * token finds them on the grant and need not write the grant row again at the token endpoint
 * (src/store/repositories/token-repository.ts).
 */
const GRANT_WITH_TERMS = rowCodec<Grant & GrantFamilyTerms, 'grants'>('grants', {
  ...GRANT_FIELDS,
  resources: stringArray,
  authTime: true,
});
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

const SESSION_LIVE_BY_ID_HASH = SESSION.selectWhere('"id_hash" = ? and "expires_at" > ?');
const CONSENT_BY_USER_AND_CLIENT = CONSENT.selectWhere('"user_id" = ? and "client_id" = ?');
// The consent's primary key is (user_id, client_id): the join adds at most one row's columns.
const SESSION_LIVE_WITH_CONSENT = `select "s".*, "c"."scopes" as "consent_scopes", "c"."granted_at" as "consent_granted_at" from (${SESSION_LIVE_BY_ID_HASH}) as "s" left join "consents" as "c" on "c"."user_id" = "s"."user_id" and "c"."client_id" = ?`;
const GRANT_BY_ID = GRANT.selectWhere('"id" = ?');
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
