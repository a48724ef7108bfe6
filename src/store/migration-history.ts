/**
 * The schema migrations themselves, shared by SQLite and PostgreSQL (applied by
 * src/store/migrations.ts): each table and column change is described once and rendered into
 * each dialect's DDL by src/store/migration-ddl.ts. History: a released migration's schema
 * change is never edited, a schema change is a new entry appended to `migrations`.
 */
import { randomBytes } from 'node:crypto';
import { migration, schemaChanges, type Migration } from './migration-ddl.js';
import { grantIsTheFamily } from './migration-family.js';

export type { Migration } from './migration-ddl.js';

const initialSchema = migration('0001_initial_schema', async (schema) => {
  await schema.createTable(
    'clients',
    `
    client_id text primary key, client_secret_hash text, client_name text, redirect_uris text not null, grant_types text not null,
    response_types text not null, token_endpoint_auth_method text not null, scope text not null, require_pkce bool not null,
    created_at time not null`,
  );
  await schema.createTable(
    'users',
    `
    id text primary key, username text not null unique, password_hash text not null, email text, name text, created_at time not null`,
  );
  // Deleting a user ends their sessions: a session of a deleted account must not stay valid.
  await schema.createTable(
    'sessions',
    `
    id_hash text primary key, user_id text not null references users(id) on delete cascade, auth_time time not null,
    created_at time not null, expires_at time not null`,
  );
  await schema.createTable(
    'interactions',
    `
    id text primary key, flow_id text not null, client_id text not null references clients(client_id) on delete cascade,
    request text not null, browser_binding_hash text not null, csrf_token text not null, created_at time not null, expires_at time not null`,
  );
  await schema.createTable(
    'consents',
    `
    user_id text not null references users(id) on delete cascade, client_id text not null references clients(client_id) on delete cascade,
    scopes text not null, granted_at time not null, primary key (user_id, client_id)`,
  );
  // A grant dies with its client or user; its codes and token records die with it (below).
  await schema.createTable(
    'grants',
    `
    id text primary key, flow_id text not null, client_id text not null references clients(client_id) on delete cascade,
    user_id text references users(id) on delete cascade, scope text not null, created_at time not null, revoked_at time`,
  );
  await schema.createTable(
    'authorization_codes',
    `
    code_hash text primary key, grant_id text not null references grants(id) on delete cascade, flow_id text not null,
    client_id text not null, user_id text not null, redirect_uri text not null, redirect_uri_provided bool not null, scope text not null,
    code_challenge text, code_challenge_method text, nonce text, auth_time time not null, created_at time not null,
    expires_at time not null, consumed_at time`,
  );
  // client_id references clients directly because tokens without a grant (client
  // credentials) must also go when their client is deleted.
  await schema.createTable(
    'access_tokens',
    `
    jti text primary key, grant_id text references grants(id) on delete cascade, flow_id text,
    client_id text not null references clients(client_id) on delete cascade, user_id text, scope text not null, audience text not null,
    created_at time not null, expires_at time not null, revoked_at time`,
  );
  await schema.createTable(
    'signing_keys',
    `
    kid text primary key, alg text not null, public_jwk text not null, private_jwk_encrypted text not null, created_at time not null,
    activates_at time not null, retired_at time`,
  );

  // expires_at indexes serve the cleanup job, which deletes expired rows in batches.
  // The other indexes cover lookups by grant and the foreign keys' ON DELETE CASCADE, which
  // PostgreSQL would otherwise answer with a sequential scan of the child table.
  await schema.createIndexes({
    sessions: ['expires_at', 'user_id'],
    interactions: ['expires_at', 'client_id'],
    consents: ['client_id'],
    grants: ['client_id', 'user_id'],
    authorization_codes: ['grant_id', 'expires_at'],
    access_tokens: ['grant_id', 'expires_at', 'client_id'],
  });
});

/**
 * Refresh tokens (RFC 6749 §6, rotated per RFC 9700 §4.14.2) and protected resources
 * (RFC 8707 resource indicators), plus the resources a code was issued for.
 */
