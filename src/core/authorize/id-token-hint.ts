/**
 * OpenID Connect Core 1.0 §3.1.2.1 `id_token_hint`: "ID Token previously issued by the
 * Authorization Server being passed as a hint about the End-User's current or past
 * authenticated session with the Client."
 *
 * Accepted: an ID token this server signed (any key of the ring, ES256, RS256 or EdDSA), with
 * our issuer, issued to the requesting client, with a `sub`. An expired one is fine: §3.1.2.1
 * expects exactly that ("the RP ... may send an ID Token that has expired"). Not an ID token:
 * an access token (`typ: at+jwt`, RFC 9068 §2.1) or any other explicitly typed JWT. Anything
 * else is refused with `invalid_request`.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { ProviderContext } from '../context.js';
import { InvalidRequest } from '../errors.js';

export async function verifyIdTokenHint(
  token: string,
  clientId: string,
  context: Pick<ProviderContext, 'keys' | 'settings'>,
): Promise<{ sub: string }> {
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(token).typ;
  } catch {
    throw new InvalidRequest('id_token_hint is not a JWT');
  }
  if (typ !== undefined && (typeof typ !== 'string' || typ.toLowerCase() !== 'jwt')) {
    throw new InvalidRequest('id_token_hint is not an ID token');
  }
  let payload;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet(context.keys.jwks()), {
      issuer: context.settings.issuer,
      audience: clientId,
      algorithms: ['ES256', 'RS256', 'EdDSA'],
      // An expired hint is still a valid hint (OIDC Core 3.1.2.1).
      currentDate: new Date(0),
    }));
  } catch {
    throw new InvalidRequest('id_token_hint is not an ID token issued by this server to this client');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new InvalidRequest('id_token_hint has no sub');
  return { sub: payload.sub };
}
