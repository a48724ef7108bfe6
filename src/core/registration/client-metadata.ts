/**
 * Client metadata validation: RFC 7591 client metadata (the same names in the config file, the
 * CLI and any future registration endpoint), checked against the rules of OAuth 2.1 / the OAuth
 * 2.0 Security BCP (RFC 9700) at registration time, so that the protocol endpoints can trust
 * whatever is in the store. ./client-registration.ts turns the result into a stored `Client`.
 */
import type { TokenEndpointAuthMethod } from '../../store/store.js';
import { SUBJECT_TYPES, sectorOfRedirectUri, type SubjectType } from '../users/subject-identifiers.js';
import type { OutboundPolicy } from '../outbound/safe-fetch.js';
import { validateClientKeyMetadata, validateOutboundUri } from './client-key-metadata.js';
import { ClientMetadataError } from '../errors.js';
import { SUPPORTED_GRANT_TYPES } from '../token/grants/grant-registry.js';
import { DEVICE_CODE_GRANT_TYPE } from '../device/device-authorization-endpoint.js';
import { validateTokenExchangeResources } from './token-exchange-metadata.js';
import { validateRequestObjectMetadata } from './request-object-metadata.js';
import { validateProfileMetadata } from './profile-metadata.js';

export * from './client-metadata-fields.js';
import {
  ID_TOKEN_SIGNING_ALGS,
  SUPPORTED_AUTH_METHODS,
  DEFAULT_CLIENT_SCOPE,
  DEFAULT_GRANT_TYPES,
  type ValidatedClientMetadata,
} from './client-metadata-fields.js';

// RFC 6749 Appendix A: client-id, client-secret = *VSCHAR (%x20-7E).
const VSCHAR = /^[\x20-\x7E]*$/;
// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const MAX_ID_LENGTH = 255;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
};

/** A reader of an optional metadata field of one JSON type (absent or null: undefined). */
function optionalOf<T extends string | boolean>(type: 'string' | 'boolean') {
  return (metadata: Record<string, unknown>, field: string): T | undefined => {
    const value = metadata[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== type)
      throw new ClientMetadataError(field, `${field} must be a ${type}, not ${describe(value)}`);
    return value as T;
  };
}

const optionalString = optionalOf<string>('string');
const optionalBoolean = optionalOf<boolean>('boolean');

function optionalStringArray(metadata: Record<string, unknown>, field: string): string[] | undefined {
  const value = metadata[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value))
    throw new ClientMetadataError(field, `${field} must be an array of strings, not ${describe(value)}`);
  return value.map((item, index) => {
    if (typeof item !== 'string') {
      throw new ClientMetadataError(`${field}[${index}]`, `${field}[${index}] must be a string, not ${describe(item)}`);
    }
    return item;
  });
}

const unique = (values: string[]): string[] => [...new Set(values)];

/**
 * Validates client metadata and applies defaults, without touching secrets. Unknown metadata
 * names are ignored, as RFC 7591 §2 requires of a registration endpoint (the config file loader
 * refuses them separately, to catch typos).
 */
