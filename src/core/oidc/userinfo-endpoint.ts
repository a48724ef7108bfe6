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
import type { ProviderContext } from '../context.js';
import { DPOP_SIGNING_ALGS } from '../dpop/dpop-proof-jwt.js';
import { verifyDpopProof, type DpopProofDeps, type DpopRequest } from '../dpop/dpop-proof.js';
import { asciiDescription, InvalidDpopProof, UseDpopNonce } from '../errors.js';
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
  /** RFC 9449 §7: the DPoP proof of a request with the DPoP scheme. */
  dpop: DpopRequest;
}

export type UserInfoResponse =
  | { status: 200; body: Record<string, unknown> }
  | {
      status: 400 | 401 | 403;
      /** The `WWW-Authenticate` header value (RFC 6750 §3). */
      wwwAuthenticate: string;
      /** Null when the request carried no token (RFC 6750 §3.1: no error information then). */
      body: { error: BearerErrorCode; error_description: string } | null;
      /** RFC 9449 §9: the nonce to use, with `use_dpop_nonce` (the `DPoP-Nonce` header). */
      dpopNonce?: string;
    };

type BearerErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/** The authentication scheme a token was presented with (RFC 6750 §2.1 Bearer, RFC 9449 §7.1 DPoP). */
type Scheme = 'Bearer' | 'DPoP';

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export const USERINFO_REALM = 'gatehouse';

/** What UserInfo uses: finding the access token, its user and its client (for the `sub` that client sees). */
export type UserInfoDeps = FindAccessTokenDeps &
  DpopProofDeps &
  Pick<ProviderContext, 'clients' | 'subjects' | 'now' | 'users'>;

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
  const refused = await refusedProofOfPossession(request, extracted, record.dpopJkt, context);
  if (refused !== undefined) return refused;
  // RFC 8707 / RFC 9068 §4: a token whose audience is another resource is not for UserInfo.
  if (!record.audience.includes(context.settings.issuer)) {
    return challenge(401, 'invalid_token', 'the access token was issued for another resource, not for this server');
  }
  if (record.userId === null) return challenge(401, 'invalid_token', 'the access token was not issued for a user');
  // OIDC Core §5.3: UserInfo serves OpenID Connect requests only.
  if (!record.scope.includes('openid'))
    return challenge(403, 'insufficient_scope', 'the access token lacks the openid scope', 'openid');
  const user = await context.users.findById(record.userId);
  if (!user) return challenge(401, 'invalid_token', 'the user of this access token no longer exists');
  const client = await context.clients.get(record.clientId);
  if (!client) return challenge(401, 'invalid_token', 'the client of this access token no longer exists');
  // OIDC Core §5.3.2: this `sub` must equal the ID token's, pairwise or public (§8).
  return { status: 200, body: claimsForScopes(user, record.scope, context.subjects.of(client, user.id)) };
}

type Extracted =
  | { kind: 'none' }
  | { kind: 'token'; token: string; scheme: Scheme }
  | { kind: 'error'; response: UserInfoResponse };

/**
 * RFC 9449 §7: a DPoP-bound token (`cnf.jkt`) is accepted only with the DPoP scheme and a valid
 * proof of its key, whose `ath` is this token (§7.2: never as a bearer token); the DPoP scheme
 * only with a bound token. Undefined when the presentation is right.
 */
async function refusedProofOfPossession(
  request: UserInfoRequest,
  presented: { token: string; scheme: Scheme },
  boundTo: string | undefined,
  context: UserInfoDeps,
): Promise<UserInfoResponse | undefined> {
  if (boundTo === undefined) {
    if (presented.scheme === 'Bearer') return undefined;
    return challenge(401, 'invalid_token', 'the access token is not DPoP-bound: present it with the Bearer scheme');
  }
  if (presented.scheme === 'Bearer') {
    return challenge(
      401,
      'invalid_token',
      'the access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof (RFC 9449 7.2)',
      undefined,
      'DPoP',
    );
  }
  let proof: Awaited<ReturnType<typeof verifyDpopProof>>;
  try {
    proof = await verifyDpopProof({ ...request.dpop, accessToken: presented.token }, context);
  } catch (error) {
    if (error instanceof UseDpopNonce) {
      return challenge(401, 'use_dpop_nonce', error.description, undefined, 'DPoP', error.nonce);
    }
    if (error instanceof InvalidDpopProof)
      return challenge(401, 'invalid_dpop_proof', error.description, undefined, 'DPoP');
    throw error;
  }
  if (proof === undefined) return challenge(401, 'invalid_dpop_proof', 'a DPoP proof is required', undefined, 'DPoP');
  if (proof.jkt !== boundTo) {
    return challenge(
      401,
      'invalid_dpop_proof',
      'the DPoP proof is signed by another key than the token is bound to',
      undefined,
      'DPoP',
    );
  }
  return undefined;
}

function extractToken(request: UserInfoRequest): Extracted {
  const invalid = (description: string): Extracted => ({
    kind: 'error',
    response: challenge(400, 'invalid_request', description),
  });
  if (request.query.has('access_token')) {
    return invalid('send the access token in the Authorization header or the form body, not in the URI (RFC 6750 2.3)');
  }

  let fromHeader: string | undefined;
  let headerScheme: Scheme = 'Bearer';
  const header = request.authorization;
  if (header !== undefined) {
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    // RFC 9110 §11.1: the scheme is case-insensitive. Another scheme carries no token.
    const known: Scheme | undefined = { bearer: 'Bearer' as const, dpop: 'DPoP' as const }[scheme.toLowerCase()];
    if (known !== undefined) {
      const credentials = space < 0 ? '' : header.slice(space + 1).trim();
      if (!B64TOKEN.test(credentials)) return invalid(`the Authorization header is not a valid ${known} credential`);
      fromHeader = credentials;
      headerScheme = known;
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
  if (fromHeader !== undefined) return { kind: 'token', token: fromHeader, scheme: headerScheme };
  // RFC 6750 §2.2: a token in the form body is a bearer token.
  return fromBody === undefined ? { kind: 'none' } : { kind: 'token', token: fromBody, scheme: 'Bearer' };
}

function challenge(status: 401, error: null): UserInfoResponse;
function challenge(
  status: 400 | 401 | 403,
  error: BearerErrorCode,
  description: string,
  scope?: string,
  scheme?: Scheme,
  dpopNonce?: string,
): UserInfoResponse;
function challenge(
  status: 400 | 401 | 403,
  error: BearerErrorCode | null,
  description = '',
  scope?: string,
  scheme: Scheme = 'Bearer',
  dpopNonce?: string,
): UserInfoResponse {
  const params = [`realm="${USERINFO_REALM}"`];
  // RFC 9449 §7.1: without a token, both schemes are offered; the DPoP one names its algorithms.
  if (error === null) {
    return {
      status,
      wwwAuthenticate: `Bearer ${params.join(', ')}, DPoP ${params.join(', ')}, algs="${DPOP_SIGNING_ALGS.join(' ')}"`,
      body: null,
    };
  }
  if (scheme === 'DPoP') params.push(`algs="${DPOP_SIGNING_ALGS.join(' ')}"`);
  // asciiDescription leaves out `"` and `\`, so the value needs no escaping in a quoted-string.
  const errorDescription = asciiDescription(description);
  params.push(`error="${error}"`, `error_description="${errorDescription}"`);
  if (scope !== undefined) params.push(`scope="${scope}"`);
  return {
    status,
    wwwAuthenticate: `${scheme} ${params.join(', ')}`,
    body: { error, error_description: errorDescription },
    ...(dpopNonce !== undefined ? { dpopNonce } : {}),
  };
}
