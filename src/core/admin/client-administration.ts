/**
 * Administering registered clients (RFC 7591 §2 metadata): creating, updating, rotating the
 * secret of and deleting one. The one code path of the CLI (`gatehouse clients ...`) and the
 * admin API: the metadata is validated by registerClient (validateClientMetadata, as for config
 * fixtures and dynamic registration), every change announces itself (client.created, ...) with
 * its source and actor, and the store's change feed makes every instance's cache follow.
 */
import type { GatehouseSettings } from '../../config/settings.js';
import type { Client, Store } from '../../store/store.js';
import { isUniqueViolation } from '../../store/store-errors.js';
import type { ChangeActor, ChangeSource, EventBus } from '../events.js';
import { AdminConflict, AdminNotFound } from '../errors.js';
import { clientToMetadata, registerClient, withSealedSecret } from '../registration/client-registration.js';
import { GENERATED_SECRET_BYTES, hashClientSecret, randomToken } from '../secrets.js';

/** Who makes a change: the CLI, the admin API (with the acting client and user), ... */
export interface ChangeOrigin {
  source: ChangeSource;
  actor?: ChangeActor;
}

/** What validating client metadata reads of the settings. */
export type ClientValidationSettings = Pick<GatehouseSettings, 'outboundAllowPrivateAddresses'> & {
  secret?: string | undefined;
};

export interface ClientAdminDeps {
  store: Pick<Store, 'clients' | 'resources'>;
  events: Pick<EventBus, 'emit'>;
  now(): number;
}

function announced(origin: ChangeOrigin): { source: ChangeSource; actor?: ChangeActor } {
  return origin.actor !== undefined ? { source: origin.source, actor: origin.actor } : { source: origin.source };
}

/**
 * A new client from `metadata`, validated (ClientMetadataError names the refused field), not yet
 * stored; a confidential client gets a generated secret, returned once, unless it names one.
 */
export function prepareClient(
  metadata: Record<string, unknown>,
  settings: ClientValidationSettings,
  now: number,
): Promise<{ client: Client; clientSecret: string | null }> {
  // A client_secret_jwt secret is sealed under GATEHOUSE_SECRET (OpenID Connect Core §9).
  const seals = metadata['token_endpoint_auth_method'] === 'client_secret_jwt';
  return registerClient(metadata, {
    generateSecret: true,
    now,
    outbound: { allowPrivateAddresses: settings.outboundAllowPrivateAddresses },
    ...(seals && settings.secret !== undefined ? { instanceSecret: settings.secret } : {}),
  });
}

/** Stores a prepared client; AdminConflict when its client_id is taken. */
export async function storeNewClient(client: Client, deps: ClientAdminDeps, origin: ChangeOrigin): Promise<void> {
  const taken = `a client with client_id ${client.clientId} already exists`;
  if (await deps.store.clients.get(client.clientId)) throw new AdminConflict(taken);
  try {
    await deps.store.clients.create(client);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AdminConflict(taken);
    throw error;
  }
  deps.events.emit({ type: 'client.created', clientId: client.clientId, ...announced(origin) }, deps.now());
}

/** The stored client, or AdminNotFound. */
export async function existingClient(store: Pick<Store, 'clients'>, clientId: string): Promise<Client> {
  const client = await store.clients.get(clientId);
  if (!client) throw new AdminNotFound(`no client with client_id ${clientId}`);
  return client;
}

/**
 * Changes a client's metadata: `changes` (RFC 7591 names; a list replaces the whole list) over
 * its current metadata, validated as at registration. The client_id, the secret (or key), the
 * authentication method and the creation time are kept. `expect`: the client the caller read
 * (the admin API's If-Match), checked against the current one by `check` before anything changes.
 */
export async function updateClient(
  clientId: string,
  changes: Record<string, unknown>,
  deps: ClientAdminDeps,
  settings: ClientValidationSettings,
  origin: ChangeOrigin,
  check: (current: Client) => void = () => {},
): Promise<Client> {
  const existing = await existingClient(deps.store, clientId);
  check(existing);
  const { client_type: _type, client_id_issued_at: _issuedAt, ...current } = clientToMetadata(existing);
  // The same validation as create and dynamic registration; no secret is generated or replaced.
  const { client } = await registerClient(
    { ...current, ...changes, client_id: clientId, token_endpoint_auth_method: existing.tokenEndpointAuthMethod },
    {
      generateSecret: false,
      now: existing.createdAt,
      outbound: { allowPrivateAddresses: settings.outboundAllowPrivateAddresses },
    },
  );
  const next: Client = {
    ...client,
    clientSecretHash: existing.clientSecretHash,
    clientSecretSealed: existing.clientSecretSealed,
    registrationKind: existing.registrationKind,
    createdAt: existing.createdAt,
  };
  await deps.store.clients.upsert(next);
  deps.events.emit({ type: 'client.updated', clientId, ...announced(origin) }, deps.now());
  return next;
}

/**
 * A new generated secret for a client that authenticates with one (RFC 6749 §2.3.1,
 * client_secret_jwt: OpenID Connect Core §9); the old one stops working at once. Returned once.
 */
export async function rotateClientSecret(
  clientId: string,
  deps: ClientAdminDeps,
  settings: ClientValidationSettings,
  origin: ChangeOrigin,
  check: (current: Client) => void = () => {},
): Promise<{ client: Client; clientSecret: string }> {
  const existing = await existingClient(deps.store, clientId);
  check(existing);
  const method = existing.tokenEndpointAuthMethod;
  if (method === 'none' || method === 'private_key_jwt')
    throw new AdminConflict(`client ${clientId} authenticates with ${method}: it has no secret to rotate`);
  const clientSecret = randomToken(GENERATED_SECRET_BYTES);
  const client: Client = {
    ...existing,
    clientSecretHash: await hashClientSecret(clientSecret, true),
    clientSecretSealed:
      method === 'client_secret_jwt'
        ? await withSealedSecret(clientSecret, settings.secret)
        : existing.clientSecretSealed,
  };
  await deps.store.clients.upsert(client);
  deps.events.emit({ type: 'client.secret_rotated', clientId, ...announced(origin) }, deps.now());
  return { client, clientSecret };
}

/**
 * Deletes a client (and every grant, code and token issued to it). A protected resource that
 * names it as an introspection client would keep a dangling client_id, so the deletion is
 * refused naming those resources, unless `force`, which removes the client from them too.
 * Returns the identifiers of the resources it was removed from.
 */
export async function deleteClient(
  clientId: string,
  options: { force: boolean },
  deps: ClientAdminDeps,
  origin: ChangeOrigin,
  check: (current: Client) => void = () => {},
): Promise<string[]> {
  const existing = await existingClient(deps.store, clientId);
  check(existing);
  const naming = (await deps.store.resources.list()).filter((resource) =>
    resource.introspectionClientIds.includes(clientId),
  );
  const names = naming.map((resource) => resource.identifier);
  if (naming.length > 0 && !options.force) {
    throw new AdminConflict(
      `client ${clientId} is the introspection client of resource ${names.join(', ')}; remove it there first (gatehouse resources create RESOURCE with the other --introspection-client flags) or pass --force, which removes it from the resource too`,
    );
  }
  if (!(await deps.store.clients.delete(clientId))) throw new AdminNotFound(`no client with client_id ${clientId}`);
  for (const resource of naming) {
    await deps.store.resources.upsert({
      ...resource,
      introspectionClientIds: resource.introspectionClientIds.filter((id) => id !== clientId),
    });
  }
  deps.events.emit({ type: 'client.deleted', clientId, ...announced(origin) }, deps.now());
  return names;
}
