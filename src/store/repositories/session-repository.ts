/**
 * What one sign-in and one authorization leave behind: single sign-on sessions, interactions
 * waiting for the user, consents, grants and their authorization codes.
 */
import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { AuthorizationCode, Consent, ConsumeCodeResult, Grant, Interaction, Session, StoredAuthorizationRequest } from '../records.js';
import type { AuthorizationCodesTable, Database, GrantsTable, InteractionsTable, SessionsTable } from '../schema.js';
import { columnList, type Executor } from '../executor.js';
import { decodeStringArray, encodeJson, fromIntBool, toIntBool } from './row-codec.js';

export interface SessionRepository {
  create(session: Session): Promise<void>;
  /** Returns the session only while it has not expired at `now`. */
  get(idHash: string, now: number): Promise<Session | undefined>;
  delete(idHash: string): Promise<void>;
}

export interface InteractionRepository {
  create(interaction: Interaction): Promise<void>;
  /** Returns the interaction only while it has not expired at `now`. */
  get(id: string, now: number): Promise<Interaction | undefined>;
  /** Atomically removes the interaction; true only for the one caller that removed it. */
  consume(id: string): Promise<boolean>;
  /** How many interactions have not expired at `now`, counting no further than `atMost`. */
  countLive(now: number, atMost: number): Promise<number>;
}

export interface ConsentRepository {
  get(userId: string, clientId: string): Promise<Consent | undefined>;
  /** Records consent; scopes are merged with any earlier consent of the same user and client. */
  grant(consent: Consent): Promise<void>;
}

export interface GrantRepository {
  create(grant: Grant): Promise<void>;
  get(id: string): Promise<Grant | undefined>;
  /** Marks the grant and every access token issued under it revoked. Idempotent. */
  revoke(id: string, at: number): Promise<void>;
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
}

export function sessionRepository(ex: Executor): SessionRepository {
  return {
    create: async (session) => {
      await ex.db.insertInto('sessions').values(sessionToRow(session)).execute();
    },

    get: async (idHash, now) => {
      const row = await ex.first<Selectable<SessionsTable>>(`select ${SESSION_COLUMNS} from "sessions" where "id_hash" = ? and "expires_at" > ?`, [idHash, now]);
      return row && rowToSession(row);
    },

    delete: async (idHash) => {
      await ex.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    },
  };
}

