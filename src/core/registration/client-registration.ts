/**
 * Client registration: validated metadata (./client-metadata.ts) becomes a stored `Client`; and
 * the display form of a stored client.
 *
 * Secrets: a confidential client gets a generated 256-bit secret, stored as SHA-256 (it is
 * high-entropy), unless one was supplied (config fixtures), which is stored as argon2id because a
 * person may have chosen it (see src/core/secrets.ts). Only a generated secret is returned, once.
 */
import type { Client, RegistrationKind } from '../../store/store.js';
import type { OutboundPolicy } from '../outbound/safe-fetch.js';
import { GENERATED_SECRET_BYTES, hashClientSecret, randomIdentifier, randomToken } from '../secrets.js';
import { sealClientSecret } from '../clients/client-secret-seal.js';
import { validateClientMetadata, type ValidatedClientMetadata } from './client-metadata.js';

/** The metadata the display form has only when the client registered it. */
type ShownWhenSet =
  | 'client_name'
  | 'id_token_signed_response_alg'
  | 'id_token_claims'
  | 'post_logout_redirect_uris'
  | 'backchannel_logout_uri'
  | 'backchannel_logout_session_required'
  | 'token_exchange_resources'
  | 'dpop_bound_access_tokens'
  | 'jwks'
  | 'jwks_uri'
  | 'token_endpoint_auth_signing_alg'
  | 'require_pushed_authorization_requests'
  | 'request_object_signing_alg'
  | 'require_signed_request_object'
  | 'profile';

/**
 * The display form of a client (RFC 7591 §3.2.1 names): its validated metadata, never the secret
 * or its hash; each of ShownWhenSet only when registered (id_token_claims: else the server's
 * id_token_claims_default applies; backchannel_logout_session_required: with
 * backchannel_logout_uri); and the client's type and `client_id_issued_at` (RFC 7591 §3.2.1:
 * seconds since the epoch).
 */
export type ClientMetadataView = Omit<ValidatedClientMetadata, 'client_id' | 'client_secret' | ShownWhenSet> & {
  [K in ShownWhenSet]?: NonNullable<ValidatedClientMetadata[K]>;
} & {
  client_id: string;
  client_type: 'public' | 'confidential';
  client_id_issued_at: number;
};

/**
 * Registers a client from its metadata. `generateSecret`: whether a confidential client without
 * a `client_secret` gets a generated one (returned once as `clientSecret`); when false, such a
 * client is returned with no secret hash and the caller decides what to do with it.
 * `instanceSecret` (GATEHOUSE_SECRET): needed for a client_secret_jwt client, whose secret is
 * also kept sealed (see withSealedSecret). `registrationKind`: `operator` unless given.
 */
export async function registerClient(
  metadata: unknown,
  options: {
    generateSecret: boolean;
    now: number;
    outbound?: OutboundPolicy;
    instanceSecret?: string;
    registrationKind?: RegistrationKind;
  },
): Promise<{ client: Client; clientSecret: string | null }> {
  const validated = validateClientMetadata(metadata, options.outbound);
  const method = validated.token_endpoint_auth_method;

  let clientSecretHash: string | null = null;
  let clientSecret: string | null = null;
  // A private_key_jwt client authenticates with its key (RFC 7523 §2.2): it has no secret.
  if (method !== 'none' && method !== 'private_key_jwt') {
    if (validated.client_secret !== undefined) {
      clientSecretHash = await hashClientSecret(validated.client_secret, false);
    } else if (options.generateSecret) {
      clientSecret = randomToken(GENERATED_SECRET_BYTES);
      clientSecretHash = await hashClientSecret(clientSecret, true);
    }
  }

  const client: Client = {
    // 16 random bytes: a 22-character URL-safe identifier.
    clientId: validated.client_id ?? randomIdentifier(16),
    clientSecretHash,
    clientName: validated.client_name ?? null,
    redirectUris: validated.redirect_uris,
    grantTypes: validated.grant_types,
    responseTypes: validated.response_types,
    tokenEndpointAuthMethod: validated.token_endpoint_auth_method,
    scope: validated.scope,
    requirePkce: validated.require_pkce,
    idTokenSignedResponseAlg: validated.id_token_signed_response_alg ?? null,
    ...(validated.id_token_claims !== undefined ? { idTokenClaims: validated.id_token_claims } : {}),
    subjectType: validated.subject_type,
    postLogoutRedirectUris: validated.post_logout_redirect_uris,
    backchannelLogoutUri: validated.backchannel_logout_uri ?? null,
    backchannelLogoutSessionRequired: validated.backchannel_logout_session_required,
    tokenExchangeResources: validated.token_exchange_resources,
    dpopBoundAccessTokens: validated.dpop_bound_access_tokens,
    jwks: validated.jwks ?? null,
    jwksUri: validated.jwks_uri ?? null,
    tokenEndpointAuthSigningAlg: validated.token_endpoint_auth_signing_alg ?? null,
    clientSecretSealed: null,
    requirePushedAuthorizationRequests: validated.require_pushed_authorization_requests,
    requestObjectSigningAlg: validated.request_object_signing_alg ?? null,
    requireSignedRequestObject: validated.require_signed_request_object,
    profile: validated.profile ?? null,
    registrationKind: options.registrationKind ?? 'operator',
    createdAt: options.now,
  };
  const secret = clientSecret ?? validated.client_secret;
  if (method === 'client_secret_jwt' && secret !== undefined) {
    client.clientSecretSealed = await withSealedSecret(secret, options.instanceSecret);
  }
  return { client, clientSecret };
}

