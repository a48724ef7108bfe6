/**
 * The schema migrations themselves, shared by SQLite and PostgreSQL (applied by
 * src/store/migrations.ts). History: a released migration is never edited, a schema change is
 * a new entry appended to `migrations`.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Dialect } from './schema.js';

export interface Migration {
  /** Unique and stable: it is what `gatehouse_migrations` records. */
  readonly name: string;
  /**
   * Applies the migration. It receives an untyped Kysely instance on purpose: a migration
   * describes the schema as it was when it was written, not the current typings.
   */
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

/**
 * Column types that differ between dialects. Millisecond timestamps exceed 32 bits, so they
 * need BIGINT on PostgreSQL; SQLite's INTEGER is already 64-bit.
 */
export function types(dialect: Dialect) {
  return {
    time: dialect === 'postgres' ? ('bigint' as const) : ('integer' as const),
  };
}

/** A boolean stored as 0/1 (the one representation both dialects share). */
const boolCheck = (column: string) => sql`${sql.ref(column)} in (0, 1)`;

const initialSchema: Migration = {
  name: '0001_initial_schema',
  async up(db, dialect) {
    const { time } = types(dialect);

    await db.schema
      .createTable('clients')
      .addColumn('client_id', 'text', (c) => c.primaryKey())
      .addColumn('client_secret_hash', 'text')
      .addColumn('client_name', 'text')
      .addColumn('redirect_uris', 'text', (c) => c.notNull())
      .addColumn('grant_types', 'text', (c) => c.notNull())
      .addColumn('response_types', 'text', (c) => c.notNull())
      .addColumn('token_endpoint_auth_method', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('require_pkce', 'integer', (c) => c.notNull().check(boolCheck('require_pkce')))
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('username', 'text', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('email', 'text')
      .addColumn('name', 'text')
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();

    // Deleting a user ends their sessions: a session of a deleted account must not stay valid.
    await db.schema
      .createTable('sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('auth_time', time, (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('expires_at', time, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('interactions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) =>
        c.notNull().references('clients.client_id').onDelete('cascade'),
      )
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('browser_binding_hash', 'text', (c) => c.notNull())
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('expires_at', time, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('consents')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('client_id', 'text', (c) =>
        c.notNull().references('clients.client_id').onDelete('cascade'),
      )
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('granted_at', time, (c) => c.notNull())
      .addPrimaryKeyConstraint('consents_pk', ['user_id', 'client_id'])
      .execute();

    // A grant dies with its client or user; its codes and token records die with it (below).
    await db.schema
      .createTable('grants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) =>
        c.notNull().references('clients.client_id').onDelete('cascade'),
      )
      .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('revoked_at', time)
      .execute();

    await db.schema
      .createTable('authorization_codes')
      .addColumn('code_hash', 'text', (c) => c.primaryKey())
      .addColumn('grant_id', 'text', (c) => c.notNull().references('grants.id').onDelete('cascade'))
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('redirect_uri', 'text', (c) => c.notNull())
      .addColumn('redirect_uri_provided', 'integer', (c) =>
        c.notNull().check(boolCheck('redirect_uri_provided')),
      )
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('code_challenge', 'text')
      .addColumn('code_challenge_method', 'text')
      .addColumn('nonce', 'text')
      .addColumn('auth_time', time, (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('expires_at', time, (c) => c.notNull())
      .addColumn('consumed_at', time)
      .execute();

    // client_id references clients directly because tokens without a grant (client
    // credentials) must also go when their client is deleted.
    await db.schema
      .createTable('access_tokens')
      .addColumn('jti', 'text', (c) => c.primaryKey())
      .addColumn('grant_id', 'text', (c) => c.references('grants.id').onDelete('cascade'))
      .addColumn('flow_id', 'text')
      .addColumn('client_id', 'text', (c) =>
        c.notNull().references('clients.client_id').onDelete('cascade'),
      )
      .addColumn('user_id', 'text')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('audience', 'text', (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('expires_at', time, (c) => c.notNull())
      .addColumn('revoked_at', time)
      .execute();

    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('alg', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_jwk_encrypted', 'text', (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('activates_at', time, (c) => c.notNull())
      .addColumn('retired_at', time)
      .execute();

    // expires_at indexes serve the cleanup job, which deletes expired rows in batches.
    // The other indexes cover lookups by grant and the foreign keys' ON DELETE CASCADE, which
    // PostgreSQL would otherwise answer with a sequential scan of the child table.
    const indexes: Array<[name: string, table: string, column: string]> = [
      ['sessions_expires_at_idx', 'sessions', 'expires_at'],
      ['sessions_user_id_idx', 'sessions', 'user_id'],
      ['interactions_expires_at_idx', 'interactions', 'expires_at'],
      ['interactions_client_id_idx', 'interactions', 'client_id'],
      ['consents_client_id_idx', 'consents', 'client_id'],
      ['grants_client_id_idx', 'grants', 'client_id'],
      ['grants_user_id_idx', 'grants', 'user_id'],
      ['authorization_codes_grant_id_idx', 'authorization_codes', 'grant_id'],
      ['authorization_codes_expires_at_idx', 'authorization_codes', 'expires_at'],
      ['access_tokens_grant_id_idx', 'access_tokens', 'grant_id'],
      ['access_tokens_expires_at_idx', 'access_tokens', 'expires_at'],
      ['access_tokens_client_id_idx', 'access_tokens', 'client_id'],
    ];
    for (const [name, table, column] of indexes) {
      await db.schema.createIndex(name).on(table).column(column).execute();
    }
  },
};

/**
 * Refresh tokens (RFC 6749 §6, rotated per RFC 9700 §4.14.2) and protected resources
 * (RFC 8707 resource indicators), plus the resources a code was issued for.
 */
const refreshTokensAndResources: Migration = {
  name: '0002_refresh_tokens_and_resources',
  async up(db, dialect) {
    const { time } = types(dialect);

    // Codes issued before this migration were issued without resource indicators.
    await db.schema
      .alterTable('authorization_codes')
      .addColumn('resources', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();

    // A refresh token dies with its grant (and so with the grant's client or user). client_id
    // and user_id reference their tables directly too, like access_tokens.client_id, so that
    // no token can outlive its client or user even if a grant row were ever kept.
    await db.schema
      .createTable('refresh_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('grant_id', 'text', (c) => c.notNull().references('grants.id').onDelete('cascade'))
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) =>
        c.notNull().references('clients.client_id').onDelete('cascade'),
      )
      .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('resources', 'text', (c) => c.notNull())
      .addColumn('auth_time', time)
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('expires_at', time, (c) => c.notNull())
      .addColumn('family_expires_at', time, (c) => c.notNull())
      .addColumn('rotated_at', time)
      .addColumn('successor_hash', 'text')
      .addColumn('successor_encrypted', 'text')
      .execute();

    await db.schema
      .createTable('protected_resources')
      .addColumn('identifier', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text')
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('introspection_client_ids', 'text', (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();

    // As in 0001: lookups by grant, the cleanup job's expiry scans (idle and absolute), and the
    // foreign keys' ON DELETE CASCADE.
    const indexes: Array<[name: string, table: string, column: string]> = [
      ['refresh_tokens_grant_id_idx', 'refresh_tokens', 'grant_id'],
      ['refresh_tokens_expires_at_idx', 'refresh_tokens', 'expires_at'],
      ['refresh_tokens_family_expires_at_idx', 'refresh_tokens', 'family_expires_at'],
      ['refresh_tokens_client_id_idx', 'refresh_tokens', 'client_id'],
      ['refresh_tokens_user_id_idx', 'refresh_tokens', 'user_id'],
    ];
    for (const [name, table, column] of indexes) {
      await db.schema.createIndex(name).on(table).column(column).execute();
    }
  },
};

/**
 * OpenID Connect: the users' standard claims (OIDC Core §5.1), a public session id (`sid`) for
 * every single sign-on session and on the grants made in it, and the ID token signing algorithm
 * a client registered (`id_token_signed_response_alg`).
 */
const userClaimsAndSessionIds: Migration = {
  name: '0003_user_claims_and_session_ids',
  async up(db) {
    // Users created before this migration have only the name and email columns.
    await db.schema
      .alterTable('users')
      .addColumn('claims', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();

    // Null: the server's default signing algorithm, which is what existing clients got so far.
    await db.schema.alterTable('clients').addColumn('id_token_signed_response_alg', 'text').execute();

    // Sessions that exist already get a random sid each, so nobody is signed out. The column
    // stays nullable (SQLite cannot add a NOT NULL column without a constant default); the
    // store always writes a sid, and the unique index allows no two sessions the same one.
    await db.schema.alterTable('sessions').addColumn('sid', 'text').execute();
    const sessions: Array<{ id_hash: string }> = await db.selectFrom('sessions').select('id_hash').execute();
    for (const { id_hash } of sessions) {
      await db
        .updateTable('sessions')
        .set({ sid: randomBytes(16).toString('base64url') })
        .where('id_hash', '=', id_hash)
        .execute();
    }
    await db.schema.createIndex('sessions_sid_idx').on('sessions').column('sid').unique().execute();

    // The session a grant was made in (null for grants from before, and without a user): ID
    // tokens carry it, and logout can find the grants of a session.
    await db.schema.alterTable('grants').addColumn('sid', 'text').execute();
    await db.schema.createIndex('grants_sid_idx').on('grants').column('sid').execute();
  },
};

/**
 * OpenID Connect RP-Initiated Logout 1.0 and Back-Channel Logout 1.0: the clients' logout
 * metadata, and the persisted queue of logout tokens waiting to be delivered.
 */
const logout: Migration = {
  name: '0004_logout',
  async up(db, dialect) {
    const { time } = types(dialect);

    // Existing clients registered none of it: no post-logout redirects, no back-channel logout.
    await db.schema
      .alterTable('clients')
      .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();
    await db.schema.alterTable('clients').addColumn('backchannel_logout_uri', 'text').execute();
    await db.schema
      .alterTable('clients')
      .addColumn('backchannel_logout_session_required', 'integer', (c) =>
        c.notNull().defaultTo(0).check(boolCheck('backchannel_logout_session_required')),
      )
      .execute();

    // A delivery dies with its client: there is nobody left to tell.
    await db.schema
      .createTable('logout_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('client_id', 'text', (c) =>
        c.notNull().references('clients.client_id').onDelete('cascade'),
      )
      .addColumn('uri', 'text', (c) => c.notNull())
      .addColumn('logout_token', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', time)
      .addColumn('last_error', 'text')
      .addColumn('delivered_at', time)
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();

    // The workers' scan for due deliveries, listings by age, and the ON DELETE CASCADE.
    const indexes: Array<[name: string, table: string, column: string]> = [
      ['logout_deliveries_next_attempt_at_idx', 'logout_deliveries', 'next_attempt_at'],
      ['logout_deliveries_created_at_idx', 'logout_deliveries', 'created_at'],
      ['logout_deliveries_client_id_idx', 'logout_deliveries', 'client_id'],
    ];
    for (const [name, table, column] of indexes) {
      await db.schema.createIndex(name).on(table).column(column).execute();
    }
  },
};

/**
 * OpenID Connect Core §8: the client's subject identifier type. Existing clients keep the public
 * subjects they have been getting.
 */
const pairwiseSubjects: Migration = {
  name: '0005_pairwise_subjects',
  async up(db) {
    await db.schema
      .alterTable('clients')
      .addColumn('subject_type', 'text', (c) => c.notNull().defaultTo('public').check(sql`subject_type in ('public', 'pairwise')`))
      .execute();
  },
};

/**
 * Whether a client's ID tokens carry the claims its granted scopes release (OIDC Core §5.4).
 * Null (every existing client): the server's `id_token_claims_default`.
 */
const idTokenClaims: Migration = {
  name: '0008_id_token_claims',
  async up(db) {
    await db.schema
      .alterTable('clients')
      .addColumn('id_token_claims', 'integer', (c) => c.check(sql`id_token_claims is null or id_token_claims in (0, 1)`))
      .execute();
  },
};

/**
 * Indexes for the cleanup of expired rows (src/store/repositories/expired-rows.ts). Partial indexes hold only the
 * rows a scan may delete at their expiry, so the scan never wades through rows kept on purpose:
 * redeemed codes (kept for replay detection) and rotated refresh tokens (kept for reuse
 * detection until their family expires). Both dialects support partial indexes.
 */
const cleanupIndexes: Migration = {
  name: '0007_cleanup_indexes',
  async up(db) {
    await db.schema
      .createIndex('authorization_codes_unconsumed_expires_at_idx')
      .on('authorization_codes')
      .column('expires_at')
      .where(sql.ref('consumed_at'), 'is', null)
      .execute();
    await db.schema
      .createIndex('refresh_tokens_unrotated_expires_at_idx')
      .on('refresh_tokens')
      .column('expires_at')
      .where(sql.ref('rotated_at'), 'is', null)
      .execute();
    // The backstop sweep over grants, oldest first.
    await db.schema.createIndex('grants_created_at_idx').on('grants').columns(['created_at', 'id']).execute();
  },
};

/**
 * Brute-force limits shared by every instance (attempt counters per username, client and IP),
 * and the audit trail.
 */
const rateLimitsAndAudit: Migration = {
  name: '0006_rate_limits_and_audit',
  async up(db, dialect) {
    const { time } = types(dialect);

    await db.schema
      .createTable('rate_limits')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('last_at', time, (c) => c.notNull())
      .addColumn('blocked_until', time, (c) => c.notNull())
      .addColumn('expires_at', time, (c) => c.notNull())
      .execute();
    // The purge of forgotten counters.
    await db.schema.createIndex('rate_limits_expires_at_idx').on('rate_limits').column('expires_at').execute();

    // An increasing id orders events of the same millisecond; no foreign keys: the trail
    // outlives the clients and users it mentions.
    await db.schema
      .createTable('audit_events')
      .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('at', time, (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('flow_id', 'text')
      .addColumn('client_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('username', 'text')
      .addColumn('ip', 'text')
      .addColumn('details', 'text', (c) => c.notNull())
      .execute();
    // `gatehouse audit` lists newest first, filtered by type, client or user.
    const indexes: Array<[name: string, column: string]> = [
      ['audit_events_at_idx', 'at'],
      ['audit_events_type_idx', 'type'],
      ['audit_events_client_id_idx', 'client_id'],
      ['audit_events_user_id_idx', 'user_id'],
      ['audit_events_username_idx', 'username'],
    ];
    for (const [name, column] of indexes) {
      await db.schema.createIndex(name).on('audit_events').column(column).execute();
    }
  },
};

/** Every migration, in the order it must be applied. Append only. */
export const migrations: readonly Migration[] = [
  initialSchema,
  refreshTokensAndResources,
  userClaimsAndSessionIds,
  logout,
  pairwiseSubjects,
  rateLimitsAndAudit,
  cleanupIndexes,
  idTokenClaims,
];

