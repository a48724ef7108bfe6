/**
 * Registered parties: OAuth clients, users, protected resources. Clients and resources are
 * cached by every instance, so their writes announce a change (Executor.changing).
 */
import type { Client, JwkSet, ProtectedResource, User } from '../records.js';
import type { Executor } from '../executor.js';
import type { Database, IntBool } from '../schema.js';
import type { StoreChange } from '../records.js';
import {
  intBool,
  jsonObject,
  optionalIntBool,
  optionalTime,
  rowCodec,
  stringArray,
  type FieldCodec,
  type RowCodec,
} from './row-codec.js';
import { deleteRow, findRecord, listRecords, upsertRecord, type SelectAll } from './row-queries.js';

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
      await ex.changing({ kind: 'client', clientId: client.clientId }, (tx) =>
        tx.db.insertInto('clients').values(CLIENT.toRow(client)).execute(),
      );
    },

    ...cachedRecords(ex, CLIENT, 'client_id', (clientId) => ({ kind: 'client', clientId })),
  };
}

export function userRepository(ex: Executor): UserRepository {
  return {
    create: async (user) => {
      await ex.db.insertInto('users').values(USER.toRow(user)).execute();
    },

    // One statement, so that concurrent upserts of one username cannot both insert.
    upsert: async (user) =>
      USER.fromRow(await upsertRecord(ex.db, USER, user, 'username', ['id']).returningAll().executeTakeFirstOrThrow()),

    getById: (id) => findRecord(ex, USER, (query) => query.where('id', '=', id)),
    getByUsername: (username) => findRecord(ex, USER, (query) => query.where('username', '=', username)),
    list: () => listRecords(ex, USER, (query) => query.orderBy('username')),
    delete: (username) => deleteRow(ex.db, 'users', 'username', username),
  };
}

export function resourceRepository(ex: Executor): ResourceRepository {
  return cachedRecords(ex, RESOURCE, 'identifier', (identifier) => ({ kind: 'resource', identifier }));
}

/**
 * `upsert` by `key`, `get` by it, `list` ordered by it and `delete` by it, of records every
 * instance caches: each write announces `change(key value)`.
 */
function cachedRecords<R, T extends 'clients' | 'protected_resources'>(
  ex: Executor,
  codec: RowCodec<R, T>,
  key: keyof Database[T] & string,
  change: (value: string) => StoreChange,
) {
  const byKey = key as 'client_id';
  const table = codec.table as 'clients';
  return {
    upsert: async (record: R) => {
      const value = codec.toRow(record)[key] as string;
      await ex.changing(change(value), (tx) => upsertRecord(tx.db, codec, record, key).execute());
    },
    get: (value: string) =>
      findRecord(ex, codec, (query) => (query as unknown as SelectAll<'clients'>).where(byKey, '=', value) as never),
    list: () => listRecords(ex, codec, (query) => (query as unknown as SelectAll<'clients'>).orderBy(byKey) as never),
    delete: (value: string) => ex.changing(change(value), (tx) => deleteRow(tx.db, table, byKey, value)),
  };
}

// --- Row mapping ----------------------------------------------------------------------------

/** OpenID Connect Core §8: anything but `pairwise` reads as `public`. */
const subjectType: FieldCodec<Client['subjectType'], string> = {
  encode: (value) => value,
  decode: (value) => (value === 'pairwise' ? 'pairwise' : 'public'),
};

/** The FAPI 2.0 profile, or NULL (anything else reads as NULL: the server's profile). */
const clientProfile: FieldCodec<Client['profile'], string | null> = {
  encode: (value) => value,
  decode: (value) => (value === 'fapi2' ? 'fapi2' : null),
};

/** Anything but `dynamic` reads as `operator`. */
const registrationKind: FieldCodec<Client['registrationKind'], string> = {
  encode: (value) => value,
  decode: (value) => (value === 'dynamic' ? 'dynamic' : 'operator'),
};

/** A JWK Set as JSON text, NULL for none. */
const optionalJwks: FieldCodec<JwkSet | null, string | null> = {
  encode: (value) => (value === null ? null : JSON.stringify(value)),
  decode: (text, label) => {
    if (text === null) return null;
    const value = jsonObject.decode(text, label, {});
    if (!Array.isArray(value['keys'])) throw new Error(`Corrupt ${label} value: expected a JWK Set`);
    return value as unknown as JwkSet;
  },
};

/** A flag most records leave out: stored as 0 or 1, read back as true or absent. */
const trueOrAbsent: FieldCodec<boolean | undefined, IntBool> = {
  encode: (value) => (value ? 1 : 0),
  decode: (value) => (value === 1 ? true : undefined),
};

const CLIENT = rowCodec<Client, 'clients'>('clients', {
  clientId: true,
  clientSecretHash: true,
  clientName: true,
  redirectUris: stringArray,
  grantTypes: stringArray,
  responseTypes: stringArray,
  tokenEndpointAuthMethod: true,
  scope: true,
  requirePkce: intBool,
  idTokenSignedResponseAlg: true,
  idTokenClaims: optionalIntBool,
  subjectType,
  postLogoutRedirectUris: stringArray,
  backchannelLogoutUri: true,
  backchannelLogoutSessionRequired: intBool,
  tokenExchangeResources: stringArray,
  dpopBoundAccessTokens: intBool,
  jwks: optionalJwks,
  jwksUri: true,
  tokenEndpointAuthSigningAlg: true,
  clientSecretSealed: true,
  requirePushedAuthorizationRequests: intBool,
  requestObjectSigningAlg: true,
  requireSignedRequestObject: intBool,
  profile: clientProfile,
  metadataDocument: trueOrAbsent,
  registrationKind,
  createdAt: true,
});
const USER = rowCodec<User, 'users'>('users', {
  id: true,
  username: true,
  passwordHash: true,
  email: true,
  name: true,
  claims: jsonObject,
  createdAt: true,
  disabledAt: optionalTime,
  admin: optionalIntBool,
});
const RESOURCE = rowCodec<ProtectedResource, 'protected_resources'>('protected_resources', {
  identifier: true,
  name: true,
  scopes: stringArray,
  introspectionClientIds: stringArray,
  createdAt: true,
});
