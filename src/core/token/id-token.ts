/**
 * OpenID Connect ID Tokens, OIDC Core §2 and §3.1.3.6, for authorization code responses whose
 * scope includes `openid`. Claims about the user (profile, email) belong to UserInfo when an
 * access token is issued (OIDC Core §5.4), so the ID token carries only the authentication:
 * iss, sub, aud, exp, iat, auth_time, nonce, at_hash, acr, amr and sid.
 *
 * Signed with the client's `id_token_signed_response_alg` (OpenID Connect Dynamic Client
 * Registration §2) or, when it registered none, the server's signing algorithm.
 */
import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Client } from '../../store/store.js';
import type { KeyRing, SigningAlg } from '../keys.js';

/**
 * OIDC Core §2 `acr`: Gatehouse authenticates with a password only, at a level it does not map
 * to ISO/IEC 29115, so it sends its own class reference rather than a level such as "1" (and
 * not "0", which would claim less than a password). Requested `acr_values` are voluntary and
 * do not change it (§3.1.2.1); discovery lists it in `acr_values_supported`.
 */
export const PASSWORD_ACR = 'urn:gatehouse:pwd';

export interface IdTokenRequest {
  issuer: string;
  clientId: string;
  /** OIDC Core §2 `sub`: the user's identifier as this client sees it (§8, src/core/subject.ts). */
  subject: string;
  authTime: number;
  nonce: string | null;
  /** OpenID Connect Back-Channel Logout 1.0 §2.1 / Front-Channel Logout §3: the session's public id. */
  sid: string | null;
  /** The JWS algorithm (a key for it must be in the ring). */
  alg: SigningAlg;
  accessToken: string;
  ttlSeconds: number;
  now: number;
}

/**
 * The algorithms ID tokens may be signed with (discovery's
 * `id_token_signing_alg_values_supported`): ES256 and RS256, plus EdDSA when it is the server's
 * signing algorithm. The key ring holds a key for each (src/server.ts).
 */
export function idTokenSigningAlgs(serverAlg: SigningAlg): SigningAlg[] {
  return [...new Set<SigningAlg>(['ES256', 'RS256', serverAlg])];
}

/** The client's registered `id_token_signed_response_alg`, else the server's algorithm. */
export function idTokenAlgFor(client: Pick<Client, 'idTokenSignedResponseAlg'>, serverAlg: SigningAlg): SigningAlg {
  return client.idTokenSignedResponseAlg ?? serverAlg;
}

/**
 * OIDC Core §3.1.3.6: at_hash is the base64url of the left half of the hash of the access
 * token, with the hash function of the ID token's `alg` (SHA-256 for ES256 and RS256;
 * SHA-512 for EdDSA with Ed25519).
 */
export function accessTokenHash(accessToken: string, alg: SigningAlg): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export async function issueIdToken(request: IdTokenRequest, keys: KeyRing): Promise<string> {
  return idTokenSigner(request, keys)(request.accessToken);
}

/**
 * Chooses the ID token's key and builds its claims now, and returns the function that signs it
 * for the access token it accompanies (at_hash); see prepareTokens in ./issue-tokens.ts.
 */
export function idTokenSigner(request: Omit<IdTokenRequest, 'accessToken'>, keys: KeyRing): (accessToken: string) => Promise<string> {
  const key = keys.active(request.now, request.alg);
  const iat = Math.floor(request.now / 1000);
  return (accessToken) => {
    const claims: Record<string, unknown> = {
      auth_time: Math.floor(request.authTime / 1000),
      at_hash: accessTokenHash(accessToken, key.alg),
      acr: PASSWORD_ACR,
      // RFC 8176: authenticated with a password.
      amr: ['pwd'],
    };
    // OIDC Core §3.1.2.1: the nonce is passed through unmodified.
    if (request.nonce !== null) claims['nonce'] = request.nonce;
    if (request.sid !== null) claims['sid'] = request.sid;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .setIssuer(request.issuer)
      .setSubject(request.subject)
      .setAudience(request.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + request.ttlSeconds)
      .sign(key.privateKey);
  };
}
