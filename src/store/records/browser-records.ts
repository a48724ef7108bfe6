/** What a browser's visit leaves: users, sessions, interactions in progress, pushed and stored authorization requests, consents and grants. Conventions: see ../records.ts. */
import type { OneTimeUseResult } from './token-records.js';
export interface User {
  id: string;
  username: string;
  /** argon2id PHC string. */
  passwordHash: string;
  /** OIDC Core §5.1 `email`. */
  email: string | null;
  /** OIDC Core §5.1 `name`. */
  name: string | null;
  /**
   * The other OpenID Connect Core §5.1 standard claims of the user (given_name, family_name,
   * email_verified, phone_number, phone_number_verified, address, updated_at, ...), as JSON
   * values. `name` and `email` live in their own fields above, which win over any `name` or
   * `email` key here (see src/core/users/user-claims.ts).
   */
  claims: Record<string, unknown>;
  createdAt: number;
  /** When the user was disabled (`gatehouse users update --disable`): a disabled user cannot sign in. Absent: enabled. */
  disabledAt?: number | undefined;
  /**
   * Whether the user holds the admin role: their access tokens for the admin API are accepted
   * (`gatehouse admin bootstrap --user`, or the admin API). Absent: not an admin.
   */
  admin?: boolean | undefined;
}

/** A single sign-on session of one browser. */
export interface Session {
  /** SHA-256 of the session cookie value. */
  idHash: string;
  /**
   * A stable, public identifier of this session (OpenID Connect Front-/Back-Channel Logout
   * `sid`), random and unrelated to the cookie value; sent in ID tokens.
   */
  sid: string;
  userId: string;
  /** When the user last authenticated (OIDC `auth_time`). */
  authTime: number;
  createdAt: number;
  expiresAt: number;
  /**
   * The browser's User-Agent at sign-in, shortened (the account page names the session by it);
   * absent for sessions from before migration 0024.
   */
  userAgent?: string | undefined;
  /** When the browser last used the session, to within SESSION_TOUCH_INTERVAL_MS; absent until then. */
  lastSeenAt?: number | undefined;
}

/**
 * A validated authorization request waiting for the resource owner (login and/or consent).
 * It is bound to the browser that started it (`browserBindingHash`, the hash of a cookie value)
 * so that no other browser can complete it.
 */
export interface Interaction {
  id: string;
  flowId: string;
  clientId: string;
  /** The validated authorization request, as JSON-serializable data. */
  request: StoredAuthorizationRequest;
  browserBindingHash: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
  /** The username of the last failed sign-in on this interaction, shown again on its login page. */
  typedUsername?: string;
}

export interface StoredAuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** Whether redirect_uri was present in the request (RFC 6749 §4.1.3 then requires it at the token endpoint). */
  redirectUriProvided: boolean;
  scope: string[];
  state: string | null;
  responseMode: 'query' | 'form_post';
  codeChallenge: string | null;
  codeChallengeMethod: 'S256' | null;
  nonce: string | null;
  /** OpenID Connect Core §3.1.2.1 `prompt` values (login, consent, ...). */
  prompt: string[];
  /** OpenID Connect Core §3.1.2.1 `login_hint`, pre-filled into the login form. */
  loginHint: string | null;
  /** OpenID Connect Core §3.1.2.1 `max_age` in seconds; null when not requested. */
  maxAge: number | null;
  /** `sub` of a valid OpenID Connect Core §3.1.2.1 `id_token_hint`; null when none was sent. */
  idTokenHintSub: string | null;
  /** OpenID Connect Core §3.1.2.1 `ui_locales`, in order of preference (BCP 47 tags). */
  uiLocales: string[];
  /** RFC 8707 resource indicators the client asked for (registered resources only). */
  resources: string[];
  /** RFC 9449 §10: the DPoP key thumbprint the code will be bound to; absent: none. */
  dpopJkt?: string;
}

export interface Consent {
  userId: string;
  clientId: string;
  scopes: string[];
  grantedAt: number;
}

/**
 * An application a user has authorized, as the account page lists it: its consent (if it asked
 * for one) and its grants that are not revoked, with when the user first and last used it.
 */
export interface ConnectedApp {
  clientId: string;
  /** Every scope consented to or granted, each once. */
  scopes: string[];
  /** The earliest consent or grant still in force. */
  since: number;
  /** The newest access or refresh token issued to the app for the user; null when none is on record. */
  lastUsedAt: number | null;
  /** The `sid`s of the sessions its unrevoked grants were made in (for back-channel logout). */
  sids: string[];
}

/**
 * One authorization: what a user granted a client in one flow. Codes and tokens issued in the
 * flow point at it, so revoking the grant revokes all of them at once (RFC 6749 §4.1.2).
 */
export interface Grant {
  id: string;
  flowId: string;
  clientId: string;
  userId: string | null;
  scope: string[];
  /** `sid` of the single sign-on session the user authorized in; null without a user. */
  sid: string | null;
  createdAt: number;
  revokedAt: number | null;
}

/**
 * An authorization request pushed to the PAR endpoint (RFC 9126 §2), waiting for its one use at
 * the authorization endpoint (§4). Bound to the client that pushed it (§2.2).
 */
export interface PushedAuthorizationRequest {
  /** SHA-256 of the request_uri. */
  requestUriHash: string;
  clientId: string;
  /** The pushed authorization request parameters, in order (client authentication left out). */
  parameters: Array<[string, string]>;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
}

/**
 * `consumed`: this caller is the one use. Else, for the request as it is now: `other_client`,
 * pushed by another client (left untouched); `replayed`, used before; `expired`.
 */
export type ConsumePushedRequestResult = OneTimeUseResult<
  'consumed',
  'other_client' | 'replayed' | 'expired',
  'request',
  PushedAuthorizationRequest
>;
