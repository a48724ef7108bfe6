/**
 * Who is on the account page (`/account`): the user of the browser's single sign-on session, and
 * the CSRF token that every form of the page carries.
 *
 * The page has no client and no authorization request: it is Gatehouse's own page for the
 * signed-in End-User, like the logout confirmation. Its forms change what the user granted, so
 * each POST must come from this page in this browser and this session (OWASP CSRF Prevention,
 * "synchronizer token"): the token is an HMAC of the browser-binding cookie and the session's
 * public id, so it changes at every sign-in and is useless in any other browser.
 */
import type { Session, Store } from '../../store/store.js';
import type { BrowserState } from '../browser/browser-session.js';
import { currentSession, touchSession } from '../browser/browser-session.js';
import type { ProviderContext } from '../context.js';
import { randomToken } from '../secrets.js';
import { browserCsrfToken, checkBrowserCsrf } from '../browser/browser-csrf.js';
import type { DirectoryUser } from '../users/user-directory.js';

/** The browser as the account page sees it: its binding id (new when it had none) and the signed-in user. */
export interface AccountBrowser {
  browserId: string;
  /** Set when the browser had no binding cookie: the caller sets it. */
  newBrowserId: string | null;
  session: Session | undefined;
  user: DirectoryUser | undefined;
}

export type AccountSessionDeps = Pick<ProviderContext, 'settings' | 'now' | 'users'> & {
  store: Pick<Store, 'sessions'>;
};

/** The browser's binding, session and user; a session of a deleted or disabled user counts as none. */
export async function accountBrowser(browser: BrowserState, context: AccountSessionDeps): Promise<AccountBrowser> {
  const browserId = browser.browserId ?? randomToken(32);
  const newBrowserId = browser.browserId === undefined ? browserId : null;
  const session = await currentSession(browser.sessionId, context);
  const user = session ? await context.users.findById(session.userId) : undefined;
  if (!session || !user || user.disabledAt !== undefined) {
    return { browserId, newBrowserId, session: undefined, user: undefined };
  }
  await touchSession(session, context);
  return { browserId, newBrowserId, session, user };
}

/**
 * The CSRF token of the account page's forms. Signed out, it binds the sign-in form to the
 * browser alone (login CSRF, RFC 6749 §10.12); signed in, to the browser and the session.
 */
export function accountCsrfToken(context: Pick<ProviderContext, 'settings'>, account: AccountBrowser): string {
  return browserCsrfToken(context, CSRF_PURPOSE, csrfBinding(account));
}

const CSRF_PURPOSE = 'gatehouse account csrf v1';

function csrfBinding(account: AccountBrowser): string {
  return `${account.browserId}\u0000${account.session?.sid ?? ''}`;
}

/** Throws CsrfMismatch unless `presented` is the token of this browser (and session). */
export function checkAccountCsrf(
  context: Pick<ProviderContext, 'settings'>,
  account: AccountBrowser,
  presented: string | undefined,
): void {
  // A browser that arrived without a binding cookie cannot have been shown a form.
  checkBrowserCsrf(context, CSRF_PURPOSE, account.newBrowserId === null ? csrfBinding(account) : undefined, presented);
}
