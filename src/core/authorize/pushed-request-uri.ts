/**
 * The request_uri of a pushed authorization request (RFC 9126 §2.2) and its one use at the
 * authorization endpoint (§4).
 *
 * A request_uri is `urn:ietf:params:oauth:request_uri:` and 256 random bits; the store keeps its
 * SHA-256 only. At the authorization endpoint it is consumed before anything else happens, and
 * the pushed parameters take the place of the request's (RFC 9101 §5, which RFC 9126 §4 builds
 * on: only the pushed parameters are used; client_id must be sent and match). The login and
 * consent that follow work on the interaction, as for any authorization request, so a
 * request_uri is needed only once.
 */
import type { ProviderContext } from '../context.js';
import { InvalidRequestUri, UnsafeAuthorizationRequest } from '../errors.js';
import { Params } from '../params.js';
import { randomToken, sha256Base64Url } from '../secrets.js';
import type { Store } from '../../store/store.js';
import { resolveClient } from './authorization-request.js';

/** RFC 9126 §2.2: the URN form of a request_uri. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

/** A new request_uri: its random part is 256 bits (RFC 9126 §2.2, RFC 6749 §10.10). */
export function newRequestUri(): string {
  return REQUEST_URI_PREFIX + randomToken(32);
}

/** What the store keeps of a request_uri. */
export function requestUriHash(requestUri: string): string {
  return sha256Base64Url(requestUri);
}

/** What using a pushed request uses: the client named by client_id, and the pushed requests. */
export type PushedRequestUseDeps = Pick<ProviderContext, 'clients' | 'now'> & { store: Pick<Store, 'pushedRequests'> };

/**
 * The pushed parameters an authorization request refers to by its request_uri, consumed; or
 * undefined when the request has no request_uri of Gatehouse's (the request's own parameters
 * apply, and any other request_uri is refused as unsupported by validation). A request_uri that
 * cannot be used is an error page (InvalidRequestUri).
 */
export async function usePushedRequest(params: Params, context: PushedRequestUseDeps): Promise<Params | undefined> {
  const requestUri = params.get('request_uri');
  if (requestUri === undefined || !requestUri.startsWith(REQUEST_URI_PREFIX)) return undefined;
  if (params.isRepeated('request_uri')) {
    throw new UnsafeAuthorizationRequest('Invalid request', 'The request_uri parameter was sent more than once.');
  }
  const client = await resolveClient(params, context);
  const result = await context.store.pushedRequests.consume(requestUriHash(requestUri), client.clientId, context.now());
  const facts = [{ label: 'client_id received', value: client.clientId }];
  switch (result.status) {
    case 'consumed':
      return Params.fromEntries(result.request.parameters);
    case 'not_found':
      throw new InvalidRequestUri(
        'This request_uri is unknown: it was never issued, or it expired a while ago. Go back to the application and try again.',
        facts,
      );
    case 'other_client':
      throw new InvalidRequestUri(
        'This request_uri was issued to another application than the one named by client_id (RFC 9126 2.2: a request_uri is bound to the client that pushed it).',
        facts,
      );
    case 'replayed':
      throw new InvalidRequestUri(
        'This authorization request was already used: a pushed request_uri is good for one authorization request only (RFC 9126 4). Go back to the application and try again.',
        facts,
      );
    case 'expired':
      throw new InvalidRequestUri(
        'This authorization request has expired before it was used (RFC 9126 4). Go back to the application and try again.',
        facts,
      );
  }
}
