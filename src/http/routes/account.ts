/**
 * Front channel: the End-User's account page, `/account` (src/core/account/). GET shows the page,
 * or the sign-in form when the browser has no session; each action is a form POST with the
 * page's CSRF token, answered by a 303 back to the page (Post/Redirect/Get, RFC 9110 §15.4.4) so
 * that reloading never repeats it. A refused password change shows the page again with the
 * reason, without the passwords.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import {
  accountBrowser,
  accountCsrfToken,
  checkAccountCsrf,
  type AccountBrowser,
} from '../../core/account/account-session.js';
import { listSessions, signOutSession, signOutSessions } from '../../core/account/account-sessions.js';
import { listConnectedApps, revokeConnectedApp } from '../../core/account/connected-apps.js';
import { changePassword } from '../../core/account/password-change.js';
import { signIn } from '../../core/browser/sign-in.js';
import { ACCOUNT_NOTICES, renderAccountPage, type AccountNotice, type PasswordError } from '../../ui/account-pages.js';
import { renderLoginPage } from '../../ui/pages.js';
import { BROWSER_COOKIE, SESSION_COOKIE, secureCookies, serializeCookie } from '../cookies.js';
import { pagePath, sendHtml, sendRedirect } from '../html-response.js';
import { browserState, formParams, queryParams } from '../request-input.js';
import { BROWSER_COOKIE_MAX_AGE } from './authorize.js';
import { setSignInCookies } from './interaction.js';
import { pageContext, type PageContext } from '../page-context.js';

const PAGE = ENDPOINT_PATHS.account;
const PATHS = {
  login: `${PAGE}/login`,
  revokeApp: `${PAGE}/apps/revoke`,
  signOutSession: `${PAGE}/sessions/sign-out`,
  signOutEverywhere: `${PAGE}/sessions/sign-out-all`,
  changePassword: `${PAGE}/password`,
} as const;

export function registerAccountRoutes(app: FastifyInstance, context: ProviderContext): void {
  const secure = secureCookies(context.settings.issuer);
  const html = { config: { responseKind: 'html' as const } };
  const path = (to: string) => pagePath(context.settings.issuer, to);

  function setBrowserCookie(reply: FastifyReply, account: AccountBrowser): void {
    if (account.newBrowserId === null) return;
    reply.header(
      'set-cookie',
      serializeCookie(BROWSER_COOKIE, account.newBrowserId, { secure, maxAgeSeconds: BROWSER_COOKIE_MAX_AGE }),
    );
  }

  function sendLogin(
    reply: FastifyReply,
    page: PageContext,
    account: AccountBrowser,
    error?: string,
    status = 200,
  ): FastifyReply {
    setBrowserCookie(reply, account);
    return sendHtml(
      reply,
      status,
      renderLoginPage(
        {
          action: path(PATHS.login),
          csrfToken: accountCsrfToken(context, account),
          clientName: page.t.text('login.account_title'),
          forAccount: true,
          lang: page.lang,
          ...(error !== undefined ? { error } : {}),
        },
        page.kit,
      ),
    );
  }

  async function sendAccount(
    reply: FastifyReply,
    page: PageContext,
    account: AccountBrowser,
    extra: { notice?: AccountNotice | undefined; passwordError?: PasswordError; status?: number } = {},
  ): Promise<FastifyReply> {
    const session = account.session!;
    const user = account.user!;
    const apps = await listConnectedApps(user.id, context);
    const sessions = await listSessions(session, context);
    setBrowserCookie(reply, account);
    return sendHtml(
      reply,
      extra.status ?? 200,
      renderAccountPage(
        {
          actions: {
            revokeApp: path(PATHS.revokeApp),
            signOutSession: path(PATHS.signOutSession),
            signOutEverywhere: path(PATHS.signOutEverywhere),
            changePassword: path(PATHS.changePassword),
            signOut: path(ENDPOINT_PATHS.endSession),
          },
          csrfToken: accountCsrfToken(context, account),
          username: user.username,
          name: user.name,
          apps,
          sessions,
          notice: extra.notice,
          passwordError: extra.passwordError,
          canChangePassword: context.users.changePassword !== undefined,
          lang: page.lang,
        },
        page.kit,
      ),
    );
  }

  /** The signed-in browser of a POST whose CSRF token checks out; undefined (after a 303 to the page) when signed out. */
  async function signedInPost(request: FastifyRequest, reply: FastifyReply) {
    const form = formParams(request, {
      controlCharactersAllowedIn: ['current_password', 'new_password', 'confirm_password'],
    });
    form.assertNoDuplicates();
    const account = await accountBrowser(browserState(request, secure), context);
    if (account.session === undefined) {
      sendRedirect(reply, path(PAGE));
      return undefined;
    }
    checkAccountCsrf(context, account, form.get('csrf_token'));
    return { account, form, session: account.session, user: account.user! };
  }

  app.get(PAGE, html, async (request, reply) => {
    const query = queryParams(request);
    query.assertNoDuplicates();
    const account = await accountBrowser(browserState(request, secure), context);
    const page = pageContext(request, context);
    if (account.session === undefined) {
      return sendLogin(reply, page, account, query.has('failed') ? page.t.text('login.failed') : undefined);
    }
    const done = query.get('done') ?? '';
    const notice = Object.hasOwn(ACCOUNT_NOTICES, done) ? (done as AccountNotice) : undefined;
    return sendAccount(reply, page, account, { notice });
  });

  app.post(PATHS.login, html, async (request, reply) => {
    // The password alone may hold any character: it is never shown or logged.
    const form = formParams(request, { controlCharactersAllowedIn: ['password'] });
    form.assertNoDuplicates();
    const state = browserState(request, secure);
    const account = await accountBrowser(state, context);
    // Signed in meanwhile (another tab): the page, not a second sign-in.
    if (account.session !== undefined) return sendRedirect(reply, path(PAGE));
    checkAccountCsrf(context, account, form.get('csrf_token'));
    const result = await signIn(
      state,
      { username: form.get('username'), password: form.get('password') },
      { flowId: null, clientId: null },
      context,
      request.ip,
    );
    if (result.kind === 'failed') return sendRedirect(reply, `${path(PAGE)}?failed=1`);
    if (result.kind === 'limited') {
      // RFC 6585 §4: 429 with Retry-After; the same page and words whether the user exists or not.
      reply.header('retry-after', String(result.retryAfterSeconds));
      const page = pageContext(request, context);
      const message = page.t.text('login.limited', { wait: page.t.waitingTime(result.retryAfterSeconds) });
      return sendLogin(reply, page, account, message, 429);
    }
    setSignInCookies(reply, result, context.settings);
    return sendRedirect(reply, path(PAGE));
  });

  app.post(PATHS.revokeApp, html, async (request, reply) => {
    const post = await signedInPost(request, reply);
    if (!post) return reply;
    const clientId = post.form.get('client_id') ?? '';
    const revoked = clientId !== '' && (await revokeConnectedApp(post.user.id, clientId, context));
    return sendRedirect(reply, `${path(PAGE)}?done=${revoked ? 'app-removed' : 'app-unchanged'}`);
  });

  app.post(PATHS.signOutSession, html, async (request, reply) => {
    const post = await signedInPost(request, reply);
    if (!post) return reply;
    const sid = post.form.get('sid') ?? '';
    // The page offers no button for its own session ("Sign out of this browser" is RP-Initiated Logout's).
    if (sid !== '' && sid !== post.session.sid) await signOutSession(post.session, sid, context);
    return sendRedirect(reply, `${path(PAGE)}?done=session-ended`);
  });

  app.post(PATHS.signOutEverywhere, html, async (request, reply) => {
    const post = await signedInPost(request, reply);
    if (!post) return reply;
    await signOutSessions(post.session, context, { keepCurrent: false });
    // This browser's session ended too: its cookie goes (RFC 6265 §3.1: Max-Age=0).
    reply.header('set-cookie', serializeCookie(SESSION_COOKIE, '', { secure, maxAgeSeconds: 0 }));
    return sendRedirect(reply, path(PAGE));
  });

  app.post(PATHS.changePassword, html, async (request, reply) => {
    const post = await signedInPost(request, reply);
    if (!post) return reply;
    const state = browserState(request, secure);
    const result = await changePassword(
      post.session,
      post.user,
      {
        currentPassword: post.form.get('current_password'),
        newPassword: post.form.get('new_password'),
        confirmPassword: post.form.get('confirm_password'),
        signOutOthers: post.form.get('sign_out_others') === '1',
      },
      context,
      request.ip,
      state.deviceCookie,
    );
    const page = pageContext(request, context);
    switch (result.kind) {
      case 'changed':
        return sendRedirect(
          reply,
          `${path(PAGE)}?done=${result.sessionsEnded > 0 ? 'password-changed-signed-out' : 'password-changed'}`,
        );
      case 'refused':
        return sendAccount(reply, page, post.account, {
          passwordError: { field: result.field, reason: result.reason },
          status: 400,
        });
      case 'limited':
        reply.header('retry-after', String(result.retryAfterSeconds));
        return sendAccount(reply, page, post.account, {
          passwordError: { field: 'current_password', reason: 'limited', retryAfterSeconds: result.retryAfterSeconds },
          status: 429,
        });
      case 'unsupported':
        return sendAccount(reply, page, post.account, {
          passwordError: { field: 'current_password', reason: 'unsupported' },
          status: 400,
        });
    }
  });
}
