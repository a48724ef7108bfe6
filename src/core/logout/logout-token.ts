/**
 * Logout Tokens, OpenID Connect Back-Channel Logout 1.0 §2.4: a JWT sent to a client's
 * `backchannel_logout_uri` when a session of the End-User ends.
 *
 * - `typ` header `logout+jwt` (§2.4, and RFC 8725 §3.11 explicit typing), so that a logout
 *   token can never be mistaken for an ID token or an access token;
 * - claims `iss`, `aud` (the client), `iat`, `exp` (short: two minutes, as §2.4 recommends),
 *   `jti`, `events` with the back-channel logout event, and `sub` and/or `sid`;
 * - never a `nonce` (§2.4: "A nonce Claim MUST NOT be present"), so a logout token cannot be
 *   replayed as an ID token;
 * - signed with the keys that sign the client's ID tokens (§2.4).
 *
 * A delivery that is retried after the token expired gets the same token signed again with a
 * new `iat`/`exp` (same `jti`, same event), see `refreshLogoutToken`.
 */
import { decodeJwt, SignJWT } from 'jose';
import type { KeyRing } from '../keys/key-ring.js';
import type { SigningAlg } from '../keys/signing-key-crypto.js';
import { randomToken } from '../secrets.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
export const LOGOUT_TOKEN_TYP = 'logout+jwt';
/** §2.4: "it is RECOMMENDED that the exp value be no more than two minutes in the future". */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;

export interface LogoutTokenClaims {
  issuer: string;
  clientId: string;
  /** The End-User (`sub`), or null to send only `sid`. */
  subject: string | null;
  /** The session (`sid`), or null to send only `sub`. */
  sessionId: string | null;
  jti: string;
}

export async function signLogoutToken(
  claims: LogoutTokenClaims,
  keys: KeyRing,
  alg: SigningAlg | undefined,
  now: number,
): Promise<string> {
  if (claims.subject === null && claims.sessionId === null)
    throw new Error('a logout token needs sub or sid (Back-Channel Logout 1.0 §2.4)');
  const key = keys.active(now, alg ?? keys.defaultAlg);
  const iat = Math.floor(now / 1000);
  const payload: Record<string, unknown> = { events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } };
  if (claims.sessionId !== null) payload['sid'] = claims.sessionId;
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: LOGOUT_TOKEN_TYP })
    .setIssuer(claims.issuer)
    .setAudience(claims.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + LOGOUT_TOKEN_TTL_SECONDS)
    .setJti(claims.jti);
  if (claims.subject !== null) jwt.setSubject(claims.subject);
  return jwt.sign(key.privateKey);
}

/** A new logout token for one logout event (a fresh `jti`). */
export function newLogoutTokenClaims(
  issuer: string,
  clientId: string,
  subject: string | null,
  sessionId: string | null,
): LogoutTokenClaims {
  return { issuer, clientId, subject, sessionId, jti: randomToken(16) };
}

/**
 * The token to send now: `token` itself while it has at least `marginSeconds` left, else the
 * same claims (same `jti`) signed again with a new `iat` and `exp`. `token` is one we signed
 * and stored ourselves, so its claims are read without verifying it again.
 */
export async function refreshLogoutToken(
  token: string,
  keys: KeyRing,
  alg: SigningAlg | undefined,
  now: number,
  marginSeconds = 30,
): Promise<string> {
  const claims = decodeJwt(token);
  if (typeof claims.exp === 'number' && claims.exp * 1000 >= now + marginSeconds * 1000) return token;
  const audience = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
  if (typeof claims.iss !== 'string' || typeof audience !== 'string' || typeof claims.jti !== 'string') {
    throw new Error('stored logout token lacks iss, aud or jti');
  }
  const sid = (claims as { sid?: unknown }).sid;
  return signLogoutToken(
    {
      issuer: claims.iss,
      clientId: audience,
      subject: typeof claims.sub === 'string' ? claims.sub : null,
      sessionId: typeof sid === 'string' ? sid : null,
      jti: claims.jti,
    },
    keys,
    alg,
    now,
  );
}