export function validateClientMetadata(input: unknown, outbound: OutboundPolicy = {}): ValidatedClientMetadata {
  if (!isRecord(input)) throw new ClientMetadataError('', `client metadata must be an object, not ${describe(input)}`);

  // client_id: chosen by the caller (config fixtures) or generated later.
  const clientId = optionalString(input, 'client_id');
  if (clientId !== undefined) {
    if (clientId.length === 0 || clientId.length > MAX_ID_LENGTH) {
      throw new ClientMetadataError('client_id', `client_id must be 1 to ${MAX_ID_LENGTH} characters long`);
    }
    if (!VSCHAR.test(clientId) || clientId.trim() !== clientId) {
      throw new ClientMetadataError(
        'client_id',
        'client_id must consist of printable ASCII characters (RFC 6749 Appendix A.1) without leading or trailing spaces',
      );
    }
  }

  const clientName = optionalString(input, 'client_name');
  if (clientName !== undefined && (clientName.trim().length === 0 || clientName.length > 200)) {
    throw new ClientMetadataError('client_name', 'client_name must be a non-empty string of at most 200 characters');
  }

  // RFC 7591 §2: token_endpoint_auth_method defaults to client_secret_basic.
  const authMethodRaw = optionalString(input, 'token_endpoint_auth_method') ?? 'client_secret_basic';
  if (!(SUPPORTED_AUTH_METHODS as readonly string[]).includes(authMethodRaw)) {
    throw new ClientMetadataError(
      'token_endpoint_auth_method',
      `token_endpoint_auth_method "${authMethodRaw}" is not supported; use one of ${SUPPORTED_AUTH_METHODS.join(', ')}`,
    );
  }
  const authMethod = authMethodRaw as TokenEndpointAuthMethod;
  const isPublic = authMethod === 'none';

  // Secret: RFC 6749 §2.1 - a public client cannot hold credentials; §A.2 client-secret = *VSCHAR.
  const clientSecret = optionalString(input, 'client_secret');
  if (clientSecret !== undefined) {
    if (authMethod === 'private_key_jwt') {
      throw new ClientMetadataError(
        'client_secret',
        'a private_key_jwt client authenticates with its key (RFC 7523 §2.2) and must not have a client_secret',
      );
    }
    if (isPublic) {
      throw new ClientMetadataError(
        'client_secret',
        'a public client (token_endpoint_auth_method "none") must not have a client_secret (RFC 6749 §2.1)',
      );
    }
    if (clientSecret.length === 0 || !VSCHAR.test(clientSecret)) {
      throw new ClientMetadataError(
        'client_secret',
        'client_secret must be a non-empty string of printable ASCII characters (RFC 6749 Appendix A.2)',
      );
    }
  }

  // Grant types: RFC 7591 §2 defaults to authorization_code; refresh tokens are useful with it too.
  const grantTypesRaw = optionalStringArray(input, 'grant_types');
  const grantTypes = unique(grantTypesRaw ?? [...DEFAULT_GRANT_TYPES]);
  if (grantTypes.length === 0)
    throw new ClientMetadataError('grant_types', 'grant_types must list at least one grant type');
  (grantTypesRaw ?? []).forEach((grantType, index) => {
    const field = `grant_types[${index}]`;
    if (grantType === 'implicit') {
      throw new ClientMetadataError(
        field,
        'the implicit grant is not supported: RFC 9700 §2.1.2 (OAuth 2.0 Security BCP) says clients SHOULD NOT use it; use authorization_code with PKCE',
      );
    }
    if (grantType === 'password') {
      throw new ClientMetadataError(
        field,
        'the resource owner password credentials grant is not supported: RFC 9700 §2.4 says it MUST NOT be used; use authorization_code with PKCE',
      );
    }
    if (!SUPPORTED_GRANT_TYPES.includes(grantType)) {
      throw new ClientMetadataError(
        field,
        `grant type "${grantType}" is not supported; use ${SUPPORTED_GRANT_TYPES.join(', ')}`,
      );
    }
  });
  const usesCode = grantTypes.includes('authorization_code');
  if (grantTypes.includes('client_credentials') && isPublic) {
    throw new ClientMetadataError(
      `grant_types[${(grantTypesRaw ?? []).indexOf('client_credentials')}]`,
      'client_credentials requires a confidential client: RFC 6749 §4.4 says it MUST only be used by confidential clients',
    );
  }
  // RFC 8628 §3.5: the device grant issues refresh tokens as the code grant does.
  if (grantTypes.includes('refresh_token') && !usesCode && !grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) {
    throw new ClientMetadataError(
      'grant_types',
      'refresh_token is only issued with authorization_code or the device code grant; a client_credentials client gets no refresh token (RFC 6749 §4.4.3)',
    );
  }

  // Response types: RFC 7591 §2.1 - authorization_code goes with "code"; nothing else is supported.
  const responseTypesRaw = optionalStringArray(input, 'response_types');
  const responseTypes = unique(responseTypesRaw ?? (usesCode ? ['code'] : []));
  (responseTypesRaw ?? []).forEach((responseType, index) => {
    const field = `response_types[${index}]`;
    if (responseType === 'token' || responseType.split(' ').includes('token')) {
      throw new ClientMetadataError(
        field,
        'response type "token" (the implicit grant) is not supported: RFC 9700 §2.1.2 says clients SHOULD NOT use it; use "code"',
      );
    }
    if (responseType !== 'code') {
      throw new ClientMetadataError(
        field,
        `response type "${responseType}" is not supported; the only response type is "code"`,
      );
    }
  });
  codeGrantOnly(
    usesCode,
    'response_types',
    responseTypes.includes('code'),
    responseTypes,
    'response_types must be ["code"] for a client using the authorization_code grant (RFC 7591 §2.1)',
    'response_types must be empty or absent for a client without the authorization_code grant (RFC 7591 §2.1: "code" goes with authorization_code)',
  );

  // Redirect URIs: RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1 / §4.1.
  const redirectUrisRaw = optionalStringArray(input, 'redirect_uris') ?? [];
  codeGrantOnly(
    usesCode,
    'redirect_uris',
    redirectUrisRaw.length > 0,
    redirectUrisRaw,
    'redirect_uris must list at least one redirect URI for a client using the authorization_code grant (RFC 6749 §3.1.2.2, RFC 9700 §2.1)',
    'redirect_uris are only used with the authorization_code grant; remove them or add authorization_code to grant_types',
  );
  for (const [index, uri] of redirectUrisRaw.entries()) validateRedirectUri(uri, `redirect_uris[${index}]`, isPublic);
  const redirectUris = unique(redirectUrisRaw);

  // Scope: RFC 6749 §3.3 - space-delimited scope-tokens.
  const scopeRaw = optionalString(input, 'scope') ?? DEFAULT_CLIENT_SCOPE;
  const scopeTokens = scopeRaw.split(' ').filter((token) => token.length > 0);
  if (scopeTokens.length === 0) throw new ClientMetadataError('scope', 'scope must list at least one scope');
  for (const token of scopeTokens) {
    if (!SCOPE_TOKEN.test(token)) {
      throw new ClientMetadataError(
        'scope',
        `scope token ${JSON.stringify(token)} contains a character RFC 6749 §3.3 does not allow (scope tokens are printable ASCII without space, " or \\)`,
      );
    }
  }
  const scope = unique(scopeTokens).join(' ');

  // PKCE: RFC 9700 §2.1.1 - public clients MUST use PKCE; confidential clients SHOULD.
  const requirePkceRaw = input['require_pkce'];
  if (requirePkceRaw !== undefined && requirePkceRaw !== null && typeof requirePkceRaw !== 'boolean') {
    throw new ClientMetadataError('require_pkce', `require_pkce must be a boolean, not ${describe(requirePkceRaw)}`);
  }
  const requirePkce = requirePkceRaw ?? true;
  if (!requirePkce && isPublic) {
    throw new ClientMetadataError(
      'require_pkce',
      'require_pkce cannot be false for a public client: RFC 9700 §2.1.1 says public clients MUST use PKCE',
    );
  }

  // OpenID Connect Dynamic Client Registration §2; "none" (unsigned ID tokens) is never allowed.
  const idTokenAlg = optionalString(input, 'id_token_signed_response_alg');
  if (idTokenAlg !== undefined && !(ID_TOKEN_SIGNING_ALGS as readonly string[]).includes(idTokenAlg)) {
    throw new ClientMetadataError(
      'id_token_signed_response_alg',
      `id_token_signed_response_alg "${idTokenAlg}" is not supported; use ${ID_TOKEN_SIGNING_ALGS.join(' or ')}, or leave it unset for the server's default (RS256)`,
    );
  }
  const idTokenClaims = optionalBoolean(input, 'id_token_claims');

  // RFC 9126 §6: the client's authorization requests come only through the PAR endpoint.
  const requireParRaw = input['require_pushed_authorization_requests'];
  if (requireParRaw !== undefined && requireParRaw !== null && typeof requireParRaw !== 'boolean') {
    throw new ClientMetadataError(
      'require_pushed_authorization_requests',
      `require_pushed_authorization_requests must be a boolean, not ${describe(requireParRaw)}`,
    );
  }
  if (requireParRaw === true && !usesCode) {
    throw new ClientMetadataError(
      'require_pushed_authorization_requests',
      'require_pushed_authorization_requests concerns authorization requests, so only clients using the authorization_code grant may set it (RFC 9126 §6)',
    );
  }

  const subjectType = validateSubjectType(input, redirectUris);
  const logout = validateLogoutMetadata(input, usesCode, isPublic, outbound);
  const exchangeResources = optionalStringArray(input, 'token_exchange_resources') ?? [];
  // The FAPI 2.0 Security Profile's rules (a fapi2 client), before the keys' own validation.
  const profile = validateProfileMetadata(input, {
    tokenEndpointAuthMethod: authMethod,
    hasKeys: (input['jwks'] ?? input['jwks_uri'] ?? null) !== null,
    requirePkce,
    responseTypes,
    tokenEndpointAuthSigningAlg: optionalString(input, 'token_endpoint_auth_signing_alg') ?? null,
    idTokenSignedResponseAlg: idTokenAlg ?? null,
  });
  const keys = validateClientKeyMetadata(input, authMethod, outbound, optionalString);
  const requestObjects = validateRequestObjectMetadata(
    input,
    usesCode,
    keys.jwks !== undefined || keys.jwks_uri !== undefined,
    { optionalString, optionalBoolean },
  );

  return {
    client_id: clientId,
    client_secret: clientSecret,
    client_name: clientName,
    redirect_uris: redirectUris,
    grant_types: grantTypes,
    response_types: responseTypes,
    token_endpoint_auth_method: authMethod,
    scope,
    require_pkce: requirePkce,
    id_token_signed_response_alg: idTokenAlg as ValidatedClientMetadata['id_token_signed_response_alg'],
    id_token_claims: idTokenClaims,
    subject_type: subjectType,
    ...logout,
    token_exchange_resources: validateTokenExchangeResources(exchangeResources, grantTypes, isPublic),
    ...keys,
    // RFC 9449 §5.2: every token request of this client must carry a DPoP proof (default false;
    // true for a fapi2 client, as is PAR where it has authorization requests).
    ...profile,
    require_pushed_authorization_requests: profile.require_pushed_authorization_requests && usesCode,
    ...requestObjects,
  };
}