/**
 * The sealed form of a client_secret_jwt client's secret (src/core/clients/client-secret-seal.ts):
 * the HMAC of its assertions is verified with the secret itself, so it is kept encrypted under
 * GATEHOUSE_SECRET besides its hash.
 */
export function withSealedSecret(secret: string, instanceSecret: string | undefined): Promise<string> {
  if (instanceSecret === undefined) {
    throw new Error('a client_secret_jwt client needs GATEHOUSE_SECRET to seal its secret (OpenID Connect Core §9)');
  }
  return sealClientSecret(secret, instanceSecret);
}

/** The display form of a stored client; never the secret hash. */
export function clientToMetadata(client: Client): ClientMetadataView {
  return {
    client_id: client.clientId,
    ...(client.clientName !== null ? { client_name: client.clientName } : {}),
    client_type: client.tokenEndpointAuthMethod === 'none' ? 'public' : 'confidential',
    redirect_uris: [...client.redirectUris],
    grant_types: [...client.grantTypes],
    response_types: [...client.responseTypes],
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    scope: client.scope,
    require_pkce: client.requirePkce,
    ...(client.idTokenSignedResponseAlg !== null
      ? { id_token_signed_response_alg: client.idTokenSignedResponseAlg }
      : {}),
    ...(client.idTokenClaims !== undefined ? { id_token_claims: client.idTokenClaims } : {}),
    subject_type: client.subjectType,
    ...(client.postLogoutRedirectUris.length > 0
      ? { post_logout_redirect_uris: [...client.postLogoutRedirectUris] }
      : {}),
    ...(client.backchannelLogoutUri !== null
      ? {
          backchannel_logout_uri: client.backchannelLogoutUri,
          backchannel_logout_session_required: client.backchannelLogoutSessionRequired,
        }
      : {}),
    ...(client.tokenExchangeResources.length > 0
      ? { token_exchange_resources: [...client.tokenExchangeResources] }
      : {}),
    ...(client.dpopBoundAccessTokens ? { dpop_bound_access_tokens: true } : {}),
    ...(client.jwks !== null ? { jwks: client.jwks } : {}),
    ...(client.jwksUri !== null ? { jwks_uri: client.jwksUri } : {}),
    ...(client.tokenEndpointAuthSigningAlg !== null
      ? { token_endpoint_auth_signing_alg: client.tokenEndpointAuthSigningAlg }
      : {}),
    // RFC 9126 §6: shown when set (false is the default).
    ...(client.requirePushedAuthorizationRequests ? { require_pushed_authorization_requests: true } : {}),
    // RFC 9101 §10.5: shown when set.
    ...(client.requestObjectSigningAlg !== null ? { request_object_signing_alg: client.requestObjectSigningAlg } : {}),
    ...(client.requireSignedRequestObject ? { require_signed_request_object: true } : {}),
    ...(client.profile !== null ? { profile: client.profile } : {}),
    client_id_issued_at: Math.floor(client.createdAt / 1000),
  };
}
