/** Codes and tokens: authorization codes, device codes, refresh tokens and access-token records, with the result shapes of their one-time uses. Conventions: see ../records.ts. */
/**
 * What a one-time use of a stored record (an authorization code, a refresh token) returns, decided
 * by one conditional statement: `Won` for the one caller that used it, `Lost` with the record as
 * it is now for every other (it was used before: a retry, a parallel request, or a replay), or
 * `not_found`.
 */
export type OneTimeUseResult<Won extends string, Lost extends string, Key extends string, R> =
  | ({ status: Won } & { [K in Key]: R })
  | ({ status: Lost } & { [K in Key]: R })
  | { status: 'not_found' };

export interface AuthorizationCode {
  /** SHA-256 of the code. */
  codeHash: string;
  grantId: string;
  flowId: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  redirectUriProvided: boolean;
  scope: string[];
  codeChallenge: string | null;
  codeChallengeMethod: 'S256' | null;
  nonce: string | null;
  /** RFC 8707 resources authorized in the authorization request. */
  resources: string[];
  authTime: number;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
  /**
   * RFC 9449 §10: the thumbprint of the DPoP key the authorization request named (`dpop_jkt`, or
   * the DPoP proof of its pushed request); the code is redeemed only with a proof of that key.
   * Absent: not bound.
   */
  dpopJkt?: string;
}

/** `replayed`: the code exists but was already consumed, a replay (RFC 6749 §4.1.2). */
export type ConsumeCodeResult = OneTimeUseResult<'consumed', 'replayed', 'code', AuthorizationCode>;

/** A code as the token endpoint reads it to redeem it: with its grant's session id (OIDC `sid`). */
export interface CodeForRedemption {
  code: AuthorizationCode;
  /** The public id of the session the user authorized in (the grant's), for the ID token. */
  sid: string | null;
}

/** The tokens issued for a code, stored in the same atomic step that consumes it (RFC 6749 §5.1). */
export interface CodeRedemption {
  accessToken: AccessTokenRecord;
  refreshToken: RefreshTokenRecord | null;
}

/**
 * `redeemed`: the code was consumed and the tokens stored; `grantRevokedAt` is when the grant
 * was revoked if it already was (the tokens were stored all the same, the caller revokes them).
 * `replayed`: the code was already consumed (nothing was stored); `not_found`: no such code.
 */
export type RedeemCodeResult =
  | { status: 'redeemed'; grantRevokedAt: number | null }
  | { status: 'replayed'; code: AuthorizationCode }
  | { status: 'not_found' };

/**
 * A device authorization (RFC 8628 §3.1-3.2): the device code the device polls with and the user
 * code the user enters, both stored hashed, and the user's decision once made.
 */
export interface DeviceCode {
  /** SHA-256 of the device code. */
  deviceCodeHash: string;
  /** SHA-256 of the normalised user code (src/core/device/user-code.ts). */
  userCodeHash: string;
  flowId: string;
  clientId: string;
  scope: string[];
  /** RFC 8707 resources named in the device authorization request. */
  resources: string[];
  status: DeviceCodeStatus;
  /** Who approved (or denied) it, in which session, signed in when; null while pending. */
  userId: string | null;
  sid: string | null;
  authTime: number | null;
  /** RFC 8628 §3.5: the polling interval, raised by every slow_down. */
  intervalSeconds: number;
  lastPolledAt: number | null;
  createdAt: number;
  expiresAt: number;
  /** When tokens were issued for it (once only). */
  consumedAt: number | null;
}

export type DeviceCodeStatus = 'pending' | 'approved' | 'denied';

/** The user's answer at the verification page (RFC 8628 §3.3). */
export type DeviceDecision =
  | { status: 'approved'; userId: string; sid: string; authTime: number }
  | { status: 'denied'; userId: string };

/** `used`: tokens were issued for this device code already. */
export type ConsumeDeviceCodeResult = OneTimeUseResult<'consumed', 'used', 'code', DeviceCode>;

/**
 * A refresh token (RFC 6749 §6). Every refresh token belongs to the family of one authorization,
 * identified by its grant: revoking the grant revokes the family and the access tokens issued
 * from it. Rotation (RFC 9700 §4.14.2) replaces the token at every use with a successor.
 * flowId, clientId, userId, scope, resources and authTime are the family's: the store keeps them
 * once, on the grant (migration 0028), and a token created for a grant gets its grant's.
 */
export interface RefreshTokenRecord {
  /** SHA-256 of the token. */
  tokenHash: string;
  grantId: string;
  flowId: string;
  clientId: string;
  userId: string | null;
  /** The scope originally granted (a refresh may ask for less, never more). */
  scope: string[];
  /** RFC 8707 resources authorized for the family. */
  resources: string[];
  authTime: number | null;
  createdAt: number;
  /** Idle expiry of this token: never later than familyExpiresAt. */
  expiresAt: number;
  /** Absolute end of the family's life, fixed when the authorization happened. */
  familyExpiresAt: number;
  rotatedAt: number | null;
  successorHash: string | null;
  /**
   * The successor token itself, encrypted at rest (compact JWE under the instance key), so that
   * a retry of the same rotation within the grace window can be answered with the same successor.
   */
  successorEncrypted: string | null;
  /**
   * RFC 9449 §5: the SHA-256 thumbprint of the DPoP key a public client's family is bound to;
   * every refresh must prove that key. Absent: not bound.
   */
  dpopJkt?: string;
}

/** `rotated`: this caller rotated the token and its successor has been stored. */
export type RotateRefreshTokenResult = OneTimeUseResult<'rotated', 'already_rotated', 'token', RefreshTokenRecord>;

/** A refresh token as the token endpoint reads it to rotate it: with its grant's sid and revocation. */
export interface RefreshTokenForRotation {
  token: RefreshTokenRecord;
  /** The public id of the session the user authorized in (the grant's), for the ID token. */
  sid: string | null;
  grantRevokedAt: number | null;
}

/** A record of an issued access token (JWT or opaque), kept for revocation and introspection. */
export interface AccessTokenRecord {
  jti: string;
  grantId: string | null;
  flowId: string | null;
  clientId: string;
  userId: string | null;
  scope: string[];
  audience: string[];
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  /** RFC 8693 §4.1: who acts for the subject, when the token came from a token exchange. */
  act?: Actor;
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to (`cnf.jkt`). Absent: a bearer token. */
  dpopJkt?: string;
}

/**
 * RFC 8693 §4.1 `act`: the party acting for the token's subject, identified by `sub` (a client
 * id, or a user as the acting client sees it); earlier actors nest inside, the least recent the
 * deepest.
 */
export interface Actor {
  sub: string;
  act?: Actor;
}