const refreshTokensAndResources = migration('0002_refresh_tokens_and_resources', async (schema) => {
  // Codes issued before this migration were issued without resource indicators.
  await schema.addColumns('authorization_codes', `resources text not null default '[]'`);

  // A refresh token dies with its grant (and so with the grant's client or user). client_id
  // and user_id reference their tables directly too, like access_tokens.client_id, so that
  // no token can outlive its client or user even if a grant row were ever kept.
  await schema.createTable(
    'refresh_tokens',
    `
    token_hash text primary key, grant_id text not null references grants(id) on delete cascade, flow_id text not null,
    client_id text not null references clients(client_id) on delete cascade, user_id text references users(id) on delete cascade,
    scope text not null, resources text not null, auth_time time, created_at time not null, expires_at time not null,
    family_expires_at time not null, rotated_at time, successor_hash text, successor_encrypted text`,
  );
  await schema.createTable(
    'protected_resources',
    `
    identifier text primary key, name text, scopes text not null, introspection_client_ids text not null, created_at time not null`,
  );

  // As in 0001: lookups by grant, the cleanup job's expiry scans (idle and absolute), and the
  // foreign keys' ON DELETE CASCADE.
  await schema.createIndexes({
    refresh_tokens: ['grant_id', 'expires_at', 'family_expires_at', 'client_id', 'user_id'],
  });
});

/**
 * OpenID Connect: the users' standard claims (OIDC Core §5.1), a public session id (`sid`) for
 * every single sign-on session and on the grants made in it, and the ID token signing algorithm
 * a client registered (`id_token_signed_response_alg`).
 */
const userClaimsAndSessionIds = migration('0003_user_claims_and_session_ids', async (schema, db) => {
  // Users created before this migration have only the name and email columns.
  await schema.addColumns('users', `claims text not null default '{}'`);

  // Null: the server's default signing algorithm, which is what existing clients got so far.
  await schema.addColumns('clients', 'id_token_signed_response_alg text');

  // Sessions that exist already get a random sid each, so nobody is signed out. The column
  // stays nullable (SQLite cannot add a NOT NULL column without a constant default); the
  // store always writes a sid, and the unique index allows no two sessions the same one.
  await schema.addColumns('sessions', 'sid text');
  const sessions: Array<{ id_hash: string }> = await db.selectFrom('sessions').select('id_hash').execute();
  for (const { id_hash } of sessions) {
    await db
      .updateTable('sessions')
      .set({ sid: randomBytes(16).toString('base64url') })
      .where('id_hash', '=', id_hash)
      .execute();
  }
  await schema.createIndex('sessions_sid_idx', 'sessions', ['sid'], { unique: true });

  // The session a grant was made in (null for grants from before, and without a user): ID
  // tokens carry it, and logout can find the grants of a session.
  await schema.addColumns('grants', 'sid text');
  await schema.createIndexes({ grants: ['sid'] });
});

/**
 * OpenID Connect RP-Initiated Logout 1.0 and Back-Channel Logout 1.0: the clients' logout
 * metadata, and the persisted queue of logout tokens waiting to be delivered.
 */
const logout = migration('0004_logout', async (schema) => {
  // Existing clients registered none of it: no post-logout redirects, no back-channel logout.
  await schema.addColumns(
    'clients',
    `
    post_logout_redirect_uris text not null default '[]', backchannel_logout_uri text,
    backchannel_logout_session_required bool not null default 0`,
  );

  // A delivery dies with its client: there is nobody left to tell.
  await schema.createTable(
    'logout_deliveries',
    `
    id text primary key, client_id text not null references clients(client_id) on delete cascade, uri text not null,
    logout_token text not null, attempts integer not null default 0, next_attempt_at time, last_error text, delivered_at time,
    created_at time not null`,
  );

  // The workers' scan for due deliveries, listings by age, and the ON DELETE CASCADE.
  await schema.createIndexes({ logout_deliveries: ['next_attempt_at', 'created_at', 'client_id'] });
});

/**
 * OpenID Connect Core §8: the client's subject identifier type. Existing clients keep the public
 * subjects they have been getting.
 */