export function interactionRepository(ex: Executor): InteractionRepository {
  return {
    create: async (interaction) => {
      await ex.db.insertInto('interactions').values(interactionToRow(interaction)).execute();
    },

    get: async (id, now) => {
      const row = await ex.db.selectFrom('interactions').selectAll().where('id', '=', id).where('expires_at', '>', now).executeTakeFirst();
      return row && rowToInteraction(row);
    },

    // The DELETE itself decides the winner: only one statement can remove the row.
    consume: async (id) => {
      const removed = await ex.db.deleteFrom('interactions').where('id', '=', id).returning('id').executeTakeFirst();
      return removed !== undefined;
    },

    // The LIMIT stops the count at the cap: a full table costs no more than a full cap.
    countLive: async (now, atMost) => {
      const live = ex.db.selectFrom('interactions').select('id').where('expires_at', '>', now).limit(atMost).as('live');
      const row = await ex.db.selectFrom(live).select((eb) => eb.fn.countAll<number | string | bigint>().as('count')).executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}

export function consentRepository(ex: Executor): ConsentRepository {
  return {
    get: async (userId, clientId) => {
      const row = await ex.first<Selectable<Database['consents']>>(`select ${CONSENT_COLUMNS} from "consents" where "user_id" = ? and "client_id" = ?`, [userId, clientId]);
      return (
        row && {
          userId: row.user_id,
          clientId: row.client_id,
          scopes: decodeStringArray(row.scopes, 'consents.scopes'),
          grantedAt: row.granted_at,
        }
      );
    },

    grant: async (consent) => {
      await ex.transaction(async (tx) => {
        // The upsert inserts the consent or, when one exists, locks its row (PostgreSQL) or
        // the database (SQLite) before we read it, so concurrent grants merge one after the
        // other instead of overwriting each other. Its no-op update returns the stored scopes.
        const stored = await tx.db
          .insertInto('consents')
          .values({
            user_id: consent.userId,
            client_id: consent.clientId,
            scopes: encodeJson(uniqueScopes(consent.scopes)),
            granted_at: consent.grantedAt,
          })
          .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet((eb) => ({ scopes: eb.ref('consents.scopes') })))
          .returning('scopes')
          .executeTakeFirstOrThrow();
        const merged = uniqueScopes([...decodeStringArray(stored.scopes, 'consents.scopes'), ...consent.scopes]);
        await tx.db
          .updateTable('consents')
          .set({ scopes: encodeJson(merged), granted_at: consent.grantedAt })
          .where('user_id', '=', consent.userId)
          .where('client_id', '=', consent.clientId)
          .execute();
      });
    },
  };
}

export function grantRepository(ex: Executor): GrantRepository {
  return {
    create: async (grant) => {
      await ex.db.insertInto('grants').values(grantToRow(grant)).execute();
    },

    get: async (id) => {
      const row = await ex.first<Selectable<GrantsTable>>(`select ${GRANT_COLUMNS} from "grants" where "id" = ?`, [id]);
      return row && rowToGrant(row);
    },

    // `revoked_at IS NULL` keeps the first revocation time, which makes this idempotent.
    revoke: async (id, at) => {
      await ex.transaction(async (tx) => {
        await tx.db.updateTable('grants').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
        await tx.db.updateTable('access_tokens').set({ revoked_at: at }).where('grant_id', '=', id).where('revoked_at', 'is', null).execute();
      });
    },
  };
}

export function codeRepository(ex: Executor): CodeRepository {
  return {
    create: async (code) => {
      await ex.db.insertInto('authorization_codes').values(codeToRow(code)).execute();
    },

    issue: async (grant, code) => {
      await ex.insertRowsTogether([
        ['grants', grantToRow(grant)],
        ['authorization_codes', codeToRow(code)],
      ]);
    },

    get: async (codeHash) => {
      const row = await ex.first<Selectable<AuthorizationCodesTable>>(`select ${CODE_COLUMNS} from "authorization_codes" where "code_hash" = ?`, [codeHash]);
      return row ? rowToCode(row) : undefined;
    },

    // The conditional UPDATE is the whole of the atomicity: of any number of concurrent callers,
    // exactly one sees `consumed_at IS NULL` and gets the row back. The follow-up SELECT only
    // tells a replay (row exists) from an unknown code.
    consume: async (codeHash, now) => {
      const consumed = await ex.first<Selectable<AuthorizationCodesTable>>(
        `update "authorization_codes" set "consumed_at" = ? where "code_hash" = ? and "consumed_at" is null returning ${CODE_COLUMNS}`,
        [now, codeHash],
      );
      if (consumed) return { status: 'consumed', code: rowToCode(consumed) };
      const existing = await ex.first<Selectable<AuthorizationCodesTable>>(`select ${CODE_COLUMNS} from "authorization_codes" where "code_hash" = ?`, [codeHash]);
      return existing ? { status: 'replayed', code: rowToCode(existing) } : { status: 'not_found' };
    },
  };
}

// --- Row mapping ----------------------------------------------------------------------------

const SESSION_COLUMNS = columnList<SessionsTable>({ id_hash: true, sid: true, user_id: true, auth_time: true, created_at: true, expires_at: true });
const CONSENT_COLUMNS = columnList<Database['consents']>({ user_id: true, client_id: true, scopes: true, granted_at: true });
const GRANT_COLUMNS = columnList<GrantsTable>({
  id: true, flow_id: true, client_id: true, user_id: true, scope: true, sid: true, created_at: true, revoked_at: true,
});
const CODE_COLUMNS = columnList<AuthorizationCodesTable>({
  code_hash: true, grant_id: true, flow_id: true, client_id: true, user_id: true, redirect_uri: true, redirect_uri_provided: true,
  scope: true, code_challenge: true, code_challenge_method: true, nonce: true, resources: true, auth_time: true, created_at: true,
  expires_at: true, consumed_at: true,
});

/** Scopes in first-seen order without duplicates. */
function uniqueScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)];
}

