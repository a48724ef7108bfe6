/**
 * The web console's browser state, framework-free: what it remembers between the start of a
 * sign-in and its callback, and who is signed in afterwards. Both are kept in the browser, sealed
 * (AES-256-GCM under a key derived from GATEHOUSE_SECRET for this purpose alone, RFC 5869 §3.2),
 * so the console needs no table and works on every instance at once; the cookie carrying them is
 * HttpOnly, SameSite=Lax, Secure and `__Host-` prefixed on https (src/http/cookies.ts).
 *
 * - The sign-in: the `state` (RFC 6749 §10.12, CSRF of the callback), the PKCE code_verifier
 *   (RFC 7636 §4.1), the OpenID Connect `nonce`, and the console page to return to.
 * - The session: the admin API access token (RFC 9068) the code was exchanged for, when it
 *   expires, and a random CSRF key. Every form of the console carries an HMAC of that key
 *   (src/core/browser/browser-csrf.ts): a token bound to this console session only. Each request
 *   checks the access token again (the admin API's own check: signature, audience, expiry,
 *   revocation, the user's admin role), so revoking the token or the role takes effect at once.
 *   An expired token sends the browser through sign-in again, which is silent while the single
 *   sign-on session lasts (the console's client skips consent).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { s256Challenge } from '../pkce.js';
import { deriveSecretKey, randomToken } from '../secrets.js';
import { browserCsrfToken, checkBrowserCsrf } from '../browser/browser-csrf.js';
import type { ProviderContext } from '../context.js';
import { adminAudience } from '../admin/admin-access.js';
import { CONSOLE_CLIENT_ID, CONSOLE_PATH, CONSOLE_SCOPE, consoleRedirectUri } from './console-client.js';

/** How long a started sign-in may take (the login page, a mistyped password or two). */
export const SIGN_IN_SECONDS = 15 * 60;

export interface ConsoleSignIn {
  kind: 'sign-in';
  state: string;
  verifier: string;
  nonce: string;
  /** The console path the sign-in started from. */
  returnTo: string;
  expiresAt: number;
}

export interface ConsoleSession {
  kind: 'session';
  accessToken: string;
  /** When the access token expires (ms); the session ends with it. */
  expiresAt: number;
  userId: string;
  csrfKey: string;
}

type Sealed = ConsoleSignIn | ConsoleSession;

const keys = new Map<string, Buffer>();

function sealingKey(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    key = Buffer.from(deriveSecretKey(secret, 'gatehouse console cookie v1'));
    keys.set(secret, key);
  }
  return key;
}

/** base64url(iv | ciphertext | tag) of the JSON of `value`. */
export function sealConsoleState(secret: string, value: Sealed): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(secret), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The sealed value, when it opens (not forged, not sealed under another secret) and has not expired. */
export function openConsoleState(secret: string, sealed: string | undefined, now: number): Sealed | undefined {
  if (sealed === undefined) return undefined;
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < 12 + 16 + 2) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(secret), bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const json = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
    const value = JSON.parse(json.toString('utf8')) as Sealed;
    return value.expiresAt > now ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The console path to come back to after sign-in: only a path of the console itself (an open
 * redirect otherwise, RFC 9700 §4.11), else the dashboard.
 */
export function consoleReturnPath(path: string | undefined, base: string): string {
  const home = `${base}${CONSOLE_PATH}`;
  if (path === undefined || !path.startsWith(home) || path.startsWith('//') || /[\\\s]/.test(path)) return home;
  const rest = path.slice(home.length);
  return rest === '' || rest.startsWith('/') || rest.startsWith('?') ? path : home;
}

/**
 * A new sign-in and its authorization request (RFC 6749 §4.1.1 with RFC 7636 §4.3 S256 and
 * RFC 8707 §2.1 `resource`: the token is for the admin API).
 */
export function startConsoleSignIn(
  issuer: string,
  authorizationEndpoint: string,
  returnTo: string,
  now: number,
): { signIn: ConsoleSignIn; url: string } {
  const signIn: ConsoleSignIn = {
    kind: 'sign-in',
    state: randomToken(16),
    verifier: randomToken(32),
    nonce: randomToken(16),
    returnTo,
    expiresAt: now + SIGN_IN_SECONDS * 1000,
  };
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: CONSOLE_CLIENT_ID,
    redirect_uri: consoleRedirectUri(issuer),
    scope: CONSOLE_SCOPE,
    state: signIn.state,
    nonce: signIn.nonce,
    code_challenge: s256Challenge(signIn.verifier),
    code_challenge_method: 'S256',
    resource: adminAudience(issuer),
  });
  return { signIn, url: `${authorizationEndpoint}?${params.toString()}` };
}

/** The token request of the callback (RFC 6749 §4.1.3, RFC 7636 §4.5, RFC 8707 §2.2). */
export function consoleTokenRequest(issuer: string, signIn: ConsoleSignIn, code: string): Record<string, string> {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: consoleRedirectUri(issuer),
    client_id: CONSOLE_CLIENT_ID,
    code_verifier: signIn.verifier,
    resource: adminAudience(issuer),
  };
}

/** A console session for a token response. */
export function newConsoleSession(accessToken: string, expiresInSeconds: number, userId: string, now: number) {
  const session: ConsoleSession = {
    kind: 'session',
    accessToken,
    expiresAt: now + expiresInSeconds * 1000,
    userId,
    csrfKey: randomToken(16),
  };
  return session;
}

const CSRF_PURPOSE = 'gatehouse console csrf v1';

/** The CSRF token of the console's forms in this console session. */
export function consoleCsrfToken(context: Pick<ProviderContext, 'settings'>, session: ConsoleSession): string {
  return browserCsrfToken(context, CSRF_PURPOSE, session.csrfKey);
}

/** Throws CsrfMismatch unless `presented` is this console session's token. */
export function checkConsoleCsrf(
  context: Pick<ProviderContext, 'settings'>,
  session: ConsoleSession,
  presented: string | undefined,
): void {
  checkBrowserCsrf(context, CSRF_PURPOSE, session.csrfKey, presented);
}
