/**
 * The verification page of RFC 8628 §3.3: a signed-in user enters the user code shown on the
 * device, sees which application asks for what, and allows or denies it. The HTTP layer renders
 * the pages; this module decides and records.
 *
 * §5.4 (remote phishing): a code that arrives in the URL (`verification_uri_complete`) only
 * pre-fills the form; the user still submits it and then confirms on a page that shows the code
 * and the application, so a link alone never approves anything.
 *
 * The forms carry a CSRF token derived from the browser-binding cookie (an HMAC under the
 * server secret), so they cannot be submitted from another site or another browser.
 */
import type { Client, DeviceCode, Store } from '../../store/store.js';
import type { DirectoryUser } from '../users/user-directory.js';
import { currentSession, type BrowserState } from '../browser/browser-session.js';
import type { ProviderContext } from '../context.js';
import { beginUserCodeAttempt, type AttemptLimitDeps } from '../limits/attempt-limits.js';
import { randomToken } from '../secrets.js';
import { browserCsrfToken, checkBrowserCsrf } from '../browser/browser-csrf.js';
import { displayUserCode, normaliseUserCode, userCodeHash } from './user-code.js';

/** What the verification page uses: the session and its user, the device codes and their clients, the user code limits. */
export type DeviceVerificationDeps = AttemptLimitDeps &
  Pick<ProviderContext, 'clients' | 'users'> & { store: Pick<Store, 'deviceCodes' | 'sessions' | 'rateLimits'> };

/** The browser as the verification page sees it: its binding (new when it had none) and the forms' CSRF token. */
export interface DeviceBrowser {
  browserId: string;
  /** A binding to set as the browser cookie, when the browser came without one. */
  newBrowserId: string | null;
  csrfToken: string;
}

export function deviceBrowser(browser: BrowserState, context: Pick<ProviderContext, 'settings'>): DeviceBrowser {
  const browserId = browser.browserId ?? randomToken(32);
  return {
    browserId,
    newBrowserId: browser.browserId === undefined ? browserId : null,
    csrfToken: browserCsrfToken(context, CSRF_PURPOSE, browserId),
  };
}

const CSRF_PURPOSE = 'gatehouse device verification csrf v1';

/** Throws CsrfMismatch unless `presented` is the CSRF token of this browser's binding. */
export function checkDeviceCsrf(
  browser: BrowserState,
  presented: string | undefined,
  context: Pick<ProviderContext, 'settings'>,
): void {
  checkBrowserCsrf(context, CSRF_PURPOSE, browser.browserId, presented);
}

export type DevicePage =
  /** Nobody is signed in in this browser: the sign-in form comes first. */
  | { kind: 'login' }
  /** The form for the user code, pre-filled with `userCode` (as typed or from the URI), with an error if any. */
  | { kind: 'enter-code'; user: DirectoryUser; userCode: string | null; error: string | null }
  /** Too many unknown user codes (limits.user_code_ip, limits.user_code_global). */
  | { kind: 'limited'; user: DirectoryUser; userCode: string | null; retryAfterSeconds: number }
  /** The application, its scopes and the code, with the allow and deny buttons. */
  | { kind: 'confirm'; user: DirectoryUser; client: Client; code: DeviceCode; userCode: string }
  /** The decision is recorded; the user goes back to the device. */
  | { kind: 'done'; client: Client; approved: boolean };

/** The signed-in user of this browser, if any. */
async function signedInUser(
  browser: BrowserState,
  context: DeviceVerificationDeps,
): Promise<{ user: DirectoryUser; sid: string; authTime: number } | undefined> {
  const session = await currentSession(browser.sessionId, context);
  if (!session) return undefined;
  const user = await context.users.findById(session.userId);
  return user && { user, sid: session.sid, authTime: session.authTime };
}

/** GET: the sign-in form, or the code form pre-filled with the code of `verification_uri_complete`. */
export async function showDevicePage(
  browser: BrowserState,
  userCode: string | undefined,
  context: DeviceVerificationDeps,
): Promise<DevicePage> {
  const signedIn = await signedInUser(browser, context);
  if (!signedIn) return { kind: 'login' };
  return { kind: 'enter-code', user: signedIn.user, userCode: userCode ?? null, error: null };
}

const UNKNOWN_CODE = 'That code is not valid or has expired. Check the code shown on your device and try again.';

/**
 * POST: without `decision`, looks the code up and shows what it asks for (RFC 8628 §3.3); with
 * `decision` (`allow`, anything else denies), records the user's answer for the device's next
 * poll. Every lookup counts against the user code limits unless the code matches.
 */
export async function submitDevicePage(
  browser: BrowserState,
  form: { csrfToken?: string | undefined; userCode?: string | undefined; decision?: string | undefined },
  context: DeviceVerificationDeps,
  clientIp: string,
): Promise<DevicePage> {
  checkDeviceCsrf(browser, form.csrfToken, context);
  const signedIn = await signedInUser(browser, context);
  if (!signedIn) return { kind: 'login' };
  const { user } = signedIn;
  const typed = form.userCode ?? null;

  const attempt = await beginUserCodeAttempt(context, clientIp);
  if (attempt.limited) return { kind: 'limited', user, userCode: typed, retryAfterSeconds: attempt.retryAfterSeconds };
  const normalised = normaliseUserCode(typed ?? '');
  const now = context.now();
  const code =
    normalised === undefined ? undefined : await context.store.deviceCodes.findPending(userCodeHash(normalised), now);
  const client = code && (await context.clients.get(code.clientId));
  await attempt.finish(client !== undefined, code?.flowId ?? null);
  if (!code || !client || normalised === undefined)
    return { kind: 'enter-code', user, userCode: typed, error: UNKNOWN_CODE };
  if (form.decision === undefined)
    return { kind: 'confirm', user, client, code, userCode: displayUserCode(normalised) };

  const approved = form.decision === 'allow';
  const decided = await context.store.deviceCodes.decide(
    userCodeHash(normalised),
    approved
      ? { status: 'approved', userId: user.id, sid: signedIn.sid, authTime: signedIn.authTime }
      : { status: 'denied', userId: user.id },
    now,
  );
  // Decided meanwhile (another tab, another user) or expired since the lookup.
  if (!decided) return { kind: 'enter-code', user, userCode: typed, error: UNKNOWN_CODE };
  context.events.emit(
    approved
      ? { type: 'consent.granted', flowId: code.flowId, userId: user.id, clientId: client.clientId, scope: code.scope }
      : { type: 'consent.denied', flowId: code.flowId, userId: user.id, clientId: client.clientId },
    now,
  );
  return { kind: 'done', client, approved };
}
