/**
 * The End-User's browser as the front-channel endpoints see it: the cookies it sent and the
 * single sign-on session its session cookie names. Shared by the authorization endpoint, the
 * login and consent interaction and RP-initiated logout.
 */
import type { Consent, Session, Store } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { sha256Base64Url } from '../secrets.js';

/** Cookie values the browser sent. */
export interface BrowserState {
  sessionId?: string | undefined;
  /** A random value binding interactions to this browser (login CSRF defence). */
  browserId?: string | undefined;
  /** The device cookie of an earlier successful sign-in (src/core/limits/attempt-limits.ts), if any. */
  deviceCookie?: string | undefined;
  /** Its User-Agent header, recorded with a new session so the account page can name it. */
  userAgent?: string | undefined;
}

/**
 * How often a session's "last seen" time is written: at most once per interval per session, so
 * that a browser coming back many times costs one UPDATE per interval, not one per request.
 */
export const SESSION_TOUCH_INTERVAL_MS = 5 * 60 * 1000;

/** The live session the browser's session cookie names (the store keeps only its hash). */
export async function currentSession(
  sessionId: string | undefined,
  context: Pick<ProviderContext, 'now'> & { store: Pick<Store, 'sessions'> },
): Promise<Session | undefined> {
  if (sessionId === undefined) return undefined;
  return context.store.sessions.get(sha256Base64Url(sessionId), context.now());
}

/**
 * The live session the session cookie names, with its user's consent to `clientId`, read
 * together (the authorization endpoint needs both when a signed-in browser comes back).
 */
export async function currentSessionWithConsent(
  sessionId: string | undefined,
  clientId: string,
  context: Pick<ProviderContext, 'now'> & { store: Pick<Store, 'sessions'> },
): Promise<{ session: Session; consent: Consent | undefined } | undefined> {
  if (sessionId === undefined) return undefined;
  return context.store.sessions.getWithConsent(sha256Base64Url(sessionId), context.now(), clientId);
}

/** Records that the browser used `session` now, at most once per SESSION_TOUCH_INTERVAL_MS. */
export async function touchSession(
  session: Session,
  context: Pick<ProviderContext, 'now'> & { store: Pick<Store, 'sessions'> },
): Promise<void> {
  const now = context.now();
  if (now - (session.lastSeenAt ?? session.createdAt) < SESSION_TOUCH_INTERVAL_MS) return;
  await context.store.sessions.touch(session.idHash, now);
  session.lastSeenAt = now;
}
