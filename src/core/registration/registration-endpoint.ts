/**
 * Dynamic client registration: the client registration endpoint (RFC 7591 §3) and the client
 * configuration endpoint (RFC 7592 §2), framework-free. The HTTP layer (src/http/routes/
 * registration.ts) parses the JSON body and answers with `Cache-Control: no-store` (RFC 7591
 * §3.2.1, RFC 7592 §3).
 *
 * - POST /register (RFC 7591 §3.1): in `open` mode anyone, in `token` mode with an initial access
 *   token (used once, atomically with the client's creation). Every registration from an address
 *   is counted (limits.registration_ip). The metadata passes the rails of ./registration-policy.ts
 *   and the shared validation (./client-metadata.ts); 201 with the client information response
 *   (§3.2.1): the registered metadata, client_id, client_id_issued_at, for a client with a secret
 *   the generated client_secret and client_secret_expires_at (0: it does not expire), and the
 *   RFC 7592 §3 registration_access_token and registration_client_uri.
 * - GET/PUT/DELETE /register/:client_id (RFC 7592 §2.1-2.3) with the registration access token:
 *   read, replace (the token is rotated), delete (204).
 */
import type { Client, Store } from '../../store/store.js';
import { ENDPOINT_PATHS, type ProviderContext, type Transactions } from '../context.js';
import { ClientMetadataError, InvalidClientMetadata, InvalidToken } from '../errors.js';
import { countRegistration, type AttemptLimitDeps } from '../limits/attempt-limits.js';
import { verifyClientSecret } from '../secrets.js';
import { clientToMetadata, registerClient } from './client-registration.js';
import { authenticateRegistration, checkInitialAccessToken, newBearerToken } from './registration-access-token.js';
import { dynamicClientMetadata, registrationError } from './registration-policy.js';

export type RegistrationDeps = Pick<ProviderContext, 'settings' | 'now' | 'events'> &
  AttemptLimitDeps & { store: Pick<Store, 'clients' | 'registrations' | 'rateLimits'> & Transactions };

export interface RegistrationRequest {
  /** The parsed JSON body (RFC 7591 §3.1: application/json). */
  body: unknown;
  authorization: string | undefined;
  clientIp: string;
}

/** RFC 7591 §3.2.1 / RFC 7592 §3: the client information response. */
export type ClientInformation = ReturnType<typeof clientToMetadata> & {
  client_secret?: string;
  client_secret_expires_at?: number;
  registration_access_token: string;
  registration_client_uri: string;
};

/** RFC 7592 §3: where the client manages its registration. */
export function registrationClientUri(issuer: string, clientId: string): string {
  return `${issuer}${ENDPOINT_PATHS.registration}/${encodeURIComponent(clientId)}`;
}

function clientInformation(
  client: Client,
  context: Pick<ProviderContext, 'settings'>,
  accessToken: string,
  clientSecret: string | null,
): ClientInformation {
  return {
    ...clientToMetadata(client),
    ...(clientSecret !== null ? { client_secret: clientSecret } : {}),
    // RFC 7591 §3.2.1: REQUIRED when a secret was issued; 0: it does not expire.
    ...(client.clientSecretHash !== null ? { client_secret_expires_at: 0 } : {}),
    registration_access_token: accessToken,
    registration_client_uri: registrationClientUri(context.settings.issuer, client.clientId),
  };
}

/** Validates self-registered metadata into a client (refusals as RFC 7591 §3.2.2 errors). */
async function dynamicClient(
  body: unknown,
  context: Pick<ProviderContext, 'settings' | 'now'>,
  generateSecret: boolean,
): Promise<{ client: Client; clientSecret: string | null }> {
  const metadata = dynamicClientMetadata(body, context.settings.registration);
  try {
    return await registerClient(metadata, {
      generateSecret,
      now: context.now(),
      outbound: { allowPrivateAddresses: context.settings.outboundAllowPrivateAddresses },
      instanceSecret: context.settings.secret,
      registrationKind: 'dynamic',
    });
  } catch (error) {
    if (error instanceof ClientMetadataError) throw registrationError(error);
    throw error;
  }
}