/**
 * OpenID Connect Dynamic Client Registration §2 `subject_type` (default `public`). OIDC Core
 * §8.1: a pairwise client's sector is the host of its redirect URIs, so they must all share one
 * host; several hosts would need a `sector_identifier_uri`, which Gatehouse does not support.
 */
function validateSubjectType(input: Record<string, unknown>, redirectUris: string[]): SubjectType {
  const value = optionalString(input, 'subject_type') ?? 'public';
  if (!(SUBJECT_TYPES as readonly string[]).includes(value)) {
    throw new ClientMetadataError(
      'subject_type',
      `subject_type "${value}" is not supported; use ${SUBJECT_TYPES.join(' or ')}`,
    );
  }
  if (value === 'pairwise') {
    const sectors = [...new Set(redirectUris.map(sectorOfRedirectUri))];
    if (sectors.length > 1) {
      throw new ClientMetadataError(
        'subject_type',
        `subject_type pairwise needs redirect_uris on one host, the client's sector (OpenID Connect Core §8.1), but they name ${sectors.join(', ')}; sector_identifier_uri is not supported, so register one client per host`,
      );
    }
  }
  return value as SubjectType;
}

/**
 * OpenID Connect RP-Initiated Logout 1.0 §3.1 `post_logout_redirect_uris` (held to the same
 * rules as redirect URIs: compared exactly, https or loopback http, private-use schemes only for
 * native apps) and Back-Channel Logout 1.0 §2.2 `backchannel_logout_uri` (an absolute https URL
 * without fragment; http only on a loopback host, for development) and
 * `backchannel_logout_session_required` (default false). All of them need a browser session,
 * so only clients using the authorization code grant may register them.
 */
