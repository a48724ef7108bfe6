/**
 * OpenID Connect ID Tokens, OIDC Core §2 and §3.1.3.6, for authorization code responses whose
 * scope includes `openid`. The ID token carries the authentication: iss, sub, aud, exp, iat,
 * auth_time, nonce, at_hash, acr, amr and sid; and, unless the client's `id_token_claims` (or
 * the server's `id_token_claims_default`) is false, the user's claims its granted scopes release
 * (profile, email, address, phone). OIDC Core §5.4 lets those live at UserInfo only when an
 * access token is issued, but widely used relying parties (Auth.js) build their user from the
 * ID token alone, and Keycloak, Auth0 and Google put them in the ID token too.
 *
 * Signed with the client's `id_token_signed_response_alg` (OpenID Connect Dynamic Client
 * Registration §2) or, when it registered none, the server's `id_token_signed_response_alg_default`:
 * RS256, the default §2 names, which relying parties that enforce it (express-openid-connect)
 * require.
 */
import { createHash } from 'node:crypto';
import { signCompactJws } from '../keys/jws-signer.js';
import type { Client } from '../../store/store.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { SigningAlg } from '../keys/signing-key-crypto.js';
import type { GatehouseSettings } from '../../config/settings.js';
import { fapi2IdTokenAlg, usesFapi2 } from '../profile/fapi2-profile.js';

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
  /** OIDC Core §2 `sub`: the user's identifier as this client sees it (§8, src/core/users/subject-identifiers.ts). */
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
  /** The user's claims released by the granted scopes (claimsForScopes, without `sub`); none when absent. */
  userClaims?: Record<string, unknown>;
}

/**
 * The algorithms ID tokens may be signed with (discovery's
 * `id_token_signing_alg_values_supported`): ES256 and RS256, plus EdDSA when it is the server's
 * signing algorithm (and may then be the default, `defaultAlg`). The key ring holds a key for
 * each (src/server.ts).
 */
export function idTokenSigningAlgs(serverAlg: SigningAlg, defaultAlg: SigningAlg = 'RS256'): SigningAlg[] {
  return [...new Set<SigningAlg>(['ES256', 'RS256', serverAlg, defaultAlg])];
}

/**
 * The client's registered `id_token_signed_response_alg`, else `defaultAlg` (the server's
 * `id_token_signed_response_alg_default`; OpenID Connect Dynamic Client Registration §2: RS256).
 */
export function idTokenAlgFor(
  client: Pick<Client, 'idTokenSignedResponseAlg' | 'profile'>,
  settings: Pick<GatehouseSettings, 'idTokenSignedResponseAlgDefault' | 'profile'>,
): SigningAlg {
  const alg = client.idTokenSignedResponseAlg ?? settings.idTokenSignedResponseAlgDefault;
  // FAPI 2.0 Security Profile §5.4.1: a fapi2 client's ID tokens are never RS256.
  return usesFapi2(client, settings) ? fapi2IdTokenAlg(alg) : alg;
}

/** Whether the client's ID tokens carry the claims granted by scope: its own setting, else the server's. */
export function idTokenIncludesClaims(client: Pick<Client, 'idTokenClaims'>, serverDefault: boolean): boolean {
  return client.idTokenClaims ?? serverDefault;
}

/**
 * OIDC Core §3.1.3.6: at_hash is the base64url of the left half of the hash of the access
 * token, with the hash function of the ID token's `alg` (SHA-256 for ES256 and RS256;
 * SHA-512 for EdDSA with Ed25519).
 */
export function accessTokenHash(accessToken: string, alg: SigningAlg): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256')
    .update(accessToken, 'ascii')
    .digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export function issueIdToken(request: IdTokenRequest, keys: KeyRing): string {
  return idTokenSigner(request, keys)(request.accessToken);
}

/**
 * Chooses the ID token's key and builds its claims now, and returns the function that signs it
 * for the access token it accompanies (at_hash); see prepareTokens in ./issue-tokens.ts.
 */
export function idTokenSigner(
  request: Omit<IdTokenRequest, 'accessToken'>,
  keys: KeyRing,
): (accessToken: string) => string {
  const key = keys.active(request.now, request.alg);
  const iat = Math.floor(request.now / 1000);
  return (accessToken) => {
    const claims: Record<string, unknown> = {
      // OIDC Core §5.4 claims first, so that none of them can displace a claim below.
      ...request.userClaims,
      auth_time: Math.floor(request.authTime / 1000),
      at_hash: accessTokenHash(accessToken, key.alg),
      acr: PASSWORD_ACR,
      // RFC 8176: authenticated with a password.
      amr: ['pwd'],
    };
    // OIDC Core §3.1.2.1: the nonce is passed through unmodified.
    if (request.nonce !== null) claims['nonce'] = request.nonce;
    if (request.sid !== null) claims['sid'] = request.sid;
    return signCompactJws(
      {
        ...claims,
        // OIDC Core §2: the required claims, after the others so that none can displace them.
        iss: request.issuer,
        sub: request.subject,
        aud: request.clientId,
        iat,
        exp: iat + request.ttlSeconds,
      },
      key,
    );
  };
}
