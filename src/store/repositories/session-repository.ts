/**
 * What one sign-in and one authorization leave behind: single sign-on sessions, interactions
 * waiting for the user, consents and grants (their authorization codes: code-repository.ts).
 */
import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Consent, Grant, Interaction, Session, StoredAuthorizationRequest } from '../records.js';
import type { Executor } from '../executor.js';
import type { SessionsTable } from '../schema.js';
import { jsonObject, optionalText, optionalTime, rowCodec, stringArray, type FieldCodec } from './row-codec.js';
import { findRecord, firstRecord, listRecords, revokeRows } from './row-queries.js';

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
export const GRANT_WITH_TERMS = rowCodec<Grant & GrantFamilyTerms, 'grants'>('grants', {
  ...GRANT_FIELDS,
  resources: stringArray,
  authTime: true,
});
const SESSION_LIVE_BY_ID_HASH = SESSION.selectWhere('"id_hash" = ? and "expires_at" > ?');
const CONSENT_BY_USER_AND_CLIENT = CONSENT.selectWhere('"user_id" = ? and "client_id" = ?');
// The consent's primary key is (user_id, client_id): the join adds at most one row's columns.
const SESSION_LIVE_WITH_CONSENT = `select "s".*, "c"."scopes" as "consent_scopes", "c"."granted_at" as "consent_granted_at" from (${SESSION_LIVE_BY_ID_HASH}) as "s" left join "consents" as "c" on "c"."user_id" = "s"."user_id" and "c"."client_id" = ?`;
const GRANT_BY_ID = GRANT.selectWhere('"id" = ?');