function validateLogoutMetadata(
  input: Record<string, unknown>,
  usesCode: boolean,
  isPublic: boolean,
  outbound: OutboundPolicy,
): Pick<
  ValidatedClientMetadata,
  'post_logout_redirect_uris' | 'backchannel_logout_uri' | 'backchannel_logout_session_required'
> {
  const postLogoutRaw = optionalStringArray(input, 'post_logout_redirect_uris') ?? [];
  if (!usesCode && postLogoutRaw.length > 0) {
    throw new ClientMetadataError(
      'post_logout_redirect_uris',
      'post_logout_redirect_uris are only used by clients that sign users in (the authorization_code grant)',
    );
  }
  for (const [index, uri] of postLogoutRaw.entries())
    validateRedirectUri(uri, `post_logout_redirect_uris[${index}]`, isPublic);

  const backchannelUri = optionalString(input, 'backchannel_logout_uri');
  if (backchannelUri !== undefined) {
    if (!usesCode) {
      throw new ClientMetadataError(
        'backchannel_logout_uri',
        'backchannel_logout_uri is only used by clients that sign users in (the authorization_code grant)',
      );
    }
    validateOutboundUri('backchannel_logout_uri', backchannelUri, outbound, 'Back-Channel Logout 1.0 §2.2');
  }

  const sessionRequiredRaw = input['backchannel_logout_session_required'];
  if (sessionRequiredRaw !== undefined && sessionRequiredRaw !== null && typeof sessionRequiredRaw !== 'boolean') {
    throw new ClientMetadataError(
      'backchannel_logout_session_required',
      `backchannel_logout_session_required must be a boolean, not ${describe(sessionRequiredRaw)}`,
    );
  }
  const sessionRequired = sessionRequiredRaw ?? false;
  if (sessionRequired && backchannelUri === undefined) {
    throw new ClientMetadataError(
      'backchannel_logout_session_required',
      'backchannel_logout_session_required needs a backchannel_logout_uri (Back-Channel Logout 1.0 §2.2)',
    );
  }
  return {
    post_logout_redirect_uris: unique(postLogoutRaw),
    backchannel_logout_uri: backchannelUri,
    backchannel_logout_session_required: sessionRequired,
  };
}

