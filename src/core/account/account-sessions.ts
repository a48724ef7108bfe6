/**
 * A user's single sign-on sessions on the account page: which browsers are signed in, and
 * signing one or all of them out. Ending a session is the same as RP-Initiated Logout's: the
 * session is deleted and every client that was issued a code in it gets a Back-Channel Logout
 * 1.0 logout token (src/core/logout/backchannel.ts).
 */
import type { Session, Store } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { endSession, type EndSessionDeps } from '../logout/backchannel.js';

/** A session as the account page lists it. */
export interface SessionView {
  sid: string;
  /** The browser and its system, from its User-Agent at sign-in (Chrome, Linux); each absent when not recognised. */
  device: DeviceDescription;
  signedInAt: number;
  lastSeenAt: number;
  /** The browser looking at the page. */
  current: boolean;
}

export type AccountSessionsDeps = Pick<ProviderContext, 'now'> & { store: Pick<Store, 'sessions'> };

export async function listSessions(current: Session, context: AccountSessionsDeps): Promise<SessionView[]> {
  const sessions = await context.store.sessions.list({ userId: current.userId }, context.now());
  const lastUse = (session: Session) => session.lastSeenAt ?? session.createdAt;
  // The most recently used first.
  return sessions
    .sort((a, b) => lastUse(b) - lastUse(a))
    .map((session) => ({
      sid: session.sid,
      device: describeUserAgent(session.userAgent),
      signedInAt: session.authTime,
      lastSeenAt: session.lastSeenAt ?? session.createdAt,
      current: session.idHash === current.idHash,
    }));
}

export type SignOutDeps = EndSessionDeps & AccountSessionsDeps;

/**
 * Ends the session `sid` of the current session's user (a session of another user is not found:
 * the page can only sign out its own user). True when it ended now.
 */
export async function signOutSession(current: Session, sid: string, context: SignOutDeps): Promise<boolean> {
  const target = await context.store.sessions.getBySid(sid, context.now());
  if (!target || target.userId !== current.userId) return false;
  return endSession(target, context, null);
}

/**
 * Ends every session of the current session's user ("sign out everywhere"), or every one but the
 * current (`keepCurrent`, after a password change). Returns how many ended now.
 */
export async function signOutSessions(
  current: Session,
  context: SignOutDeps,
  options: { keepCurrent: boolean },
): Promise<number> {
  const sessions = await context.store.sessions.list({ userId: current.userId }, context.now());
  let ended = 0;
  for (const session of sessions) {
    if (options.keepCurrent && session.idHash === current.idHash) continue;
    if (await endSession(session, context, null)) ended += 1;
  }
  return ended;
}

const BROWSERS: Array<[RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\//, 'Opera'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/Chrom(?:e|ium)\/|\bCriOS\//, 'Chrome'],
  [/\bSafari\//, 'Safari'],
  [/\bcurl\//, 'curl'],
];
const SYSTEMS: Array<[RegExp, string]> = [
  [/\bAndroid\b/, 'Android'],
  [/\biPhone\b|\biPad\b|\biOS\b/, 'iOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bLinux\b/, 'Linux'],
];

/** A browser as the account page names it: enough to recognise one's own device. */
export interface DeviceDescription {
  browser?: string | undefined;
  system?: string | undefined;
}

/** Firefox and Windows, Chrome alone, or nothing, from a User-Agent header. */
export function describeUserAgent(userAgent: string | undefined): DeviceDescription {
  if (userAgent === undefined || userAgent === '') return {};
  return {
    browser: BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1],
    system: SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1],
  };
}
