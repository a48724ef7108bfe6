/**
 * OpenID Connect ID Tokens, OIDC Core §2 and §3.1.3.6, for authorization code responses whose
 * scope includes `openid`. Claims about the user (profile, email) belong to UserInfo when an
 * access token is issued (OIDC Core §5.4), so the ID token carries only the authentication.
 */
import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { KeyRing, SigningAlg } from '../keys.js';

export interface IdTokenRequest {
  issuer: string;
  clientId: string;
  userId: string;
  authTime: number;
  nonce: string | null;
  accessToken: string;
  ttlSeconds: number;
  now: number;
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
  const key = keys.active(request.now);
  const iat = Math.floor(request.now / 1000);
  const claims: Record<string, unknown> = {
    auth_time: Math.floor(request.authTime / 1000),
    at_hash: accessTokenHash(request.accessToken, key.alg),
    // RFC 8176: authenticated with a password.
    amr: ['pwd'],
  };
  // OIDC Core §3.1.2.1: the nonce is passed through unmodified.
  if (request.nonce !== null) claims['nonce'] = request.nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(request.issuer)
    .setSubject(request.userId)
    .setAudience(request.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + request.ttlSeconds)
    .sign(key.privateKey);
}