const pairwiseSubjects = migration('0005_pairwise_subjects', async (schema) => {
  await schema.addColumns(
    'clients',
    `subject_type text not null default 'public' check (subject_type in ('public', 'pairwise'))`,
  );
});

/**
 * Whether a client's ID tokens carry the claims its granted scopes release (OIDC Core §5.4).
 * Null (every existing client): the server's `id_token_claims_default`.
 */
const idTokenClaims = migration('0008_id_token_claims', async (schema) => {
  await schema.addColumns(
    'clients',
    'id_token_claims integer check (id_token_claims is null or id_token_claims in (0, 1))',
  );
});

/**
 * RFC 8693 token exchange: which resources a client may exchange a user's token for (none for
 * every existing client), and the `act` claim (§4.1) of an exchanged access token, kept for
 * introspection and for nesting when that token is exchanged again.
 */
const tokenExchange: Migration = {
  name: '0012_token_exchange',
  async up(db, dialect) {
    const schema = schemaChanges(db, dialect);
    await schema.addColumns('clients', `token_exchange_resources text not null default '[]'`);
    await schema.addColumns('access_tokens', 'act text');
  },
};

/**
 * RFC 9449 DPoP: clients that must send proofs (§5.2 `dpop_bound_access_tokens`, false for every
 * existing client), and the key thumbprint access tokens (`cnf.jkt`, for introspection) and
 * public clients' refresh token families (§5) are bound to; null: bearer, as every token so far.
 */
const dpop: Migration = {
  name: '0013_dpop',
  async up(db, dialect) {
    const schema = schemaChanges(db, dialect);
    await schema.addColumns('clients', 'dpop_bound_access_tokens bool not null default 0');
    await schema.addColumns('access_tokens', 'dpop_jkt text');
    await schema.addColumns('refresh_tokens', 'dpop_jkt text');
  },
};

/**
 * Indexes for the cleanup of expired rows (src/store/repositories/expired-rows.ts). Partial indexes hold only the
 * rows a scan may delete at their expiry, so the scan never wades through rows kept on purpose:
 * redeemed codes (kept for replay detection) and rotated refresh tokens (kept for reuse
 * detection until their family expires). Both dialects support partial indexes.
 */
const cleanupIndexes = migration('0007_cleanup_indexes', async (schema) => {
  await schema.createIndex('authorization_codes_unconsumed_expires_at_idx', 'authorization_codes', ['expires_at'], {
    whereNull: 'consumed_at',
  });
  await schema.createIndex('refresh_tokens_unrotated_expires_at_idx', 'refresh_tokens', ['expires_at'], {
    whereNull: 'rotated_at',
  });
  // The backstop sweep over grants, oldest first.
  await schema.createIndex('grants_created_at_idx', 'grants', ['created_at', 'id']);
});

/**
 * Brute-force limits shared by every instance (attempt counters per username, client and IP),
 * and the audit trail.
 */
const rateLimitsAndAudit = migration('0006_rate_limits_and_audit', async (schema) => {
  await schema.createTable(
    'rate_limits',
    `
    key text primary key, attempts integer not null, last_at time not null, blocked_until time not null, expires_at time not null`,
  );
  // The purge of forgotten counters.
  await schema.createIndexes({ rate_limits: ['expires_at'] });

  // An increasing id orders events of the same millisecond; no foreign keys: the trail
  // outlives the clients and users it mentions.
  await schema.createTable(
    'audit_events',
    `
    id serial, at time not null, type text not null, flow_id text, client_id text, user_id text, username text, ip text,
    details text not null`,
  );
  // `gatehouse audit` lists newest first, filtered by type, client or user.
  await schema.createIndexes({ audit_events: ['at', 'type', 'client_id', 'user_id', 'username'] });
});

/**
 * Client keys for RFC 7523 §2.2 client authentication (private_key_jwt: `jwks`, `jwks_uri`;
 * client_secret_jwt: the secret sealed under a key derived from GATEHOUSE_SECRET, since the HMAC
 * needs the secret itself; `token_endpoint_auth_signing_alg`), and the replay store of
 * single-use JWT ids (RFC 7523 §3 item 7, and later DPoP proofs and request objects): a row per
 * (purpose, hash of the id), kept until the JWT's `exp`.
 */
