/**
 * Validation of an authorization request, RFC 6749 §4.1.1 with RFC 9700 and RFC 7636.
 *
 * The order matters. Until the client and its redirect_uri are known to be genuine, nothing may
 * be sent to the redirect_uri (RFC 6749 §4.1.2.1, RFC 9700 §4.11 open redirectors): those
 * failures raise `UnsafeAuthorizationRequest`, shown on an error page. Every later failure is
 * an OAuthError delivered to the validated redirect_uri (`RedirectableError`).
 */
import type { Client, StoredAuthorizationRequest } from '../../store/store.js';
import {
  ClientMetadataDocumentUnavailable,
  InvalidRequest,
  OAuthError,
  RedirectableError,
  RequestUriNotSupported,
  UnauthorizedClient,
  UnsafeAuthorizationRequest,
  UnsupportedResponseType,
  type ResponseTarget,
  type ValueComparison,
} from '../errors.js';
import type { ProviderContext } from '../context.js';
import type { Params } from '../params.js';
import { parseCodeChallenge } from '../pkce.js';
import { firstDifference, matchRedirectUri } from '../clients/redirect-uri.js';
import { requestedResources } from '../resources/resource-indicators.js';
import { assertResourcesOpen } from '../registration/registration-policy.js';
import { allowedScope, parseScope } from '../scope.js';
import { verifyIdTokenHint } from './id-token-hint.js';
import { usesFapi2 } from '../profile/fapi2-profile.js';

export type ResponseMode = StoredAuthorizationRequest['responseMode'];

/**
 * Longest accepted values of the request parameters an interaction stores verbatim (every
 * other stored value is checked against a registration or a fixed syntax). An anonymous
 * request writes an interaction row that lives interaction_ttl_seconds, so the general cap of
 * 8,192 characters (PARAM_LIMITS) would let anyone store 24 KiB per request. A `state` or
 * `nonce` is an opaque random value (RFC 6749 §10.12, OIDC Core §15.5.2: a hash or random
 * string; 512 characters are ample also for a client that packs signed data into `state`),
 * and a `login_hint` is an email address or a username (RFC 5321 §4.5.3.1: at most 254
 * characters for a mailbox).
 */
export const STORED_VALUE_LIMITS = { state: 512, nonce: 512, login_hint: 256 } as const;

export interface ValidatedAuthorizationRequest {
  client: Client;
  request: StoredAuthorizationRequest;
}

/** What validation uses: the registered clients and resources, and the key ring that checks an id_token_hint. */
export type AuthorizationRequestDeps = Pick<ProviderContext, 'clients' | 'resources' | 'keys' | 'settings'>;

export interface AuthorizationRequestOrigin {
  /**
   * The parameters were pushed (RFC 9126): validated at the PAR endpoint, or used at the
   * authorization endpoint through their request_uri. When false (the front channel), a client
   * that must push its requests (RFC 9126 §5, §6) is refused.
   */
  pushed: boolean;
  /**
   * RFC 9101 §10.5: whether the parameters came from a verified signed request object; a client
   * (or server) that requires one refuses the request otherwise. Undefined for a pushed request
   * used at the authorization endpoint: the PAR endpoint enforced the rule when it was pushed.
   */
  signed?: boolean;
  /**
   * RFC 9101 §6.3: a check of the signed request object's claims that failed, sent to the
   * validated redirect_uri (the object was signed by the client, so its redirect_uri is trusted).
   */
  refusal?: OAuthError;
}

/** RFC 7638 §3: a SHA-256 JWK thumbprint, base64url without padding (43 characters). */
const JWK_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Validates the parameters of an authorization request, the same way whether they arrived at
 * the authorization endpoint or at the PAR endpoint (RFC 9126 §2.1, §4).
 */
export async function validateAuthorizationRequest(
  params: Params,
  context: AuthorizationRequestDeps,
  origin: AuthorizationRequestOrigin = { pushed: false, signed: false },
): Promise<ValidatedAuthorizationRequest> {
  const client = await resolveClient(params, context);
  const redirectUri = resolveRedirectUri(params, client);
  const state = params.isRepeated('state') ? null : (params.get('state') ?? null);
  const responseMode = parseResponseMode(params.get('response_mode'));
  const target: ResponseTarget = { redirectUri, responseMode: responseMode ?? 'query', state };
  try {
    return await validateRemainder(params, client, target, responseMode, context, origin);
  } catch (error) {
    if (error instanceof OAuthError) throw new RedirectableError(error, target, client.clientId);
    throw error;
  }
}

/** The client named by `client_id`; an error page when it is missing, repeated or unknown. */
export async function resolveClient(params: Params, context: Pick<ProviderContext, 'clients'>): Promise<Client> {
  if (params.isRepeated('client_id')) {
    throw new UnsafeAuthorizationRequest('Invalid request', 'The client_id parameter was sent more than once.');
  }
  const clientId = params.get('client_id');
  if (clientId === undefined) {
    throw new UnsafeAuthorizationRequest('Invalid request', 'The request has no client_id parameter.');
  }
  const client = await clientOrErrorPage(clientId, context);
  if (!client) {
    throw new UnsafeAuthorizationRequest('Unknown application', 'No application is registered with this client_id.', [
      { label: 'client_id received', value: clientId },
    ]);
  }
  return client;
}

