/**
 * The pushed authorization request endpoint, RFC 9126 §2.
 *
 * The client authenticates as at the token endpoint (§2: the same methods and rules) and POSTs
 * the parameters of an authorization request. They are validated exactly as the authorization
 * endpoint validates them (§2.1), so a bad request is refused here, to the client, in the
 * token endpoint's error format (§2.3), never at the user's browser. A valid request is stored
 * and answered with a request_uri (§2.2): single-use, short-lived, bound to the client.
 *
 * A signed request object (RFC 9126 §3, RFC 9101) is verified here, once (its jti is single-use),
 * and its parameters are what is stored. A DPoP proof sent with the push binds the code to its
 * key (RFC 9449 §10.1): its thumbprint is stored as `dpop_jkt`.
 */
import type { Client, Store } from '../../store/store.js';
import {
  authenticateClient,
  type ClientAuthenticationDeps,
  type ClientAuthenticationRequest,
} from '../clients/client-authentication.js';
import type { ProviderContext } from '../context.js';
import {
  InvalidClient,
  InvalidDpopProof,
  InvalidRequest,
  InvalidRequestObject,
  OAuthError,
  RedirectableError,
  UnauthorizedClient,
  UnsafeAuthorizationRequest,
  UntrustedRequestObject,
} from '../errors.js';
import { Params } from '../params.js';
import { validateAuthorizationRequest, type AuthorizationRequestDeps } from './authorization-request.js';
import { readRequestObject, type RequestObjectDeps } from './request-object.js';
import { verifyDpopProof, type DpopProofDeps, type DpopRequest } from '../dpop/dpop-proof.js';
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
  RequestObjectDeps &
  DpopProofDeps &
  Pick<ProviderContext, 'settings' | 'now'> & { store: Pick<Store, 'pushedRequests'> };

export interface PushedAuthorizationRequestInput extends ClientAuthenticationRequest {
  /** RFC 9449 §10.1: the request's DPoP proof (its header undefined when none was sent). */
  dpop?: DpopRequest;
}

export async function handlePushedAuthorizationRequest(
  request: PushedAuthorizationRequestInput,
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
  // RFC 9449 §10.1: a proof with the push binds the code to its key, as dpop_jkt would.
  const proof = request.dpop === undefined ? undefined : await verifyDpopProof(request.dpop, context);
  const jwt = params.get('request');
  let entries: Array<[string, string]>;
  try {
    entries =
      jwt === undefined
        ? plainParameters(params, client.clientId)
        : await signedParameters(jwt, params, client, context);
  } catch (error) {
    if (error instanceof UntrustedRequestObject) throw new InvalidRequestObject(error.detail);
    throw error;
  }
  if (proof !== undefined) {
    const named = entries.find(([name]) => name === 'dpop_jkt')?.[1];
    if (named === undefined) entries.push(['dpop_jkt', proof.jkt]);
    else if (named !== proof.jkt) {
      // §10.1: "the authorization server MUST reject the request if the JWK Thumbprint in
      // dpop_jkt does not match the public key in the DPoP header".
      throw new InvalidDpopProof('dpop_jkt differs from the thumbprint of the DPoP proof key (RFC 9449 10.1)');
    }
  }
  try {
    await validateAuthorizationRequest(Params.fromEntries(entries), context, {
      pushed: true,
      signed: jwt !== undefined,
    });
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
      parameters: entries,
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

/**
 * The authorization request as the authorization endpoint will see it: client_id is the
 * authenticated client's (a client authenticating with Basic may leave it out of the body).
 */
function plainParameters(params: Params, clientId: string): Array<[string, string]> {
  const parameters: Array<[string, string]> = [['client_id', clientId]];
  for (const name of params.names()) {
    if (name === 'client_id' || CLIENT_AUTHENTICATION_PARAMS.has(name)) continue;
    for (const value of params.getAll(name)) parameters.push([name, value]);
  }
  return parameters;
}

/**
 * RFC 9126 §3 and RFC 9101 §6.3: the parameters of the pushed request object, verified here
 * (a claim refused after the signature verified is answered to the client, as every PAR error).
 * The body's other parameters are ignored, client authentication's aside.
 */
async function signedParameters(
  jwt: string,
  params: Params,
  client: Client,
  context: RequestObjectDeps,
): Promise<Array<[string, string]>> {
  if (params.isRepeated('request')) throw new InvalidRequest('the request parameter was sent more than once');
  const { params: signed, refusal } = await readRequestObject(jwt, client, context);
  if (refusal !== undefined) throw refusal;
  return signed.entries();
}
