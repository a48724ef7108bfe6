/**
 * The grant types the token endpoint serves, one handler each (./*-grant.ts), keyed by
 * `grant_type`. The one list of supported grant types: discovery's `grant_types_supported` and
 * client registration's `grant_types` check read it from here.
 *
 * RFC 9700 §2.4 and §2.1.2: no password grant, no implicit grant.
 */
import type { GrantHandler } from '../grant-handler.js';
import { authorizationCodeGrant, type AuthorizationCodeGrantDeps } from './authorization-code-grant.js';
import { clientCredentialsGrant, type ClientCredentialsGrantDeps } from './client-credentials-grant.js';
import { refreshTokenGrant, type RefreshTokenGrantDeps } from './refresh-token-grant.js';
import { tokenExchangeGrant, type TokenExchangeGrantDeps } from './token-exchange-grant.js';

/** What the grants together use: the token endpoint passes it to whichever grant it calls. */
export type GrantDeps = AuthorizationCodeGrantDeps &
  RefreshTokenGrantDeps &
  ClientCredentialsGrantDeps &
  TokenExchangeGrantDeps;

export const GRANT_HANDLERS: ReadonlyMap<string, GrantHandler<GrantDeps>> = new Map<string, GrantHandler<GrantDeps>>(
  [authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant, tokenExchangeGrant].map((handler) => [
    handler.grantType,
    handler,
  ]),
);

/** The keys of GRANT_HANDLERS, in their order. */
export const SUPPORTED_GRANT_TYPES: readonly string[] = [...GRANT_HANDLERS.keys()];
