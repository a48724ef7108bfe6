/**
 * Front channel: the authorization endpoint, GET and form POST (RFC 6749 §3.1: "MUST support
 * the use of the HTTP GET method ... and MAY support the use of the POST method").
 * No CORS headers: it is navigated to, never fetched.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { handleAuthorizationRequest } from '../../core/authorize/authorization-endpoint.js';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import type { Params } from '../../core/params.js';
import { BROWSER_COOKIE, secureCookies, serializeCookie } from '../cookies.js';
import { sendAuthorizationResponse, sendRedirect, pagePath } from '../html-response.js';
import { browserState, formParams, queryParams } from '../request-input.js';
import { pageContext } from '../page-context.js';

/** The browser binding cookie lives as long as a browser might keep an interaction open. */
export const BROWSER_COOKIE_MAX_AGE = 365 * 24 * 3600;

export function registerAuthorizationRoutes(app: FastifyInstance, context: ProviderContext): void {
  const secure = secureCookies(context.settings.issuer);

  async function authorize(request: FastifyRequest, reply: FastifyReply, params: Params) {
    const outcome = await handleAuthorizationRequest(params, browserState(request, secure), context, request.ip);
    if (outcome.kind === 'respond') {
      // A response without an interaction (prompt=none, single sign-on): the form post page in the
      // request's ui_locales (OIDC Core §3.1.2.1), else the browser's language.
      const uiLocales = (params.get('ui_locales') ?? '').split(' ').filter(Boolean);
      return sendAuthorizationResponse(reply, outcome.response, pageContext(request, context, uiLocales));
    }
    if (outcome.newBrowserId !== null) {
      reply.header(
        'set-cookie',
        serializeCookie(BROWSER_COOKIE, outcome.newBrowserId, { secure, maxAgeSeconds: BROWSER_COOKIE_MAX_AGE }),
      );
    }
    return sendRedirect(
      reply,
      pagePath(context.settings.issuer, `${ENDPOINT_PATHS.interaction}/${outcome.interactionId}`),
    );
  }

  app.get(ENDPOINT_PATHS.authorization, { config: { responseKind: 'html' } }, (request, reply) =>
    authorize(request, reply, queryParams(request)),
  );
  app.post(ENDPOINT_PATHS.authorization, { config: { responseKind: 'html' } }, (request, reply) =>
    authorize(request, reply, formParams(request)),
  );
}