/**
 * The client, or undefined when unknown. A client_id URL whose metadata document cannot be used
 * (draft-ietf-oauth-client-id-metadata-document) is an untrusted client like an unknown one:
 * an error page saying why, never a redirect (RFC 6749 §4.1.2.1).
 */
async function clientOrErrorPage(clientId: string, context: Pick<ProviderContext, 'clients'>) {
  try {
    return await context.clients.get(clientId);
  } catch (error) {
    if (!(error instanceof ClientMetadataDocumentUnavailable)) throw error;
    throw new UnsafeAuthorizationRequest(
      'Application unavailable',
      "This application identifies itself by the web address of its description, which could not be used. Try again later, or tell the application's developer.",
      [
        { label: 'client_id received', value: clientId },
        { label: 'problem', value: error.reason },
      ],
    );
  }
}

/**
 * RFC 6749 §3.1.2.3 and RFC 9700 §2.1: the redirect_uri must exactly match a registered one;
 * it may be omitted only when the client registered exactly one.
 */
function resolveRedirectUri(params: Params, client: Client): string {
  // The registered URIs are for the developer only (UnsafeAuthorizationRequest.registrationFacts).
  const registered = client.redirectUris.map((uri) => ({ label: 'registered redirect_uri', value: uri }));
  if (params.isRepeated('redirect_uri')) {
    throw new UnsafeAuthorizationRequest(
      'Invalid redirect_uri',
      'The redirect_uri parameter was sent more than once.',
      [],
      null,
      registered,
    );
  }
  const requested = params.get('redirect_uri');
  if (requested === undefined) {
    const [only, ...others] = client.redirectUris;
    if (only !== undefined && others.length === 0) return only;
    throw new UnsafeAuthorizationRequest(
      'Missing redirect_uri',
      'This application registered several redirect URIs (or none), so the request must name one.',
      [],
      null,
      registered,
    );
  }
  const matched = matchRedirectUri(requested, client.redirectUris);
  if (matched !== undefined) return matched;
  const comparison = closestRegistered(requested, client.redirectUris);
  throw new UnsafeAuthorizationRequest(
    'Invalid redirect_uri',
    'The redirect_uri does not exactly match any URI registered for this application (RFC 9700 2.1).',
    [{ label: 'redirect_uri received', value: requested }],
    comparison,
    [
      ...registered,
      ...(comparison
        ? [{ label: `first difference from ${comparison.expected}`, value: `character ${comparison.at + 1}` }]
        : []),
    ],
  );
}

/** The registered URI the request comes closest to (longest common prefix), and where it departs. */
function closestRegistered(requested: string, registered: string[]): ValueComparison | null {
  let best: ValueComparison | null = null;
  for (const uri of registered) {
    const at = firstDifference(requested, uri);
    if (!best || at > best.at) best = { name: 'redirect_uri', received: requested, expected: uri, at };
  }
  return best;
}

function parseResponseMode(value: string | undefined): ResponseMode | undefined {
  if (value === 'query' || value === 'form_post') return value;
  return undefined;
}

