/**
 * The client credentials grant, RFC 6749 §4.4: a confidential client acting on its own behalf.
 * No refresh token (§4.4.3), and only scopes registered for the client; the OpenID scopes are
 * about a user, so they have no meaning here.
 */
import type { Client } from '../../../store/store.js';
import type { ProviderContext } from '../../context.js';
import { InvalidScope, UnauthorizedClient } from '../../errors.js';
import type { Params } from '../../params.js';
import { audienceFor, requestedResources } from '../../resources/resource-indicators.js';
import { allowedScope, parseScope } from '../../scope.js';
import type { GrantHandler, TokenBinding, TokenResponse } from '../grant-handler.js';
import { issueTokens, type IssueTokensDeps } from '../issue-tokens.js';

const USER_SCOPES = new Set(['openid', 'offline_access']);

/** What the client credentials grant uses: the registered resources, and issuing the access token. */
export type ClientCredentialsGrantDeps = IssueTokensDeps & Pick<ProviderContext, 'resources' | 'now'>;

export const clientCredentialsGrant: GrantHandler<ClientCredentialsGrantDeps> = {
  grantType: 'client_credentials',
  // RFC 6749 §4.4.2 and RFC 8707 §2.2.
  allowedParams: ['scope', 'resource'],
  repeatableParams: ['resource'],

  async handle(
    params: Params,
    client: Client,
    context: ClientCredentialsGrantDeps,
    binding: TokenBinding,
  ): Promise<TokenResponse> {
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if (client.tokenEndpointAuthMethod === 'none')
      throw new UnauthorizedClient('public clients cannot use client_credentials');
    const requested = parseScope(params.get('scope'));
    const userScope = requested.find((scope) => USER_SCOPES.has(scope));
    if (userScope !== undefined)
      throw new InvalidScope(`scope ${userScope} needs a user and is not available with client_credentials`);
    const registered = parseScope(client.scope).filter((scope) => !USER_SCOPES.has(scope));
    const scope = allowedScope(requested, registered);
    const resources = await requestedResources(params, context.resources);
    return issueTokens(
      {
        client,
        userId: null,
        scope,
        audience: audienceFor(resources, context.settings.issuer),
        grantId: null,
        flowId: null,
        authTime: null,
        nonce: null,
        sid: null,
        refreshToken: null,
        grantType: 'client_credentials',
        dpopJkt: binding.dpopJkt,
      },
      context,
      context.now(),
    );
  },
};
