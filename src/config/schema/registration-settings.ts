/**
 * Settings of dynamic client registration (RFC 7591, RFC 7592): whether clients may register
 * themselves at POST /register, and the rails that keep open registration safe
 * (src/core/registration/registration-policy.ts). Composed into the config file schema by
 * src/config/settings-schema.ts.
 */
import { Type } from '@sinclair/typebox';
import { intSetting, oneOf, secondsSetting, setting } from './setting-node.js';

export const REGISTRATION_MODES = ['off', 'open', 'token'] as const;

/** RFC 6749 §3.3 scope-token; RFC 8707 §2 resource: an absolute URI. */
const scopeList = () => Type.Array(Type.String({ minLength: 1, pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' }));
const uriList = () => Type.Array(Type.String({ minLength: 1, format: 'uri' }));

export const REGISTRATION_SETTINGS = {
  registration: Type.Optional(
    Type.Object(
      {
        // RFC 7591 §3: `open` lets anyone register (what MCP hosts need); `token` requires an
        // initial access token (`gatehouse registration-tokens create`).
        mode: setting(oneOf(REGISTRATION_MODES), {
          setting: 'registration.mode',
          default: 'off',
          doc: 'dynamic client registration (RFC 7591) at /register: `off`, `open` (anyone), or `token` (an initial access token)',
        }),
        allowed_scopes: setting(scopeList(), {
          setting: 'registration.allowedScopes',
          default: ['openid', 'profile', 'email', 'offline_access'],
          valuesDoc: 'a list of scope tokens',
          defaultDoc: '`[openid, profile, email, offline_access]`',
          doc: 'the only scopes a self-registered client may ask for',
        }),
        allowed_resources: setting(uriList(), {
          setting: 'registration.allowedResources',
          default: [],
          valuesDoc: 'a list of resource identifiers',
          defaultDoc: '`[]` (none)',
          doc: 'the only protected resources (RFC 8707) a self-registered client may get tokens for',
        }),
        max_redirect_uris: intSetting(
          'registration.maxRedirectUris',
          [1, 100],
          5,
          'redirect URIs a self-registered client may list',
          { unit: ' (redirect URIs)' },
        ),
        abandoned_after_seconds: secondsSetting(
          'registration.abandonedAfterSeconds',
          [0, 10 * 365 * 86400],
          30 * 86400,
          'a self-registered client unused this long is deleted by the cleanup (s; 0: never)',
        ),
      },
      { additionalProperties: false },
    ),
  ),
};
