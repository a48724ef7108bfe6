/**
 * Registered parties: OAuth clients, users, protected resources. Clients and resources are
 * cached by every instance, so their writes announce a change (Executor.changing).
 */
import type { Selectable } from 'kysely';
import type { Client, ProtectedResource, TokenEndpointAuthMethod, User } from '../records.js';
import type { ClientsTable, ProtectedResourcesTable, UsersTable } from '../schema.js';
import type { Executor } from '../executor.js';
import { decodeObject, decodeStringArray, encodeJson, fromIntBool, toIntBool } from './row-codec.js';

export interface ClientRepository {
  create(client: Client): Promise<void>;
  /** Inserts or replaces by clientId (config-file fixtures are applied idempotently). */
  upsert(client: Client): Promise<void>;
  get(clientId: string): Promise<Client | undefined>;
  list(): Promise<Client[]>;
  delete(clientId: string): Promise<boolean>;
}

export interface UserRepository {
  create(user: User): Promise<void>;
  /** Inserts or replaces by username, keeping the existing id when there is one. */
  upsert(user: User): Promise<User>;
  getById(id: string): Promise<User | undefined>;
  getByUsername(username: string): Promise<User | undefined>;
  list(): Promise<User[]>;
  delete(username: string): Promise<boolean>;
}

export interface ResourceRepository {
  /** Inserts or replaces by identifier. */
  upsert(resource: ProtectedResource): Promise<void>;
  get(identifier: string): Promise<ProtectedResource | undefined>;
  list(): Promise<ProtectedResource[]>;
  delete(identifier: string): Promise<boolean>;
}

