/**
 * The token endpoint (back channel), RFC 6749 §3.2 and §5.
 *
 * It authenticates the client, then hands the request to the handler of its grant type. Each
 * grant lives in its own file under ./grants and implements `GrantHandler`.
 */
import type { Client } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { authenticateClient } from '../client-authentication.js';
import { InvalidRequest, OAuthError, UnauthorizedClient, UnsupportedGrantType } from '../errors.js';
import type { Params } from '../params.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';

/** RFC 6749 §5.1 successful response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
}

export interface GrantHandler {
  readonly grantType: string;
  handle(params: Params, client: Client, context: ProviderContext): Promise<TokenResponse>;
}

export const GRANT_HANDLERS: ReadonlyMap<string, GrantHandler> = new Map(
  [authorizationCodeGrant].map((handler) => [handler.grantType, handler]),
);

export interface TokenRequest {
  params: Params;
  /** The Authorization header, if any. */
  authorization: string | undefined;
}

export async function handleTokenRequest(request: TokenRequest, context: ProviderContext): Promise<TokenResponse> {
  const { params } = request;
  let client: Client | undefined;
  const grantType = params.get('grant_type') ?? null;
  try {
    // RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
    params.assertNoDuplicates();
    if (grantType === null) throw new InvalidRequest('grant_type is required');
    const handler = GRANT_HANDLERS.get(grantType);
    if (!handler) throw new UnsupportedGrantType(`grant_type ${grantType} is not supported`);
    client = await authenticateClient(request.authorization, params, context.store);
    if (!client.grantTypes.includes(grantType)) {
      throw new UnauthorizedClient(`this client is not allowed to use the ${grantType} grant`);
    }
    return await handler.handle(params, client, context);
  } catch (error) {
    if (error instanceof OAuthError) {
      context.events.emit({
        type: 'token.refused',
        flowId: null,
        clientId: client?.clientId ?? null,
        grantType,
        error: error.error,
        description: error.description,
      });
    }
    throw error;
  }
}
