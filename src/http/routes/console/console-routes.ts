/**
 * The web console under `/console` (docs/operating.md, Console): a client of this server. A
 * browser without a console session is sent through the authorization code flow with PKCE
 * (src/core/console/: the built-in client `gatehouse-console`, consent skipped as first party);
 * the callback exchanges the code at this server's own token endpoint (an in-process request
 * through the same route as any client's, so the console gets no shortcut past client checks,
 * PKCE or the resource indicator) and keeps the admin API access token in a sealed cookie.
 *
 * How it acts: every page and action checks that token exactly as the admin API's guard does
 * (src/http/routes/admin/admin-guard.ts: the same verifier, then authorizeAdmin with the
 * route's family and access), and then calls the same core functions the admin API calls
 * (src/core/admin/*) with the token's user as the actor. One code path for validation, change
 * events and the audit trail, without a second HTTP round trip for each page; the audit trail
 * records these changes with source `console`.
 *
 * Pages answer GET; every change is a form POST with the console session's CSRF token, answered
 * by a 303 (Post/Redirect/Get, RFC 9110 §15.4.4), or by the form again with the refusal.
 * Mounted on the main listener only: its redirect URI is the issuer's (with `admin.listen`, put
 * /console behind the same network restriction, or set `console.enabled: false`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import {
  authorizeAdmin,
  type AdminAccess,
  type AdminActor,
  type AdminFamily,
} from '../../../core/admin/admin-access.js';
import { CONSOLE_PATH, consoleEnabled, ensureConsoleClient } from '../../../core/console/console-client.js';
import {
  checkConsoleCsrf,
  consoleCsrfToken,
  consoleReturnPath,
  consoleTokenRequest,
  newConsoleSession,
  openConsoleState,
  sealConsoleState,
  startConsoleSignIn,
} from '../../../core/console/console-session.js';
import { ENDPOINT_PATHS, type ProviderContext } from '../../../core/context.js';
import { AdminProblem, AdminTokenRefused } from '../../../core/errors.js';
import { BearerError } from '../../../resource/resource.js';
import { html } from '../../../ui/html.js';
import { consoleMessagePage, sectionPath } from '../../../ui/console-kit.js';
import type { MessageKey } from '../../../ui/i18n.js';
import { parseCookies, readCookie, secureCookies, serializeCookie } from '../../cookies.js';
import { pagePath, sendHtml, sendRedirect } from '../../html-response.js';
import { pageContext, type PageContext } from '../../page-context.js';
import { formParams, queryParams } from '../../request-input.js';
import { adminTokenVerifier } from '../admin/admin-guard.js';
import { registerConsoleClientRoutes } from './console-client-routes.js';
import { registerConsoleOperationRoutes } from './console-operation-routes.js';
import { HTML_ROUTE, NOTICES, type ConsoleNotice, type ConsoleRoutes } from './console-context.js';

/** The console's cookie: the sealed sign-in in progress, or the console session. */
export const CONSOLE_COOKIE = 'gh_console';