export function clientRepository(ex: Executor): ClientRepository {
  return {
    create: async (client) => {
      await ex.changing({ kind: 'client', clientId: client.clientId }, (tx) => tx.db.insertInto('clients').values(clientToRow(client)).execute());
    },

    upsert: async (client) => {
      await ex.changing({ kind: 'client', clientId: client.clientId }, (tx) => tx.db
        .insertInto('clients')
        .values(clientToRow(client))
        .onConflict((oc) =>
          oc.column('client_id').doUpdateSet((eb) => ({
            client_secret_hash: eb.ref('excluded.client_secret_hash'),
            client_name: eb.ref('excluded.client_name'),
            redirect_uris: eb.ref('excluded.redirect_uris'),
            grant_types: eb.ref('excluded.grant_types'),
            response_types: eb.ref('excluded.response_types'),
            token_endpoint_auth_method: eb.ref('excluded.token_endpoint_auth_method'),
            scope: eb.ref('excluded.scope'),
            require_pkce: eb.ref('excluded.require_pkce'),
            id_token_signed_response_alg: eb.ref('excluded.id_token_signed_response_alg'),
            id_token_claims: eb.ref('excluded.id_token_claims'),
            subject_type: eb.ref('excluded.subject_type'),
            post_logout_redirect_uris: eb.ref('excluded.post_logout_redirect_uris'),
            backchannel_logout_uri: eb.ref('excluded.backchannel_logout_uri'),
            backchannel_logout_session_required: eb.ref('excluded.backchannel_logout_session_required'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .execute());
    },

    get: async (clientId) => {
      const row = await ex.db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      return row && rowToClient(row);
    },

    list: async () => {
      const rows = await ex.db.selectFrom('clients').selectAll().orderBy('client_id').execute();
      return rows.map(rowToClient);
    },

    delete: async (clientId) => {
      const result = await ex.changing({ kind: 'client', clientId }, (tx) =>
        tx.db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst(),
      );
      return result.numDeletedRows > 0n;
    },
  };
}

export function userRepository(ex: Executor): UserRepository {
  return {
    create: async (user) => {
      await ex.db.insertInto('users').values(userToRow(user)).execute();
    },

    // One statement, so that concurrent upserts of one username cannot both insert.
    upsert: async (user) => {
      const row = await ex.db
        .insertInto('users')
        .values(userToRow(user))
        .onConflict((oc) =>
          oc.column('username').doUpdateSet((eb) => ({
            password_hash: eb.ref('excluded.password_hash'),
            email: eb.ref('excluded.email'),
            name: eb.ref('excluded.name'),
            claims: eb.ref('excluded.claims'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return rowToUser(row);
    },

    getById: async (id) => {
      const row = await ex.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && rowToUser(row);
    },

    getByUsername: async (username) => {
      const row = await ex.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      return row && rowToUser(row);
    },

    list: async () => {
      const rows = await ex.db.selectFrom('users').selectAll().orderBy('username').execute();
      return rows.map(rowToUser);
    },

    delete: async (username) => {
      const result = await ex.db.deleteFrom('users').where('username', '=', username).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

export function resourceRepository(ex: Executor): ResourceRepository {
  return {
    upsert: async (resource) => {
      await ex.changing({ kind: 'resource', identifier: resource.identifier }, (tx) => tx.db
        .insertInto('protected_resources')
        .values(resourceToRow(resource))
        .onConflict((oc) =>
          oc.column('identifier').doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            scopes: eb.ref('excluded.scopes'),
            introspection_client_ids: eb.ref('excluded.introspection_client_ids'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .execute());
    },

    get: async (identifier) => {
      const row = await ex.db.selectFrom('protected_resources').selectAll().where('identifier', '=', identifier).executeTakeFirst();
      return row && rowToResource(row);
    },

    list: async () => {
      const rows = await ex.db.selectFrom('protected_resources').selectAll().orderBy('identifier').execute();
      return rows.map(rowToResource);
    },

    delete: async (identifier) => {
      const result = await ex.changing({ kind: 'resource', identifier }, (tx) =>
        tx.db.deleteFrom('protected_resources').where('identifier', '=', identifier).executeTakeFirst(),
      );
      return result.numDeletedRows > 0n;
    },
  };
}

// --- Row mapping ----------------------------------------------------------------------------

function clientToRow(client: Client): ClientsTable {
  return {
    client_id: client.clientId,
    client_secret_hash: client.clientSecretHash,
    client_name: client.clientName,
    redirect_uris: encodeJson(client.redirectUris),
    grant_types: encodeJson(client.grantTypes),
    response_types: encodeJson(client.responseTypes),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    scope: client.scope,
    require_pkce: toIntBool(client.requirePkce),
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    id_token_claims: client.idTokenClaims === undefined ? null : toIntBool(client.idTokenClaims),
    subject_type: client.subjectType,
    post_logout_redirect_uris: encodeJson(client.postLogoutRedirectUris),
    backchannel_logout_uri: client.backchannelLogoutUri,
    backchannel_logout_session_required: toIntBool(client.backchannelLogoutSessionRequired),
    created_at: client.createdAt,
  };
}

function rowToClient(row: Selectable<ClientsTable>): Client {
  return {
    clientId: row.client_id,
    clientSecretHash: row.client_secret_hash,
    clientName: row.client_name,
    redirectUris: decodeStringArray(row.redirect_uris, 'clients.redirect_uris'),
    grantTypes: decodeStringArray(row.grant_types, 'clients.grant_types'),
    responseTypes: decodeStringArray(row.response_types, 'clients.response_types'),
    tokenEndpointAuthMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod,
    scope: row.scope,
    requirePkce: fromIntBool(row.require_pkce),
    idTokenSignedResponseAlg: row.id_token_signed_response_alg as Client['idTokenSignedResponseAlg'],
    ...(row.id_token_claims === null ? {} : { idTokenClaims: fromIntBool(row.id_token_claims) }),
    subjectType: row.subject_type === 'pairwise' ? 'pairwise' : 'public',
    postLogoutRedirectUris: decodeStringArray(row.post_logout_redirect_uris, 'clients.post_logout_redirect_uris'),
    backchannelLogoutUri: row.backchannel_logout_uri,
    backchannelLogoutSessionRequired: fromIntBool(row.backchannel_logout_session_required),
    createdAt: row.created_at,
  };
}

function userToRow(user: User): UsersTable {
  return {
    id: user.id,
    username: user.username,
    password_hash: user.passwordHash,
    email: user.email,
    name: user.name,
    claims: encodeJson(user.claims),
    created_at: user.createdAt,
  };
}

function rowToUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    email: row.email,
    name: row.name,
    claims: decodeObject(row.claims, 'users.claims'),
    createdAt: row.created_at,
  };
}

function resourceToRow(resource: ProtectedResource): ProtectedResourcesTable {
  return {
    identifier: resource.identifier,
    name: resource.name,
    scopes: encodeJson(resource.scopes),
    introspection_client_ids: encodeJson(resource.introspectionClientIds),
    created_at: resource.createdAt,
  };
}

function rowToResource(row: Selectable<ProtectedResourcesTable>): ProtectedResource {
  return {
    identifier: row.identifier,
    name: row.name,
    scopes: decodeStringArray(row.scopes, 'protected_resources.scopes'),
    introspectionClientIds: decodeStringArray(row.introspection_client_ids, 'protected_resources.introspection_client_ids'),
    createdAt: row.created_at,
  };
}
