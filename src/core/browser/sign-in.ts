/**
 * Signing a user in with username and password: the one sign-in of every page that asks for it
 * (the login page of an authorization's interaction, the device verification page of RFC 8628).
 * It checks the brute-force limits, the password, and opens the single sign-on session.
 */
import type { Session, Store } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { beginLoginAttempt, issueDeviceCookie } from '../limits/attempt-limits.js';
import { endSession, type EndSessionDeps } from '../logout/backchannel.js';
import { randomToken, sha256Base64Url, sortableId } from '../secrets.js';
import { currentSession, type BrowserState } from './browser-session.js';

/** What signing in uses: the user's password hash, the limits' counters, the new session, and ending the previous user's session. */
export type SignInDeps = Pick<ProviderContext, 'settings' | 'events' | 'now' | 'users'> & {
  store: Pick<Store, 'sessions' | 'rateLimits'>;
} & EndSessionDeps;

export type SignInResult =
  | { kind: 'failed' }
  /** Too many attempts (src/core/limits/attempt-limits.ts): refused before the password was checked. */
  | { kind: 'limited'; retryAfterSeconds: number }
  /** `deviceCookie`: the new device cookie of this browser, bound to the user signed in. */
  | { kind: 'signed-in'; session: Session; sessionId: string; deviceCookie: string };

/** The flow the sign-in belongs to, for its events: an interaction's, or none yet (the device page). */
export interface SignInFlow {
  flowId: string | null;
  clientId: string | null;
}

/**
 * Verifies the username and password. An unknown user is checked against a dummy hash so that
 * it takes as long as a wrong password, and both get the same answer. The brute-force limits
 * (src/core/limits/attempt-limits.ts) count the attempt first and refuse it, before any hashing, while the
 * (username, `clientIp`) pair, the address or the username is blocked, or, for a browser whose
 * device cookie was issued for this username, while that device cookie is blocked.
 */
export async function signIn(
  browser: BrowserState,
  form: { username?: string | undefined; password?: string | undefined },
  flow: SignInFlow,
  context: SignInDeps,
  clientIp: string,
): Promise<SignInResult> {
  const attempt = await beginLoginAttempt(context, form.username ?? '', clientIp, browser.deviceCookie);
  if (attempt.limited) return { kind: 'limited', retryAfterSeconds: attempt.retryAfterSeconds };
  const user = form.username === undefined ? undefined : await context.users.findByUsername(form.username);
  const passwordOk = await context.users.verifyPassword(user, form.password ?? '');
  // A disabled user (`gatehouse users update --disable`) gets the same answer as a wrong password,
  // after the same hashing, so that the page does not tell which accounts exist or are disabled.
  if (!user || !passwordOk || user.disabledAt !== undefined) {
    context.events.emit({
      type: 'login.failed',
      flowId: flow.flowId,
      reason: 'unknown_user_or_wrong_password',
      username: form.username ?? null,
      clientId: flow.clientId,
      ip: clientIp,
    });
    await attempt.finish(false, flow.flowId);
    return { kind: 'failed' };
  }
  await attempt.finish(true, flow.flowId);
  // The session references the user's row: a custom directory's user gets its shadow row now.
  await context.users.signedIn(user);

  // A new session cookie value at every sign-in defeats session fixation. The public session id
  // (OIDC `sid`) carries over when the same user signs in again (prompt=login, max_age), so the
  // clients already signed in under it still get the back-channel logout when it ends; when
  // another user signs in, the previous user's session is ended, with its logout notifications.
  const previous = await currentSession(browser.sessionId, context);
  let sid = sortableId();
  if (previous && previous.userId === user.id && previous.sid) {
    sid = previous.sid;
    await context.store.sessions.delete(previous.idHash);
  } else if (previous) {
    await endSession(previous, context, null);
  }
  const now = context.now();
  const sessionId = randomToken(32);
  const session: Session = {
    idHash: sha256Base64Url(sessionId),
    // Random, independent of the cookie value.
    sid,
    userId: user.id,
    authTime: now,
    createdAt: now,
    expiresAt: now + context.settings.sessionTtlSeconds * 1000,
    // Shortened: it only names the browser on the account page, and a header can be 8 KiB.
    ...(browser.userAgent ? { userAgent: browser.userAgent.slice(0, 256) } : {}),
  };
  await context.store.sessions.create(session);
  context.events.emit(
    {
      type: 'login.succeeded',
      flowId: flow.flowId,
      userId: user.id,
      username: user.username,
      clientId: flow.clientId,
      ip: clientIp,
    },
    now,
  );

  // OWASP device cookies: a fresh one at every sign-in, bound to the username typed (what the
  // next sign-in is checked against).
  return { kind: 'signed-in', session, sessionId, deviceCookie: issueDeviceCookie(context, form.username!) };
}
