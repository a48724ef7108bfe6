/**
 * Authorization server metadata, RFC 8414 §2 (also served as OpenID Connect Discovery 1.0 §3).
 * Every value is derived from what the running server actually does.
 */
import { offeredLanguages } from '../browser/page-language.js';
import type { GatehouseSettings } from '../../config/settings.js';
import { ENDPOINT_PATHS } from '../context.js';
import { PASSWORD_ACR, idTokenSigningAlgs } from '../token/id-token.js';
import { SUPPORTED_GRANT_TYPES } from '../token/grants/grant-registry.js';
import { USER_CLAIMS_SUPPORTED } from '../users/user-claims.js';
import { DPOP_SIGNING_ALGS } from '../dpop/dpop-proof-jwt.js';
import {
  REQUEST_OBJECT_SIGNING_ALGS,
  SUPPORTED_AUTH_METHODS,
  TOKEN_ENDPOINT_AUTH_SIGNING_ALGS,
} from '../registration/client-metadata-fields.js';

/** OIDC Core §2: the claims of Gatehouse's ID tokens (besides sub). */
const ID_TOKEN_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'acr', 'amr', 'sid'];

export function serverMetadata(settings: GatehouseSettings): Record<string, unknown> {
  const { issuer } = settings;
  return {
    issuer,
    authorization_endpoint: issuer + ENDPOINT_PATHS.authorization,
    token_endpoint: issuer + ENDPOINT_PATHS.token,
    jwks_uri: issuer + ENDPOINT_PATHS.jwks,
    // RFC 9126 §5.
    pushed_authorization_request_endpoint: issuer + ENDPOINT_PATHS.pushedAuthorizationRequest,
    // RFC 9126 §5; FAPI 2.0 §5.3.2.2 requires PAR of every client under the server-wide profile.
    require_pushed_authorization_requests: settings.requirePushedAuthorizationRequests || settings.profile === 'fapi2',
    revocation_endpoint: issuer + ENDPOINT_PATHS.revocation,
    introspection_endpoint: issuer + ENDPOINT_PATHS.introspection,
    // OIDC Core §5.3.
    userinfo_endpoint: issuer + ENDPOINT_PATHS.userinfo,
    // OpenID Connect RP-Initiated Logout 1.0 §2.1.
    end_session_endpoint: issuer + ENDPOINT_PATHS.endSession,
    // RFC 8628 §4.
    device_authorization_endpoint: issuer + ENDPOINT_PATHS.deviceAuthorization,
    // RFC 8414 §2 / RFC 7591 §3: only when clients may register themselves.
    ...(settings.registration.mode !== 'off' ? { registration_endpoint: issuer + ENDPOINT_PATHS.registration } : {}),
    // OIDC Core §5.4 (profile, email, address, phone) and §11 (offline_access).
    scopes_supported: ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'],
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'form_post'],
    grant_types_supported: [...SUPPORTED_GRANT_TYPES],
    token_endpoint_auth_methods_supported: [...SUPPORTED_AUTH_METHODS],
    // RFC 8414 §2: the JWS algorithms of private_key_jwt and client_secret_jwt assertions (RFC 7523 §2.2).
    token_endpoint_auth_signing_alg_values_supported: [...TOKEN_ENDPOINT_AUTH_SIGNING_ALGS],
    revocation_endpoint_auth_methods_supported: [...SUPPORTED_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...TOKEN_ENDPOINT_AUTH_SIGNING_ALGS],
    introspection_endpoint_auth_methods_supported: SUPPORTED_AUTH_METHODS.filter((method) => method !== 'none'),
    introspection_endpoint_auth_signing_alg_values_supported: [...TOKEN_ENDPOINT_AUTH_SIGNING_ALGS],
    code_challenge_methods_supported: ['S256'],
    // RFC 9449 §5.1: the algorithms of DPoP proofs the token endpoint (and UserInfo) accepts.
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    // RFC 9207 §3: every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: true,
    // OIDC Core §8: per client (`subject_type` metadata, src/core/users/subject-identifiers.ts).
    subject_types_supported: ['public', 'pairwise'],
    // Per client: id_token_signed_response_alg (OpenID Connect Dynamic Client Registration §2).
    id_token_signing_alg_values_supported: idTokenSigningAlgs(
      settings.signingAlg,
      settings.idTokenSignedResponseAlgDefault,
    ),
    // OpenID Connect Discovery 1.0 §3: the claims Gatehouse can supply (UserInfo and ID token).
    claims_supported: [...USER_CLAIMS_SUPPORTED, ...ID_TOKEN_CLAIMS],
    acr_values_supported: [PASSWORD_ACR],
    // OIDC Core §3.1.2.1 ui_locales (OpenID Connect Discovery 1.0 §3): the languages the pages
    // are offered in (setting `languages`, src/core/browser/page-language.ts).
    ui_locales_supported: [...offeredLanguages(settings)],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    // RFC 9101 §10.5 (and OpenID Connect Discovery 1.0 §3): signed request objects by value, at
    // the authorization endpoint and the PAR endpoint; request_uri only as a pushed request's URN.
    request_parameter_supported: true,
    request_object_signing_alg_values_supported: [...REQUEST_OBJECT_SIGNING_ALGS],
    require_signed_request_object: settings.requireSignedRequestObject,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
    // OpenID Connect Back-Channel Logout 1.0 §2.1: logout tokens carry sid (and sub).
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    // OpenID Connect Front-Channel Logout 1.0 is not implemented.
    frontchannel_logout_supported: false,
    // draft-ietf-oauth-client-id-metadata-document §5: an https client_id URL names the client's metadata document.
    ...(settings.clientMetadataDocuments.enabled ? { client_id_metadata_document_supported: true } : {}),
  };
}