/**
 * The sid of a session row written without one (by a version older than migration 0003 during
 * a rolling upgrade): derived from the id hash, one-way, so it is stable and reveals nothing.
 */
function legacySid(idHash: string): string {
  return createHash('sha256').update(`gatehouse sid\0${idHash}`).digest().subarray(0, 16).toString('base64url');
}

function sessionToRow(session: Session): SessionsTable {
  return {
    id_hash: session.idHash,
    sid: session.sid,
    user_id: session.userId,
    auth_time: session.authTime,
    created_at: session.createdAt,
    expires_at: session.expiresAt,
  };
}

function rowToSession(row: Selectable<SessionsTable>): Session {
  return {
    idHash: row.id_hash,
    sid: row.sid ?? legacySid(row.id_hash),
    userId: row.user_id,
    authTime: row.auth_time,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function decodeAuthorizationRequest(text: string): StoredAuthorizationRequest {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('Corrupt interactions.request value: expected a JSON object');
  }
  const request = value as Partial<StoredAuthorizationRequest>;
  // Interactions stored by older versions (a rolling upgrade) lack the newer fields: no
  // resource indicators, no max_age, no id_token_hint, no ui_locales.
  return {
    ...request,
    resources: Array.isArray(request.resources) ? request.resources : [],
    maxAge: typeof request.maxAge === 'number' ? request.maxAge : null,
    idTokenHintSub: typeof request.idTokenHintSub === 'string' ? request.idTokenHintSub : null,
    uiLocales: Array.isArray(request.uiLocales) ? request.uiLocales : [],
  } as StoredAuthorizationRequest;
}

function interactionToRow(interaction: Interaction): InteractionsTable {
  return {
    id: interaction.id,
    flow_id: interaction.flowId,
    client_id: interaction.clientId,
    request: encodeJson(interaction.request),
    browser_binding_hash: interaction.browserBindingHash,
    csrf_token: interaction.csrfToken,
    created_at: interaction.createdAt,
    expires_at: interaction.expiresAt,
  };
}

function rowToInteraction(row: Selectable<InteractionsTable>): Interaction {
  return {
    id: row.id,
    flowId: row.flow_id,
    clientId: row.client_id,
    request: decodeAuthorizationRequest(row.request),
    browserBindingHash: row.browser_binding_hash,
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function grantToRow(grant: Grant): GrantsTable {
  return {
    id: grant.id,
    flow_id: grant.flowId,
    client_id: grant.clientId,
    user_id: grant.userId,
    scope: encodeJson(grant.scope),
    sid: grant.sid,
    created_at: grant.createdAt,
    revoked_at: grant.revokedAt,
  };
}

function rowToGrant(row: Selectable<GrantsTable>): Grant {
  return {
    id: row.id,
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    scope: decodeStringArray(row.scope, 'grants.scope'),
    sid: row.sid,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

function codeToRow(code: AuthorizationCode): AuthorizationCodesTable {
  return {
    code_hash: code.codeHash,
    grant_id: code.grantId,
    flow_id: code.flowId,
    client_id: code.clientId,
    user_id: code.userId,
    redirect_uri: code.redirectUri,
    redirect_uri_provided: toIntBool(code.redirectUriProvided),
    scope: encodeJson(code.scope),
    code_challenge: code.codeChallenge,
    code_challenge_method: code.codeChallengeMethod,
    nonce: code.nonce,
    resources: encodeJson(code.resources),
    auth_time: code.authTime,
    created_at: code.createdAt,
    expires_at: code.expiresAt,
    consumed_at: code.consumedAt,
  };
}

function rowToCode(row: Selectable<AuthorizationCodesTable>): AuthorizationCode {
  return {
    codeHash: row.code_hash,
    grantId: row.grant_id,
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    redirectUri: row.redirect_uri,
    redirectUriProvided: fromIntBool(row.redirect_uri_provided),
    scope: decodeStringArray(row.scope, 'authorization_codes.scope'),
    codeChallenge: row.code_challenge,
    codeChallengeMethod: row.code_challenge_method as AuthorizationCode['codeChallengeMethod'],
    nonce: row.nonce,
    resources: decodeStringArray(row.resources, 'authorization_codes.resources'),
    authTime: row.auth_time,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  };
}
