/**
 * Front channel: OpenID Connect RP-Initiated Logout 1.0. The end_session_endpoint takes GET and
 * form POST (§2: "The OP MUST support the use of the HTTP GET and POST methods"); the
 * confirmation page posts to a path of its own. No CORS headers: it is navigated to, never
 * fetched. Every answer is a page or a 303 redirect, with the headers of every other page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import {
  handleEndSessionRequest,
  submitEndSessionConfirmation,
  type EndSessionOutcome,
} from '../../core/logout/end-session.js';
import type { Params } from '../../core/params.js';
import { renderLogoutConfirmPage, renderSignedOutPage } from '../../ui/pages.js';
import { BROWSER_COOKIE, SESSION_COOKIE, secureCookies, serializeCookie } from '../cookies.js';
import { cspAllowingRedirectTo, sendHtml, sendRedirect, pagePath } from '../html-response.js';
import { browserState, formParams, queryParams } from '../request-input.js';
import { pageContext } from '../page-context.js';

/** As for the authorization endpoint: the browser binding cookie outlives any one page. */
const BROWSER_COOKIE_MAX_AGE = 365 * 24 * 3600;

export const LOGOUT_CONFIRM_PATH = `${ENDPOINT_PATHS.endSession}/confirm`;

export function registerLogoutRoutes(app: FastifyInstance, context: ProviderContext): void {
  const secure = secureCookies(context.settings.issuer);

  function respond(request: FastifyRequest, reply: FastifyReply, outcome: EndSessionOutcome): FastifyReply {
    if (outcome.kind === 'signed-out') {
      // The session is gone from the store; the cookie goes too (RFC 6265 §3.1: Max-Age=0).
      if (browserState(request, secure).sessionId !== undefined) {
        reply.header('set-cookie', serializeCookie(SESSION_COOKIE, '', { secure, maxAgeSeconds: 0 }));
      }
      if (outcome.redirectTo !== null) return sendRedirect(reply, outcome.redirectTo);
      const page = pageContext(request, context, outcome.lang !== undefined ? [outcome.lang] : []);
      return sendHtml(reply, 200, renderSignedOutPage({ lang: page.lang }, page.kit));
    }
    if (outcome.newBrowserId !== null) {
      reply.header(
        'set-cookie',
        serializeCookie(BROWSER_COOKIE, outcome.newBrowserId, { secure, maxAgeSeconds: BROWSER_COOKIE_MAX_AGE }),
      );
    }
    const language = pageContext(request, context, outcome.lang !== undefined ? [outcome.lang] : []);
    const page = renderLogoutConfirmPage(
      {
        action: pagePath(context.settings.issuer, LOGOUT_CONFIRM_PATH),
        csrfToken: outcome.csrfToken,
        username: outcome.user.name ?? outcome.user.username,
        clientName: outcome.client ? (outcome.client.clientName ?? outcome.client.clientId) : null,
        fields: outcome.fields,
        lang: language.lang,
      },
      language.kit,
    );
    // form-action must allow the redirect that answers the confirmation POST.
    const csp =
      outcome.postLogoutRedirectUri !== null ? cspAllowingRedirectTo(outcome.postLogoutRedirectUri) : undefined;
    return sendHtml(reply, 200, page, csp);
  }

  async function endSession(request: FastifyRequest, reply: FastifyReply, params: Params) {
    return respond(request, reply, await handleEndSessionRequest(params, browserState(request, secure), context));
  }

  const options = { config: { responseKind: 'html' as const } };
  app.get(ENDPOINT_PATHS.endSession, options, (request, reply) => endSession(request, reply, queryParams(request)));
  app.post(ENDPOINT_PATHS.endSession, options, (request, reply) => endSession(request, reply, formParams(request)));
  app.post(LOGOUT_CONFIRM_PATH, options, async (request, reply) => {
    const form = formParams(request);
    form.assertNoDuplicates();
    return respond(request, reply, await submitEndSessionConfirmation(form, browserState(request, secure), context));
  });
}