async function validateRemainder(
  params: Params,
  client: Client,
  target: ResponseTarget,
  responseMode: ResponseMode | undefined,
  context: AuthorizationRequestDeps,
  origin: AuthorizationRequestOrigin,
): Promise<ValidatedAuthorizationRequest> {
  if (origin.refusal !== undefined) throw origin.refusal;
  params.assertNoDuplicates(['resource']);
  // RFC 6749 §4.1.2.1: an over-long value makes the request invalid (invalid_request), answered
  // at the validated redirect_uri. The error response still carries `state` exactly as received,
  // also when `state` is the over-long one: §4.1.2.1 makes it REQUIRED in every error response to
  // a request that had one, and it is what lets the client tie the error to its request. The cap
  // bounds what is stored; the response reflects no more than the request itself carried.
  for (const [name, max] of Object.entries(STORED_VALUE_LIMITS)) {
    const value = params.get(name);
    if (value !== undefined && value.length > max)
      throw new InvalidRequest(`parameter ${name} is longer than ${max} characters`);
  }
  const requestedMode = params.get('response_mode');
  if (requestedMode !== undefined && responseMode === undefined) {
    throw new InvalidRequest(`response_mode ${requestedMode} is not supported, use query or form_post`);
  }
  // RFC 9126 §4: where PAR is required (§5 globally, §6 per client, FAPI 2.0 §5.3.2.2 for a
  // fapi2 client), invalid_request for any request that did not come through a pushed request_uri.
  const fapi2 = usesFapi2(client, context.settings);
  if (
    !origin.pushed &&
    (context.settings.requirePushedAuthorizationRequests || client.requirePushedAuthorizationRequests || fapi2)
  )
    throw new InvalidRequest(
      `pushed authorization request required: this client must push its authorization requests to the pushed authorization request endpoint first and send only client_id and request_uri here (${fapi2 ? 'FAPI 2.0 section 5.3.2.2, ' : ''}RFC 9126)`,
    );
  // RFC 9101 §10.5 `require_signed_request_object` (the client's, or the server's for every client).
  if (origin.signed === false && (context.settings.requireSignedRequestObject || client.requireSignedRequestObject))
    throw new InvalidRequest(
      'this client must send its authorization requests as a signed request object in the request parameter (require_signed_request_object, RFC 9101 10.5)',
    );
  // RFC 9101 §5.2: request_uri only as the URN of a pushed request (used before validation).
  if (params.has('request_uri')) throw new RequestUriNotSupported('request_uri is not supported');
  // RFC 9449 §10: the DPoP key the code will be bound to.
  const dpopJkt = params.get('dpop_jkt');
  if (dpopJkt !== undefined && !JWK_THUMBPRINT.test(dpopJkt))
    throw new InvalidRequest('dpop_jkt must be the base64url SHA-256 JWK thumbprint of the DPoP key (RFC 9449 10)');

  const responseType = params.require('response_type');
  // RFC 9700 §2.1.2: no implicit grant; only the authorization code flow.
  if (responseType !== 'code')
    throw new UnsupportedResponseType(`response_type ${responseType} is not supported, use code`);
  if (!client.grantTypes.includes('authorization_code') || !client.responseTypes.includes('code')) {
    throw new UnauthorizedClient('this client is not allowed to use the authorization code grant');
  }

  const scope = allowedScope(parseScope(params.get('scope')), parseScope(client.scope));

  // RFC 9700 §2.1.1: PKCE for public clients always, for confidential clients unless opted out.
  // FAPI 2.0 §5.3.2.2: always for a fapi2 client (S256 is the only method parseCodeChallenge accepts).
  const pkceRequired = client.requirePkce || client.tokenEndpointAuthMethod === 'none' || fapi2;
  const challenge = parseCodeChallenge(params.get('code_challenge'), params.get('code_challenge_method'), pkceRequired);

  const prompt = parsePrompt(params.get('prompt'));
  const maxAge = parseMaxAge(params.get('max_age'));
  const idTokenHint = params.get('id_token_hint');
  const idTokenHintSub =
    idTokenHint === undefined ? null : (await verifyIdTokenHint(idTokenHint, client.clientId, context)).sub;
  const resources = await requestedResources(params, context.resources);
  assertResourcesOpen(client, resources, context.settings);
  // OIDC Core §5.5: the `claims` parameter is not supported (discovery says
  // claims_parameter_supported: false), so it is ignored, as are the voluntary `acr_values`
  // and `display`; §3.1.2.1 `ui_locales` is kept for the pages.

  return {
    client,
    request: {
      clientId: client.clientId,
      redirectUri: target.redirectUri,
      redirectUriProvided: params.has('redirect_uri'),
      scope,
      state: target.state,
      responseMode: target.responseMode,
      codeChallenge: challenge?.codeChallenge ?? null,
      codeChallengeMethod: challenge?.codeChallengeMethod ?? null,
      nonce: params.get('nonce') ?? null,
      prompt,
      loginHint: params.get('login_hint') ?? null,
      maxAge,
      idTokenHintSub,
      uiLocales: parseUiLocales(params.get('ui_locales')),
      resources,
      ...(dpopJkt !== undefined ? { dpopJkt } : {}),
    },
  };
}

const PROMPT_VALUES = new Set(['none', 'login', 'consent', 'select_account']);

/** OpenID Connect Core §3.1.2.1: `none` must stand alone; unknown values are refused. */
function parsePrompt(value: string | undefined): string[] {
  const prompt = [...new Set((value ?? '').split(' ').filter((item) => item !== ''))];
  const unknown = prompt.find((item) => !PROMPT_VALUES.has(item));
  if (unknown !== undefined) throw new InvalidRequest(`prompt value ${unknown} is not supported`);
  if (prompt.includes('none') && prompt.length > 1)
    throw new InvalidRequest('prompt=none cannot be combined with other values');
  return prompt;
}

/**
 * OIDC Core §3.1.2.1 `max_age`: the allowable elapsed time in seconds since the End-User last
 * actively authenticated; a non-negative integer. Up to 10 digits (three centuries).
 */
function parseMaxAge(value: string | undefined): number | null {
  if (value === undefined) return null;
  if (!/^[0-9]{1,10}$/.test(value))
    throw new InvalidRequest('max_age must be a non-negative integer number of seconds');
  return Number(value);
}

/**
 * A BCP 47 language tag, loosely (RFC 5646 §2.1 shape), of at most 35 characters (the length
 * RFC 5646 §4.4.1 asks every implementation to handle), so the stored list stays small.
 */
const LANGUAGE_TAG = /^(?=.{1,35}$)[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;

/**
 * OIDC Core §3.1.2.1 `ui_locales`: space-separated BCP 47 tags in order of preference. A hint
 * only: malformed tags are dropped, never an error.
 */
function parseUiLocales(value: string | undefined): string[] {
  return [...new Set((value ?? '').split(' ').filter((tag) => LANGUAGE_TAG.test(tag)))].slice(0, 10);
}
