/**
 * Settings of the tokens: signing algorithms, the ID token defaults, and the lifetimes of codes,
 * tokens, sessions, interactions, pushed authorization requests and new signing keys'
 * publication; and whether authorization requests must be pushed (RFC 9126). Composed into the
 * config file schema by src/config/settings-schema.ts.
 */
import { boolSetting, int, oneOf, secondsSetting, setting } from './setting-node.js';

export const SIGNING_ALGS = ['ES256', 'EdDSA'] as const;
/** The security profiles (src/core/profile/fapi2-profile.ts): OAuth 2.1 with RFC 9700, or FAPI 2.0 on top. */
export const PROFILES = ['oauth2.1', 'fapi2'] as const;
/** FAPI 2.0 Security Profile §5.3.2.1: authorization codes live at most 60 seconds. */
export const FAPI2_MAX_CODE_TTL_SECONDS = 60;
export const ID_TOKEN_DEFAULT_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;

export const TOKEN_SETTINGS = {
  signing_alg: setting(oneOf(SIGNING_ALGS), {
    setting: 'signingAlg',
    default: 'ES256',
    doc: 'signing algorithm of new keys (access tokens)',
  }),
  id_token_signed_response_alg_default: setting(oneOf(ID_TOKEN_DEFAULT_ALGS), {
    setting: 'idTokenSignedResponseAlgDefault',
    default: 'RS256',
    doc: 'ID token algorithm of a client that registers none',
    defaultDoc: '`RS256` (see "OpenID Connect")',
    // OpenID Connect Dynamic Client Registration §2: the ID token algorithm of clients that name none.
    check: (alg, config) =>
      alg === 'EdDSA' && (config.signing_alg ?? 'ES256') !== 'EdDSA'
        ? 'can be EdDSA only when signing_alg is EdDSA'
        : undefined,
  }),
  id_token_claims_default: boolSetting('idTokenClaimsDefault', true, 'claims granted by scope also in the ID token', {
    defaultDoc: '`true` (see "OpenID Connect")',
  }),
  // RFC 6749 §4.1.2: a maximum authorization code lifetime of 10 minutes is RECOMMENDED.
  code_ttl_seconds: secondsSetting('codeTtlSeconds', [1, 600], 60, 'authorization code lifetime (s)', {
    unit: ' (seconds; RFC 6749 §4.1.2 recommends at most 10 minutes)',
  }),
  // RFC 7523 §3 item 4: the server MAY reject JWTs with an exp unreasonably far in the future.
  client_assertion_max_lifetime_seconds: secondsSetting(
    'clientAssertionMaxLifetimeSeconds',
    [10, 3600],
    300,
    'a client assertion (private_key_jwt, client_secret_jwt) may expire at most this far ahead (s)',
  ),
  access_token_ttl_seconds: secondsSetting('accessTokenTtlSeconds', [1, 7 * 86400], 3600, 'access token lifetime (s)'),
  session_ttl_seconds: secondsSetting(
    'sessionTtlSeconds',
    [1, 366 * 86400],
    8 * 3600,
    'single sign-on session lifetime (s)',
  ),
  device_cookie_ttl_seconds: secondsSetting(
    'deviceCookieTtlSeconds',
    [1, 2 * 366 * 86400],
    180 * 86400,
    'lifetime of the device cookie set at sign-in (s)',
    { defaultDoc: '`15552000` (180 days; see "Brute-force limits")' },
  ),
  interaction_ttl_seconds: secondsSetting('interactionTtlSeconds', [30, 86400], 600, 'time to sign in and consent (s)'),
  // RFC 8628 §3.2: expires_in of the device code; §5.1 wants it short, as the user code is short.
  device_code_ttl_seconds: secondsSetting(
    'deviceCodeTtlSeconds',
    [60, 3600],
    600,
    'device code and user code lifetime (s; RFC 8628)',
  ),
  // RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
  device_code_interval_seconds: secondsSetting(
    'deviceCodeIntervalSeconds',
    [1, 60],
    5,
    'seconds a device waits between polls (RFC 8628 `interval`)',
  ),
  // RFC 9126 §2.2: "typically relatively short (e.g., between 5 and 600 seconds)".
  par_request_uri_ttl_seconds: secondsSetting(
    'parRequestUriTtlSeconds',
    [5, 600],
    60,
    'lifetime of a pushed authorization request_uri (s)',
    { unit: ' (seconds; RFC 9126 §2.2 suggests 5 to 600)' },
  ),
  // FAPI 2.0 Security Profile as one switch: every client is held to its rules (a client can
  // choose it for itself with the client metadata `profile`).
  profile: setting(oneOf(PROFILES), {
    setting: 'profile',
    default: 'oauth2.1',
    doc: '`fapi2`: every client held to the FAPI 2.0 Security Profile (see "FAPI 2.0")',
    check: (value, config) => {
      if (value !== 'fapi2') return undefined;
      if (Number(config['code_ttl_seconds'] ?? 60) > FAPI2_MAX_CODE_TTL_SECONDS)
        return `fapi2 needs code_ttl_seconds of at most ${FAPI2_MAX_CODE_TTL_SECONDS} (FAPI 2.0 Security Profile §5.3.2.1); set code_ttl_seconds: ${FAPI2_MAX_CODE_TTL_SECONDS}`;
      return undefined;
    },
  }),
  // RFC 9126 §5 (published in discovery) and §4: every client must push its authorization requests.
  require_pushed_authorization_requests: boolSetting(
    'requirePushedAuthorizationRequests',
    false,
    'authorization requests only through the PAR endpoint, for every client ("High-security clients")',
  ),
  // RFC 9101 §10.5 (published in discovery): every client must send signed request objects.
  require_signed_request_object: boolSetting(
    'requireSignedRequestObject',
    false,
    'authorization requests only as signed request objects (JAR), for every client ("High-security clients")',
  ),
  // RFC 9101 §6.3: request objects are short-lived, like client assertions (RFC 7523 §3 item 4).
  request_object_max_lifetime_seconds: secondsSetting(
    'requestObjectMaxLifetimeSeconds',
    [10, 3600],
    300,
    'a signed request object (JAR) may expire at most this far ahead (s)',
  ),
  refresh_token_idle_ttl_seconds: secondsSetting(
    'refreshTokenIdleTtlSeconds',
    [60, 3660 * 86400],
    14 * 24 * 3600,
    'an unused refresh token expires after (s)',
  ),
  refresh_token_absolute_ttl_seconds: secondsSetting(
    'refreshTokenAbsoluteTtlSeconds',
    [60, 3660 * 86400],
    90 * 24 * 3600,
    'a refresh token family ends after (s)',
  ),
  refresh_token_grace_seconds: setting(int(0, 300), {
    setting: 'refreshTokenGraceSeconds',
    default: 10,
    doc: 'a just-rotated refresh token may be retried within (s; `0`: never)',
    unit: ' (seconds; 0 disables the retry window)',
    // FAPI 2.0 Security Profile §5.3.2.1: rotation only where a retry with the previous refresh token succeeds.
    check: (value, config) =>
      value === 0 && config['profile'] === 'fapi2'
        ? 'must be above 0 with profile: fapi2 (FAPI 2.0 Security Profile §5.3.2.1: rotated refresh tokens need a retry window)'
        : undefined,
  }),
  // Twice the JWKS max-age (300 s); also jose's default JWKS cache age (createRemoteJWKSet, 10 min).
  key_activation_delay_seconds: secondsSetting(
    'keyActivationDelaySeconds',
    [0, 30 * 86400],
    600,
    '`keys rotate`: a new key is published this long before it signs (s)',
  ),
};
