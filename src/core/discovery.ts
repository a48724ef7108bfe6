/**
 * Authorization server metadata, RFC 8414 §2 (also served as OpenID Connect Discovery 1.0 §3).
 * Every value is derived from what the running server actually does.
 */
import type { GatehouseSettings } from '../config/settings.js';
import { ENDPOINT_PATHS } from './context.js';
import { GRANT_HANDLERS } from './token/token-endpoint.js';

export function serverMetadata(settings: GatehouseSettings): Record<string, unknown> {
  const { issuer } = settings;
  return {
    issuer,
    authorization_endpoint: issuer + ENDPOINT_PATHS.authorization,
    token_endpoint: issuer + ENDPOINT_PATHS.token,
    jwks_uri: issuer + ENDPOINT_PATHS.jwks,
    revocation_endpoint: issuer + ENDPOINT_PATHS.revocation,
    introspection_endpoint: issuer + ENDPOINT_PATHS.introspection,
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'form_post'],
    grant_types_supported: [...GRANT_HANDLERS.keys()],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    // RFC 9207 §3: every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [settings.signingAlg],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
  };
}
