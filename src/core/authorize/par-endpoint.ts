/**
 * The pushed authorization request endpoint, RFC 9126 §2.
 *
 * The client authenticates as at the token endpoint (§2: the same methods and rules) and POSTs
 * the parameters of an authorization request. They are validated exactly as the authorization
 * endpoint validates them (§2.1), so a bad request is refused here, to the client, in the
 * token endpoint's error format (§2.3), never at the user's browser. A valid request is stored
 * and answered with a request_uri (§2.2): single-use, short-lived, bound to the client.
 */
import type { Store } from '../../store/store.js';
import {
  authenticateClient,
  type ClientAuthenticationDeps,
  type ClientAuthenticationRequest,
} from '../clients/client-authentication.js';
import type { ProviderContext } from '../context.js';
import {
  InvalidClient,
  InvalidRequest,
  OAuthError,
  RedirectableError,
  UnauthorizedClient,
  UnsafeAuthorizationRequest,
} from '../errors.js';
import { Params } from '../params.js';
import { validateAuthorizationRequest, type AuthorizationRequestDeps } from './authorization-request.js';
import { newRequestUri, requestUriHash } from './pushed-request-uri.js';

/** The parameters of client authentication (RFC 6749 §2.3.1, RFC 7523 §2.2): never stored with the request. */
const CLIENT_AUTHENTICATION_PARAMS = new Set(['client_secret', 'client_assertion', 'client_assertion_type']);

/** RFC 9126 §2.2: the successful response. */
export interface PushedAuthorizationResponse {
  request_uri: string;
  expires_in: number;
}

/**
 * What the PAR endpoint uses: client authentication, the authorization request's validation,
 * the request_uri lifetime, and the pushed requests it stores.
 */
export type PushedAuthorizationDeps = ClientAuthenticationDeps &
  AuthorizationRequestDeps &
  Pick<ProviderContext, 'settings' | 'now'> & { store: Pick<Store, 'pushedRequests'> };

export async function handlePushedAuthorizationRequest(
  request: ClientAuthenticationRequest,
  context: PushedAuthorizationDeps,
): Promise<PushedAuthorizationResponse> {
  const client = await authenticateClient(request, context);
  const { params } = request;
  // RFC 6749 §5.2: the authenticated client may not push what it may not ask for (a client
  // without redirect URIs would otherwise hear of a missing redirect_uri).
  if (!client.grantTypes.includes('authorization_code')) {
    throw new UnauthorizedClient('this client is not allowed to use the authorization code grant');
  }
  // RFC 9126 §2.1: "The request_uri authorization request parameter is one exception, and it
  // MUST NOT be provided."
  if (params.has('request_uri')) {
    throw new InvalidRequest(
      'request_uri must not be sent to the pushed authorization request endpoint (RFC 9126 2.1)',
    );
  }
  const bodyClientId = params.get('client_id');
  if (bodyClientId !== undefined && bodyClientId !== client.clientId) {
    throw new InvalidRequest('client_id differs from the authenticated client');
  }
  // The authorization request as the authorization endpoint will see it: client_id is the
  // authenticated client's (a client authenticating with Basic may leave it out of the body).
  const parameters: Array<[string, string]> = [['client_id', client.clientId]];
  for (const name of params.names()) {
    if (name === 'client_id' || CLIENT_AUTHENTICATION_PARAMS.has(name)) continue;
    for (const value of params.getAll(name)) parameters.push([name, value]);
  }
  try {
    await validateAuthorizationRequest(Params.fromEntries(parameters), context, { pushed: true });
  } catch (error) {
    // RFC 9126 §2.3: the error the authorization endpoint would redirect with, answered to the
    // client; invalid_request where RFC 6749 §4.1.2.1 has no code (a bad redirect_uri).
    if (error instanceof RedirectableError) throw error.oauthError;
    if (error instanceof UnsafeAuthorizationRequest) throw new InvalidRequest(error.detail);
    throw error;
  }

  const requestUri = newRequestUri();
  const now = context.now();
  const ttl = context.settings.parRequestUriTtlSeconds;
  try {
    await context.store.pushedRequests.create({
      requestUriHash: requestUriHash(requestUri),
      clientId: client.clientId,
      parameters,
      createdAt: now,
      expiresAt: now + ttl * 1000,
      consumedAt: null,
    });
  } catch (error) {
    // A client deleted on another instance may still be in this instance's cache; the store's
    // foreign key refuses the row. That is invalid_client (RFC 6749 §5.2), not a server error.
    if (!(error instanceof OAuthError) && (await context.clients.fresh(client.clientId)) === undefined) {
      throw new InvalidClient('unknown client or wrong credentials', {
        usedBasic: /^basic /i.test(request.authorization ?? ''),
      });
    }
    throw error;
  }
  return { request_uri: requestUri, expires_in: ttl };
}