export function registerConsoleRoutes(app: FastifyInstance, context: ProviderContext): void {
  if (!consoleEnabled(context.settings)) return;
  const secure = secureCookies(context.settings.issuer);
  const verifier = adminTokenVerifier(context);
  const base = () => pagePath(context.settings.issuer, CONSOLE_PATH);
  const cookieOf = (request: FastifyRequest) =>
    openConsoleState(
      context.settings.secret,
      readCookie(parseCookies(request.headers.cookie), CONSOLE_COOKIE, secure),
      context.now(),
    );
  const setCookie = (reply: FastifyReply, value: string, maxAgeSeconds: number) =>
    reply.header('set-cookie', serializeCookie(CONSOLE_COOKIE, value, { secure, maxAgeSeconds }));

  /** RFC 6749 §4.1.1: off to the authorization endpoint, remembering where to come back to. */
  async function sendToSignIn(reply: FastifyReply, returnTo: string): Promise<FastifyReply> {
    await ensureConsoleClient(context);
    const issuer = context.settings.issuer;
    const { signIn, url } = startConsoleSignIn(
      issuer,
      pagePath(issuer, ENDPOINT_PATHS.authorization),
      consoleReturnPath(returnTo, pagePath(issuer, '')),
      context.now(),
    );
    setCookie(
      reply,
      sealConsoleState(context.settings.secret, signIn),
      Math.floor((signIn.expiresAt - context.now()) / 1000),
    );
    return sendRedirect(reply, url);
  }

  function sendMessage(reply: FastifyReply, page: PageContext, status: number, title: MessageKey, message: MessageKey) {
    const links = html`<p class="foot"><a href="${base()}">${page.t.t('console.sign_in_again')}</a> · <a href="${pagePath(context.settings.issuer, ENDPOINT_PATHS.endSession)}">${page.t.t('console.sign_out')}</a></p>`;
    return sendHtml(
      reply,
      status,
      consoleMessagePage({ t: page.t, kit: page.kit, lang: page.lang }, page.t.text(title), page.t.t(message), links),
    );
  }

  /** The actor of a token, or why there is none: sign in again, or not an administrator. */
  async function actorOf(
    token: string,
    family: AdminFamily,
    access: AdminAccess,
  ): Promise<AdminActor | 'sign-in' | 'forbidden'> {
    try {
      const claims = await verifier().verifyToken(token);
      return await authorizeAdmin(claims, family, access, context);
    } catch (error) {
      if (error instanceof BearerError || error instanceof AdminTokenRefused) return 'sign-in';
      if (error instanceof AdminProblem && error.status === 403) return 'forbidden';
      throw error;
    }
  }

  const routes: ConsoleRoutes = {
    context,
    base,
    async open(request, reply, section, family, access) {
      const page = pageContext(request, context);
      const isPost = request.method === 'POST';
      const form = isPost
        ? formParams(request, { controlCharactersAllowedIn: ['password', 'redirect_uris', 'introspection_client_ids'] })
        : queryParams(request);
      form.assertNoDuplicates();
      const state = cookieOf(request);
      if (state?.kind !== 'session') {
        // A form posted without a session goes back to its page once signed in, never replayed.
        await sendToSignIn(reply, isPost ? sectionPath(base(), section) : (request.raw.url ?? base()));
        return undefined;
      }
      if (isPost) checkConsoleCsrf(context, state, form.get('csrf_token'));
      const actor = await actorOf(state.accessToken, family, access);
      if (actor === 'sign-in') {
        await sendToSignIn(reply, isPost ? base() : (request.raw.url ?? base()));
        return undefined;
      }
      if (actor === 'forbidden') {
        sendMessage(reply, page, 403, 'console.forbidden_title', 'console.forbidden_text');
        return undefined;
      }
      return {
        page,
        actor,
        session: state,
        form,
        query: isPost ? queryParams(request) : form,
        origin: { source: 'console', actor: { clientId: actor.clientId, userId: actor.userId } },
        frame: {
          f: { t: page.t, kit: page.kit, lang: page.lang },
          base: base(),
          csrfToken: consoleCsrfToken(context, state),
          username: actor.username ?? actor.clientId,
          section,
        },
      };
    },
    notice(call) {
      const done = call.query.get('done') ?? '';
      return Object.hasOwn(NOTICES, done) ? call.page.t.t(NOTICES[done as ConsoleNotice]) : undefined;
    },
    send: (reply, page, status = 200) => sendHtml(reply, status, page),
    redirect: (reply, path, done) => sendRedirect(reply, done === undefined ? path : `${path}?done=${done}`),
    notFound: (reply, call) => sendMessage(reply, call.page, 404, 'console.not_found_title', 'console.not_found_text'),
  };

  app.get(`${CONSOLE_PATH}/callback`, HTML_ROUTE, async (request, reply) => {
    const query = queryParams(request);
    query.assertNoDuplicates();
    const page = pageContext(request, context);
    const state = cookieOf(request);
    // RFC 6749 §10.12: only the sign-in this browser started; anything else starts over.
    if (state?.kind !== 'sign-in' || query.get('state') !== state.state)
      return sendMessage(reply, page, 400, 'console.sign_in_failed_title', 'console.sign_in_stale');
    // RFC 6749 §4.1.2.1: the authorization server refused (e.g. the user denied, or prompt=none).
    const code = query.get('code');
    if (query.has('error') || code === undefined)
      return sendMessage(reply, page, 400, 'console.sign_in_failed_title', 'console.sign_in_refused');
    const issuer = context.settings.issuer;
    const response = await request.server.inject({
      method: 'POST',
      url: pagePath(issuer, ENDPOINT_PATHS.token),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(consoleTokenRequest(issuer, state, code)).toString(),
    });
    const body = response.json() as { access_token?: string; expires_in?: number; id_token?: string };
    if (response.statusCode !== 200 || body.access_token === undefined || body.id_token === undefined)
      return sendMessage(reply, page, 400, 'console.sign_in_failed_title', 'console.sign_in_refused');
    // OpenID Connect Core §3.1.3.7 item 11: the ID token is of this sign-in (it came straight from
    // this server's token endpoint, so its signature needs no second check here).
    if (decodeJwt(body.id_token)['nonce'] !== state.nonce)
      return sendMessage(reply, page, 400, 'console.sign_in_failed_title', 'console.sign_in_stale');
    const actor = await actorOf(body.access_token, 'clients', 'read');
    if (actor === 'sign-in')
      return sendMessage(reply, page, 400, 'console.sign_in_failed_title', 'console.sign_in_refused');
    if (actor === 'forbidden') {
      setCookie(reply, '', 0);
      return sendMessage(reply, page, 403, 'console.forbidden_title', 'console.forbidden_text');
    }
    const session = newConsoleSession(body.access_token, body.expires_in ?? 300, actor.userId ?? '', context.now());
    setCookie(reply, sealConsoleState(context.settings.secret, session), Math.floor(body.expires_in ?? 300));
    return sendRedirect(reply, state.returnTo);
  });

  app.post(`${CONSOLE_PATH}/sign-out`, HTML_ROUTE, async (request, reply) => {
    const form = formParams(request);
    const state = cookieOf(request);
    if (state?.kind === 'session') {
      checkConsoleCsrf(context, state, form.get('csrf_token'));
      // RFC 7009 §2.1: the console's access token is revoked, not merely forgotten by the browser.
      const jti = decodeJwt(state.accessToken).jti;
      if (jti !== undefined) await context.store.accessTokens.revoke(jti, context.now());
    }
    setCookie(reply, '', 0);
    // The single sign-on session is ended by RP-Initiated Logout's own confirmation page.
    return sendRedirect(reply, pagePath(context.settings.issuer, ENDPOINT_PATHS.endSession));
  });

  registerConsoleClientRoutes(app, routes);
  registerConsoleOperationRoutes(app, routes);
}
