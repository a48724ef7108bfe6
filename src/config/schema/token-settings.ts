/**
 * Settings of the tokens: signing algorithms, the ID token defaults, and the lifetimes of codes,
 * tokens, sessions, interactions, pushed authorization requests and new signing keys'
 * publication; and whether authorization requests must be pushed (RFC 9126). Composed into the
 * config file schema by src/config/settings-schema.ts.
 */
import { Type } from '@sinclair/typebox';
import { int, oneOf, setting } from './setting-node.js';

export const SIGNING_ALGS = ['ES256', 'EdDSA'] as const;
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
  id_token_claims_default: setting(Type.Boolean(), {
    setting: 'idTokenClaimsDefault',
    default: true,
    doc: 'claims granted by scope also in the ID token',
    defaultDoc: '`true` (see "OpenID Connect")',
  }),
  // RFC 6749 §4.1.2: a maximum authorization code lifetime of 10 minutes is RECOMMENDED.
  code_ttl_seconds: setting(int(1, 600), {
    setting: 'codeTtlSeconds',
    default: 60,
    unit: ' (seconds; RFC 6749 §4.1.2 recommends at most 10 minutes)',
    doc: 'authorization code lifetime (s)',
  }),
  access_token_ttl_seconds: setting(int(1, 7 * 86400), {
    setting: 'accessTokenTtlSeconds',
    default: 3600,
    unit: ' (seconds)',
    doc: 'access token lifetime (s)',
  }),
  session_ttl_seconds: setting(int(1, 366 * 86400), {
    setting: 'sessionTtlSeconds',
    default: 8 * 3600,
    unit: ' (seconds)',
    doc: 'single sign-on session lifetime (s)',
  }),
  device_cookie_ttl_seconds: setting(int(1, 2 * 366 * 86400), {
    setting: 'deviceCookieTtlSeconds',
    default: 180 * 86400,
    unit: ' (seconds)',
    doc: 'lifetime of the device cookie set at sign-in (s)',
    defaultDoc: '`15552000` (180 days; see "Brute-force limits")',
  }),
  interaction_ttl_seconds: setting(int(30, 86400), {
    setting: 'interactionTtlSeconds',
    default: 600,
    unit: ' (seconds)',
    doc: 'time to sign in and consent (s)',
  }),
  // RFC 9126 §2.2: "typically relatively short (e.g., between 5 and 600 seconds)".
  par_request_uri_ttl_seconds: setting(int(5, 600), {
    setting: 'parRequestUriTtlSeconds',
    default: 60,
    unit: ' (seconds; RFC 9126 §2.2 suggests 5 to 600)',
    doc: 'lifetime of a pushed authorization request_uri (s)',
  }),
  // RFC 9126 §5 (published in discovery) and §4: every client must push its authorization requests.
  require_pushed_authorization_requests: setting(Type.Boolean(), {
    setting: 'requirePushedAuthorizationRequests',
    default: false,
    doc: 'authorization requests only through the PAR endpoint, for every client ("High-security clients")',
  }),
  refresh_token_idle_ttl_seconds: setting(int(60, 3660 * 86400), {
    setting: 'refreshTokenIdleTtlSeconds',
    default: 14 * 24 * 3600,
    unit: ' (seconds)',
    doc: 'an unused refresh token expires after (s)',
  }),
  refresh_token_absolute_ttl_seconds: setting(int(60, 3660 * 86400), {
    setting: 'refreshTokenAbsoluteTtlSeconds',
    default: 90 * 24 * 3600,
    unit: ' (seconds)',
    doc: 'a refresh token family ends after (s)',
  }),
  refresh_token_grace_seconds: setting(int(0, 300), {
    setting: 'refreshTokenGraceSeconds',
    default: 10,
    unit: ' (seconds; 0 disables the retry window)',
    doc: 'a just-rotated refresh token may be retried within (s; `0`: never)',
  }),
  // Twice the JWKS max-age (300 s); also jose's default JWKS cache age (createRemoteJWKSet, 10 min).
  key_activation_delay_seconds: setting(int(0, 30 * 86400), {
    setting: 'keyActivationDelaySeconds',
    default: 600,
    unit: ' (seconds)',
    doc: '`keys rotate`: a new key is published this long before it signs (s)',
  }),
};