/** RFC 7591 §3.1-3.2: registers a client; the caller answers 201 with the result. */
export async function handleRegistration(
  request: RegistrationRequest,
  context: RegistrationDeps,
): Promise<ClientInformation> {
  await countRegistration(context, request.clientIp);
  const initialToken =
    context.settings.registration.mode === 'token'
      ? await checkInitialAccessToken(context.store, request.authorization, context.now())
      : undefined;
  const { client, clientSecret } = await dynamicClient(request.body, context, true);
  const access = newBearerToken();
  await context.store.transaction(async (store) => {
    // A token used up by a concurrent registration since it was checked refuses this one.
    if (initialToken !== undefined && !(await store.registrations.useToken(initialToken, context.now())))
      throw new InvalidToken('the initial access token is unknown, expired, revoked or used up');
    await store.clients.create(client);
    await store.registrations.create({
      clientId: client.clientId,
      accessTokenHash: access.hash,
      createdAt: client.createdAt,
      lastActiveAt: client.createdAt,
    });
  });
  context.events.emit({ type: 'client.created', clientId: client.clientId, source: 'registration' });
  return clientInformation(client, context, access.token, clientSecret);
}

/** The self-registered client a request with its registration access token manages. */
async function registeredClient(
  clientId: string,
  authorization: string | undefined,
  context: RegistrationDeps,
): Promise<{ client: Client; token: string }> {
  const { token } = await authenticateRegistration(context.store, clientId, authorization);
  const client = await context.store.clients.get(clientId);
  // RFC 7592 §2.1: a client that no longer exists is answered 401 invalid_token.
  if (client === undefined) throw new InvalidToken('the registration access token is not valid for this client');
  return { client, token };
}

/** RFC 7592 §2.1: the client's current registration. */
export async function handleReadRegistration(
  clientId: string,
  authorization: string | undefined,
  context: RegistrationDeps,
): Promise<ClientInformation> {
  const { client, token } = await registeredClient(clientId, authorization, context);
  return clientInformation(client, context, token, null);
}

/**
 * RFC 7592 §2.2: replaces the client's metadata with the request's (omitted fields return to
 * their defaults), keeping its client_id, secret and creation time, and rotates the registration
 * access token. A client that becomes confidential without a secret gets a new one.
 */
export async function handleUpdateRegistration(
  clientId: string,
  authorization: string | undefined,
  body: unknown,
  context: RegistrationDeps,
): Promise<ClientInformation> {
  const { client: existing } = await registeredClient(clientId, authorization, context);
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  // RFC 7592 §2.2: "The client MUST include its client_id field in the request, and it MUST be
  // the same as its currently issued client identifier."
  if (input['client_id'] !== clientId)
    throw new InvalidClientMetadata('client_id: must be present and equal to the client_id of this registration');
  // RFC 7592 §2.2: a client_secret in the request "MUST match the currently issued client secret".
  const presentedSecret = input['client_secret'];
  if (
    presentedSecret !== undefined &&
    (typeof presentedSecret !== 'string' ||
      existing.clientSecretHash === null ||
      !(await verifyClientSecret(existing.clientSecretHash, presentedSecret)))
  )
    throw new InvalidClientMetadata('client_secret: does not match the client secret issued to this client');

  const method = typeof input['token_endpoint_auth_method'] === 'string' ? input['token_endpoint_auth_method'] : '';
  const keepSecret =
    existing.clientSecretHash !== null && (method !== 'client_secret_jwt' || existing.clientSecretSealed !== null);
  const { client: updated, clientSecret } = await dynamicClient(body, context, !keepSecret);
  const client: Client = { ...updated, clientId, createdAt: existing.createdAt };
  if (
    keepSecret &&
    updated.tokenEndpointAuthMethod !== 'none' &&
    updated.tokenEndpointAuthMethod !== 'private_key_jwt'
  ) {
    client.clientSecretHash = existing.clientSecretHash;
    client.clientSecretSealed =
      updated.tokenEndpointAuthMethod === 'client_secret_jwt' ? existing.clientSecretSealed : null;
  }
  const access = newBearerToken();
  await context.store.transaction(async (store) => {
    await store.clients.upsert(client);
    if (!(await store.registrations.rotateAccessToken(clientId, access.hash)))
      throw new InvalidToken('the registration access token is not valid for this client');
  });
  context.events.emit({ type: 'client.updated', clientId, source: 'registration' });
  return clientInformation(client, context, access.token, clientSecret);
}

/** RFC 7592 §2.3: deletes the client (its grants, tokens and registration go with it). */
export async function handleDeleteRegistration(
  clientId: string,
  authorization: string | undefined,
  context: RegistrationDeps,
): Promise<void> {
  await registeredClient(clientId, authorization, context);
  if (await context.store.clients.delete(clientId))
    context.events.emit({ type: 'client.deleted', clientId, source: 'registration' });
}
