/**
 * A service gets an access token for an API with its own credentials: the client credentials
 * grant (RFC 6749 §4.4), for the API named by `resource` (RFC 8707), with openid-client.
 */
import * as client from 'openid-client';

export async function serviceToken(options: {
  issuer: string;
  clientId: string;
  clientSecret: string;
  resource: string; // the API, e.g. https://reports.example.com/
  scope: string;
}): Promise<string> {
  const config = await client.discovery(
    new URL(options.issuer),
    options.clientId,
    undefined,
    client.ClientSecretBasic(options.clientSecret),
    { execute: options.issuer.startsWith('http://') ? [client.allowInsecureRequests] : [] },
  );
  const tokens = await client.clientCredentialsGrant(config, { scope: options.scope, resource: options.resource });
  // Reuse the token until shortly before tokens.expires_in runs out; then ask again (there is no refresh token).
  return tokens.access_token;
}