const clientKeysAndReplay = migration('0010_client_keys_and_replay', async (schema) => {
  await schema.addColumns(
    'clients',
    'jwks text, jwks_uri text, token_endpoint_auth_signing_alg text, client_secret_sealed text',
  );
  await schema.createTable(
    'used_jtis',
    `
    purpose text not null, jti_hash text not null, expires_at time not null, primary key (purpose, jti_hash)`,
  );
  await schema.createIndexes({ used_jtis: ['expires_at'] });
});

/**
 * RFC 8628 device authorization: a device code (stored hashed) with its user code (hashed in its
 * normalised form, §6.1), waiting for the user's decision and polled by the device (§3.4-3.5).
 */
const deviceCodes = migration('0009_device_codes', async (schema) => {
  // A device code dies with its client, and with the user who approved it.
  await schema.createTable(
    'device_codes',
    `
    device_code_hash text primary key, user_code_hash text not null unique, flow_id text not null,
    client_id text not null references clients(client_id) on delete cascade, scope text not null, resources text not null,
    status text not null check (status in ('pending', 'approved', 'denied')), user_id text references users(id) on delete cascade,
    sid text, auth_time time, interval_seconds integer not null, last_polled_at time, created_at time not null,
    expires_at time not null, consumed_at time`,
  );
  // The cleanup's expiry scan, and the foreign keys' ON DELETE CASCADE.
  await schema.createIndexes({ device_codes: ['expires_at', 'client_id', 'user_id'] });
});

/**
 * RFC 9126 pushed authorization requests: the requests clients push (kept until their request_uri
 * expires, by the hash of the request_uri), and the client metadata
 * `require_pushed_authorization_requests` (RFC 9126 §6). Existing clients may keep using the
 * front channel.
 */
const pushedRequests = migration('0011_pushed_requests', async (schema) => {
  await schema.addColumns('clients', 'require_pushed_authorization_requests bool not null default 0');
  // A pushed request dies with its client. consumed_at: used once (RFC 9126 §4), kept until it
  // expires so that a second use is told apart from an unknown request_uri.
  await schema.createTable(
    'pushed_authorization_requests',
    `
    request_uri_hash text primary key, client_id text not null references clients(client_id) on delete cascade,
    parameters text not null, created_at time not null, expires_at time not null, consumed_at time`,
  );
  // The cleanup's expiry scan, and the foreign key's ON DELETE CASCADE.
  await schema.createIndexes({ pushed_authorization_requests: ['expires_at', 'client_id'] });
});

/**
 * Dynamic client registration (RFC 7591, RFC 7592): how each client came to be
 * (`registration_kind`: `operator` for the config file and the CLI, `dynamic` for POST /register);
 * a self-registered client's registration access token (hashed) and when it was last active (its
 * creation, or a token issued to it: the cleanup deletes it once unused for
 * registration.abandoned_after_seconds); and the operator's initial access tokens (hashed).
 */
const dynamicRegistration = migration('0014_dynamic_registration', async (schema) => {
  await schema.addColumns('clients', `registration_kind text not null default 'operator'`);
  await schema.createTable(
    'client_registrations',
    `
    client_id text primary key references clients(client_id) on delete cascade, access_token_hash text not null unique,
    created_at time not null, last_active_at time not null`,
  );
  await schema.createTable(
    'registration_tokens',
    `
    id text primary key, token_hash text not null unique, created_at time not null, expires_at time,
    uses_left integer, revoked_at time`,
  );
  // The cleanup's scans: abandoned clients, expired initial access tokens.
  await schema.createIndexes({ client_registrations: ['last_active_at'], registration_tokens: ['expires_at'] });
});

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a client whose
 * client_id is the URL of its metadata document gets a row too, kept in step with the document
 * (src/core/clients/client-resolver.ts), so that its codes, grants and tokens reference it like
 * any other client's. The flag tells such a row apart: it is trusted only through its document.
 */
const clientMetadataDocuments = migration('0015_client_metadata_documents', async (schema) => {
  await schema.addColumns('clients', 'metadata_document bool not null default 0');
});

