/**
 * The UserInfo endpoint, OpenID Connect Core 1.0 §5.3: an OAuth 2.0 protected resource that
 * returns claims about the End-User the access token was issued for.
 *
 * - The access token comes as a bearer token (RFC 6750) in the Authorization header (§2.1),
 *   or, with POST, as the form-encoded body parameter `access_token` (§2.2); never both
 *   (§2: "Clients MUST NOT use more than one method"), and never in the URI query (§2.3,
 *   refused so that tokens do not end up in logs).
 * - It must be one of our access tokens (signature checked with the key ring, as for
 *   introspection), active (not expired, not revoked, its grant not revoked), issued for a user,
 *   with `openid` in its scope (§5.3), and usable here: the issuer must be among its audiences,
 *   so a token minted for another resource with RFC 8707 resource indicators is refused.
 * - Errors are RFC 6750 §3 challenges: 401 `invalid_token`, 403 `insufficient_scope`, 400
 *   `invalid_request`, and a bare 401 challenge when the request has no token at all (§3.1).
 * - The response (§5.3.2) is JSON with `sub` and the claims of the token's scopes (§5.4),
 *   never cached.
 */
import type { Store } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { asciiDescription } from '../errors.js';
import type { Params } from '../params.js';
import { findAccessToken, isActive, type FindAccessTokenDeps } from '../token/token-lookup.js';
import { claimsForScopes } from '../users/user-claims.js';

export interface UserInfoRequest {
  /** The Authorization header, if any. */
  authorization: string | undefined;
  /** The form body of a POST; undefined for GET or a POST without a body. */
  body: Params | undefined;
  /** The URI query. */
  query: Params;
}

export type UserInfoResponse =
  | { status: 200; body: Record<string, unknown> }
  | {
      status: 400 | 401 | 403;
      /** The `WWW-Authenticate` header value (RFC 6750 §3). */
      wwwAuthenticate: string;
      /** Null when the request carried no token (RFC 6750 §3.1: no error information then). */
      body: { error: BearerErrorCode; error_description: string } | null;
    };

type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export const USERINFO_REALM = 'gatehouse';

/** What UserInfo uses: finding the access token, its user and its client (for the `sub` that client sees). */
export type UserInfoDeps = FindAccessTokenDeps &
  Pick<ProviderContext, 'clients' | 'subjects' | 'now'> & { store: Pick<Store, 'users'> };

export async function handleUserInfoRequest(
  request: UserInfoRequest,
  context: UserInfoDeps,
): Promise<UserInfoResponse> {
  const extracted = extractToken(request);
  if (extracted.kind === 'none') return challenge(401, null);
  if (extracted.kind === 'error') return extracted.response;
  const token = extracted.token;

  const now = context.now();
  const found = await findAccessToken(token, context);
  if (!found || found.kind !== 'access_token') return challenge(401, 'invalid_token', 'the access token is not valid');
  if (!isActive(found, now)) return challenge(401, 'invalid_token', 'the access token has expired or was revoked');
  const { record } = found;
  // RFC 8707 / RFC 9068 §4: a token whose audience is another resource is not for UserInfo.
  if (!record.audience.includes(context.settings.issuer)) {
    return challenge(401, 'invalid_token', 'the access token was issued for another resource, not for this server');
  }
  if (record.userId === null) return challenge(401, 'invalid_token', 'the access token was not issued for a user');
  // OIDC Core §5.3: UserInfo serves OpenID Connect requests only.
  if (!record.scope.includes('openid'))
    return challenge(403, 'insufficient_scope', 'the access token lacks the openid scope', 'openid');
  const user = await context.store.users.getById(record.userId);
  if (!user) return challenge(401, 'invalid_token', 'the user of this access token no longer exists');
  const client = await context.clients.get(record.clientId);
  if (!client) return challenge(401, 'invalid_token', 'the client of this access token no longer exists');
  // OIDC Core §5.3.2: this `sub` must equal the ID token's, pairwise or public (§8).
  return { status: 200, body: claimsForScopes(user, record.scope, context.subjects.of(client, user.id)) };
}

type Extracted = { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'error'; response: UserInfoResponse };

function extractToken(request: UserInfoRequest): Extracted {
  const invalid = (description: string): Extracted => ({
    kind: 'error',
    response: challenge(400, 'invalid_request', description),
  });
  if (request.query.has('access_token')) {
    return invalid('send the access token in the Authorization header or the form body, not in the URI (RFC 6750 2.3)');
  }

  let fromHeader: string | undefined;
  const header = request.authorization;
  if (header !== undefined) {
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    // RFC 9110 §11.1: the scheme is case-insensitive. Another scheme carries no bearer token.
    if (scheme.toLowerCase() === 'bearer') {
      const credentials = space < 0 ? '' : header.slice(space + 1).trim();
      if (!B64TOKEN.test(credentials)) return invalid('the Authorization header is not a valid Bearer credential');
      fromHeader = credentials;
    }
  }

  let fromBody: string | undefined;
  if (request.body !== undefined && request.body.has('access_token')) {
    if (request.body.isRepeated('access_token')) return invalid('access_token is included more than once');
    fromBody = request.body.get('access_token');
  }

  if (fromHeader !== undefined && fromBody !== undefined) {
    return invalid(
      'the access token was sent both in the Authorization header and in the body; use one method (RFC 6750 2)',
    );
  }
  const token = fromHeader ?? fromBody;
  return token === undefined ? { kind: 'none' } : { kind: 'token', token };
}

function challenge(status: 401, error: null): UserInfoResponse;
function challenge(
  status: 400 | 401 | 403,
  error: BearerErrorCode,
  description: string,
  scope?: string,
): UserInfoResponse;
function challenge(
  status: 400 | 401 | 403,
  error: BearerErrorCode | null,
  description = '',
  scope?: string,
): UserInfoResponse {
  const params = [`realm="${USERINFO_REALM}"`];
  if (error === null) return { status, wwwAuthenticate: `Bearer ${params.join(', ')}`, body: null };
  // asciiDescription leaves out `"` and `\`, so the value needs no escaping in a quoted-string.
  const errorDescription = asciiDescription(description);
  params.push(`error="${error}"`, `error_description="${errorDescription}"`);
  if (scope !== undefined) params.push(`scope="${scope}"`);
  return {
    status,
    wwwAuthenticate: `Bearer ${params.join(', ')}`,
    body: { error, error_description: errorDescription },
  };
}
