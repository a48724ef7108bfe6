/**
 * The client metadata Gatehouse understands and the shape it has after validation: names and
 * types only, with no validation logic, so the config layer (src/config/client-fixture.ts) can
 * derive its fixture type from them without importing the validator, which reads the grant
 * registry (and so the token endpoint's context and the settings: an import cycle).
 */
import type { JwkSet, TokenEndpointAuthMethod } from '../../store/store.js';
import type { SubjectType } from '../users/subject-identifiers.js';
/**
 * The fields besides client_id that validation always yields, defaulted when absent (so every
 * config-file fixture lists them, src/config/client-fixture.ts).
 */
export const ALWAYS_VALIDATED_FIELDS = [
  'redirect_uris',
  'grant_types',
  'response_types',
  'token_endpoint_auth_method',
  'scope',
  'require_pkce',
] as const;

/**
 * The metadata names Gatehouse understands (RFC 7591 §2, OpenID Connect Dynamic Client
 * Registration §2 `id_token_signed_response_alg`, plus `require_pkce`).
 */
export const CLIENT_METADATA_FIELDS = [
  'client_id',
  'client_secret',
  'client_name',
  ...ALWAYS_VALIDATED_FIELDS,
  'id_token_signed_response_alg',
  // Gatehouse: the claims granted by scope also in the ID token (OIDC Core §5.4).
  'id_token_claims',
  // OpenID Connect Dynamic Client Registration §2 and Core §8.
  'subject_type',
  // OpenID Connect RP-Initiated Logout 1.0 §3.1 and Back-Channel Logout 1.0 §2.2.
  'post_logout_redirect_uris',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  // Gatehouse: the resources a client may exchange a user's token for (RFC 8693 policy).
  'token_exchange_resources',
  // RFC 9449 §5.2.
  'dpop_bound_access_tokens',
  // RFC 7591 §2 and OpenID Connect Dynamic Client Registration §2: keys for RFC 7523 §2.2 client authentication.
  'jwks',
  'jwks_uri',
  'token_endpoint_auth_signing_alg',
  // RFC 9126 §6.
  'require_pushed_authorization_requests',
  // RFC 9101 §10.5 (and OpenID Connect Dynamic Client Registration §2): signed request objects.
  'request_object_signing_alg',
  'require_signed_request_object',
  // Gatehouse: the security profile, `fapi2` for the FAPI 2.0 Security Profile (src/core/profile/).
  'profile',
] as const;

/**
 * OpenID Connect Dynamic Client Registration §2: the algorithms a client may ask for its ID
 * tokens. Left unset, a client gets the server's id_token_signed_response_alg_default (RS256,
 * the default §2 names).
 */
export const ID_TOKEN_SIGNING_ALGS = ['ES256', 'RS256'] as const;

export const SUPPORTED_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'none',
];

/**
 * RFC 7523 §2.2 / OpenID Connect Core §9: the JWS algorithms of client assertions, per method.
 * private_key_jwt: asymmetric only (an HMAC key would be the public key, RFC 8725 §2.1);
 * client_secret_jwt: HMAC with the client secret. `none` never.
 */
export const ASSERTION_SIGNING_ALGS = {
  private_key_jwt: ['RS256', 'PS256', 'ES256', 'EdDSA'],
  client_secret_jwt: ['HS256'],
} as const satisfies Partial<Record<TokenEndpointAuthMethod, readonly string[]>>;

/** The methods that authenticate with a JWT assertion (RFC 7523 §2.2). */
export type AssertionAuthMethod = keyof typeof ASSERTION_SIGNING_ALGS;

/**
 * RFC 9101 §6.1 / §10.1: the JWS algorithms of signed request objects, verified with the
 * client's public keys (`jwks` or `jwks_uri`): asymmetric only, never `none` (RFC 8725 §2.1).
 * Discovery's `request_object_signing_alg_values_supported`.
 */
export const REQUEST_OBJECT_SIGNING_ALGS: readonly string[] = ASSERTION_SIGNING_ALGS.private_key_jwt;

/** Discovery's `token_endpoint_auth_signing_alg_values_supported` (RFC 8414 §2). */
export const TOKEN_ENDPOINT_AUTH_SIGNING_ALGS: readonly string[] = [
  ...ASSERTION_SIGNING_ALGS.private_key_jwt,
  ...ASSERTION_SIGNING_ALGS.client_secret_jwt,
];
export const DEFAULT_CLIENT_SCOPE = 'openid profile email offline_access';
export const DEFAULT_GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;

/** Client metadata after validation, with every default applied (RFC 7591 names). */
export interface ValidatedClientMetadata {
  client_id: string | undefined;
  client_secret: string | undefined;
  client_name: string | undefined;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  scope: string;
  require_pkce: boolean;
  /** Undefined: the server's id_token_signed_response_alg_default (RS256). */
  id_token_signed_response_alg: (typeof ID_TOKEN_SIGNING_ALGS)[number] | undefined;
  /** Undefined: the server's id_token_claims_default. */
  id_token_claims: boolean | undefined;
  /** OIDC Core §8 (default `public`). */
  subject_type: SubjectType;
  post_logout_redirect_uris: string[];
  backchannel_logout_uri: string | undefined;
  backchannel_logout_session_required: boolean;
  /** RFC 8693 policy: empty unless the client has the token exchange grant. */
  token_exchange_resources: string[];
  /** RFC 9449 §5.2 (default false). */
  dpop_bound_access_tokens: boolean;
  /** RFC 7591 §2: public keys only; never with jwks_uri. */
  jwks: JwkSet | undefined;
  jwks_uri: string | undefined;
  /** One of ASSERTION_SIGNING_ALGS for the client's method; undefined: any of them. */
  token_endpoint_auth_signing_alg: string | undefined;
  /** RFC 9126 §6 (default false): authorization requests only through the PAR endpoint. */
  require_pushed_authorization_requests: boolean;
  /** RFC 9101 §10.5: one of REQUEST_OBJECT_SIGNING_ALGS; undefined: any of them. */
  request_object_signing_alg: string | undefined;
  /** RFC 9101 §10.5 (default false): authorization requests only as signed request objects. */
  require_signed_request_object: boolean;
  /** `fapi2`: held to the FAPI 2.0 Security Profile; undefined: the server's profile. */
  profile: 'fapi2' | undefined;
}