/**
 * RFC 9101 signed request objects: the client metadata `request_object_signing_alg` (null: any
 * the server supports) and `require_signed_request_object` (false for every existing client);
 * and RFC 9449 §10 `dpop_jkt`: the DPoP key thumbprint an authorization code is bound to (null:
 * not bound, as every code so far).
 */
const requestObjectsAndCodeBinding = migration('0016_request_objects_and_code_binding', async (schema) => {
  await schema.addColumns(
    'clients',
    'request_object_signing_alg text, require_signed_request_object bool not null default 0',
  );
  await schema.addColumns('authorization_codes', 'dpop_jkt text');
});

/**
 * The security profile a client is held to (client metadata `profile`): `fapi2` for the FAPI 2.0
 * Security Profile (src/core/profile/fapi2-profile.ts), NULL for the server's profile, which is
 * what every existing client keeps.
 */
const clientProfile = migration('0017_client_profile', async (schema) => {
  await schema.addColumns('clients', 'profile text');
});

/**
 * A disabled user (`gatehouse users update --disable`) cannot sign in; NULL for every existing user.
 */
const userDisabled = migration('0018_user_disabled', async (schema) => {
  await schema.addColumns('users', 'disabled_at time');
});

/**
 * The username of the last failed sign-in on an interaction (NULL: none), so that the login page
 * the browser is redirected to (Post/Redirect/Get) shows it again; the password never is.
 */
const interactionTypedUsername = migration('0019_interaction_typed_username', async (schema) => {
  await schema.addColumns('interactions', 'typed_username text');
});

/**
 * The account page (`/account`) lists a user's sessions by browser and last use: the User-Agent at
 * sign-in and the time the browser last presented the session (NULL for existing sessions).
 */
const sessionDevices = migration('0024_session_devices', async (schema) => {
  await schema.addColumns('sessions', 'user_agent text, last_seen_at time');
});

/**
 * The flow inspector (src/core/inspector/), written only while it is on: each protocol step of a
 * flow, so that an inspector on any instance shows a flow that crossed instances; and the links
 * from a token's jti or an interaction (hashed) to its flow. Both are deleted after
 * inspector.retention_minutes (`expires_at`).
 */
const inspector = migration('0022_inspector', async (schema) => {
  await schema.createTable(
    'inspector_steps',
    `
    id text primary key, flow_id text not null, at time not null, client_id text, outcome text not null, data text not null,
    expires_at time not null`,
  );
  await schema.createTable('inspector_links', 'key text primary key, flow_id text not null, expires_at time not null');
  await schema.createIndexes({ inspector_steps: ['flow_id', 'at', 'expires_at'], inspector_links: ['expires_at'] });
});

/**
 * The admin role of a user (the admin API accepts their access tokens; `gatehouse admin
 * bootstrap --user`): NULL for every existing user, which is no admin.
 */
const userAdminRole = migration('0020_user_admin_role', async (schema) => {
  await schema.addColumns('users', 'admin bool');
});

/**
 * Fewer B-trees written per token (issue 14: every index a row is in is another page written
 * per commit). `refresh_tokens_expires_at_idx` (0002) is covered by the partial index of
 * unrotated tokens' expiry (0007): the cleanup's only scan of refresh tokens by `expires_at`
 * asks for unrotated ones (src/store/repositories/expired-rows.ts), and nothing else reads by
 * it. Every refresh token written (each code redemption and each rotation) now touches one
 * index less; test/store/contract.test.ts checks the cleanup still finds them by index.
 */
const hotPathIndexes = migration('0027_hot_path_indexes', async (_schema, db) => {
  await db.schema.dropIndex('refresh_tokens_expires_at_idx').ifExists().execute();
});

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
  deviceCodes,
  clientKeysAndReplay,
  pushedRequests,
  tokenExchange,
  dpop,
  dynamicRegistration,
  clientMetadataDocuments,
  requestObjectsAndCodeBinding,
  clientProfile,
  userDisabled,
  interactionTypedUsername,
  userAdminRole,
  inspector,
  sessionDevices,
  hotPathIndexes,
  grantIsTheFamily,
];