function validateRedirectUri(uri: string, field: string, isPublic: boolean): void {
  // The URI is stored and later compared exactly as registered (RFC 9700 §4.1.3), so refuse
  // anything the URL parser would silently normalise away.
  if (uri.length === 0 || !/^[\x21-\x7E]+$/.test(uri)) {
    throw new ClientMetadataError(
      field,
      `redirect URI ${JSON.stringify(uri)} must be a non-empty absolute URI without spaces or non-ASCII characters`,
    );
  }
  // RFC 6749 §3.1.2: the redirection endpoint URI MUST be an absolute URI and MUST NOT include a fragment.
  if (uri.includes('#')) {
    throw new ClientMetadataError(field, `redirect URI ${uri} must not include a fragment (RFC 6749 §3.1.2)`);
  }
  // RFC 9700 §4.1.3 (and §2.1): redirect URIs are compared by exact string matching, so a `*` is
  // never a wildcard; refusing it keeps anyone from believing a pattern was registered.
  if (uri.includes('*')) {
    throw new ClientMetadataError(
      field,
      `redirect URI ${uri} contains "*": redirect URIs are matched exactly, character for character, never as patterns (RFC 9700 §4.1.3); register each redirect URI in full`,
    );
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri)) {
    throw new ClientMetadataError(field, `redirect URI ${uri} must be an absolute URI (RFC 6749 §3.1.2)`);
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ClientMetadataError(field, `redirect URI ${uri} is not a valid absolute URI (RFC 6749 §3.1.2)`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'https' || scheme === 'http') {
    if (!/^[A-Za-z]+:\/\//.test(uri) || url.hostname === '') {
      throw new ClientMetadataError(
        field,
        `redirect URI ${uri} must have the form ${scheme}://host/path (RFC 6749 §3.1.2)`,
      );
    }
    if (url.username !== '' || url.password !== '') {
      throw new ClientMetadataError(
        field,
        `redirect URI ${uri} must not contain user information (it disguises the real host; RFC 3986 §3.2.1)`,
      );
    }
    // RFC 8252 §7.3 / RFC 9700 §2.1: plain http only for loopback redirects of native apps.
    if (scheme === 'http' && !LOOPBACK_HOSTS.has(url.hostname)) {
      throw new ClientMetadataError(
        field,
        `redirect URI ${uri} uses http on a non-loopback host; use https, or http only with localhost, 127.0.0.1 or [::1] (RFC 9700 §2.1, RFC 8252 §7.3)`,
      );
    }
    return;
  }
  // RFC 8252 §7.1: private-use URI schemes are reverse domain names (they contain a ".").
  if (scheme.includes('.')) {
    if (!isPublic) {
      throw new ClientMetadataError(
        field,
        `redirect URI ${uri} uses a private-use URI scheme, which only native apps (public clients) use (RFC 8252 §7.1); any app can claim such a scheme, so it cannot protect a confidential client's redirects`,
      );
    }
    return;
  }
  throw new ClientMetadataError(
    field,
    `redirect URI ${uri} uses the scheme "${scheme}:"; allowed are https, http on a loopback host (RFC 8252 §7.3), and for public clients a private-use scheme such as com.example.app: (RFC 8252 §7.1)`,
  );
}

/**
 * A field the authorization_code grant needs and no other grant uses: with the grant it must be
 * `given` (else `needed`), without it `values` must be empty (else `unused`).
 */
function codeGrantOnly(
  usesCode: boolean,
  field: string,
  given: boolean,
  values: readonly string[],
  needed: string,
  unused: string,
): void {
  if (usesCode && !given) throw new ClientMetadataError(field, needed);
  if (!usesCode && values.length > 0) throw new ClientMetadataError(field, unused);
}
