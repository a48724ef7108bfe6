/**
 * The resource owner's pages: sign in and consent. Form field names (`username`, `password`,
 * `csrf_token`, `decision=allow|deny`) are a documented, stable contract for automation.
 * Every POST answers 303 (or, for response_mode=form_post, the auto-submitting form page).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { displayedClient } from '../../core/clients/client-metadata-document.js';
import {
  submitConsent,
  submitLogin,
  viewInteraction,
  type LoadedInteraction,
} from '../../core/authorize/user-interaction.js';
import type { GatehouseSettings } from '../../config/settings.js';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { renderConsentPage, renderLoginPage, unverifiedClient } from '../../ui/pages.js';
import { DEVICE_COOKIE, SESSION_COOKIE, secureCookies, serializeCookie } from '../cookies.js';
import {
  cspAllowingRedirectTo,
  sendAuthorizationResponse,
  sendHtml,
  sendRedirect,
  pagePath,
} from '../html-response.js';
import { browserState, formParams } from '../request-input.js';
import { pageContext, type PageContext } from '../page-context.js';

interface InteractionRoute {
  Params: { id: string };
  Querystring: { failed?: string };
}

const ID_PATTERN = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,64}$' } },
  required: ['id'],
} as const;

/** The login page of an interaction, pre-filled with `username`, with an error message if any. */
function loginPage(
  view: LoadedInteraction,
  username: string | null,
  error: string | undefined,
  issuer: string,
  page: PageContext,
): string {
  return renderLoginPage(
    {
      action: pagePath(issuer, `${ENDPOINT_PATHS.interaction}/${view.interaction.id}/login`),
      csrfToken: view.interaction.csrfToken,
      clientName: displayedClient(view.client).name,
      ...(username !== null ? { username } : {}),
      ...(error !== undefined ? { error } : {}),
      lang: page.lang,
    },
    page.kit,
  );
}

/**
 * The pages of an interaction: in the language its authorization request asked for
 * (`ui_locales`, stored with the interaction, OIDC Core §3.1.2.1), else the browser's
 * (Accept-Language), the same on every page of the interaction.
 */
function interactionPage(request: FastifyRequest, context: ProviderContext, view: LoadedInteraction): PageContext {
  return pageContext(request, context, view.interaction.request.uiLocales);
}

/** The cookies of a sign-in (src/core/browser/sign-in.ts): the new session, and the browser's device cookie. */
export function setSignInCookies(
  reply: FastifyReply,
  signedIn: { sessionId: string; deviceCookie: string },
  settings: GatehouseSettings,
): void {
  const secure = secureCookies(settings.issuer);
  reply.header('set-cookie', [
    serializeCookie(SESSION_COOKIE, signedIn.sessionId, { secure, maxAgeSeconds: settings.sessionTtlSeconds }),
    serializeCookie(DEVICE_COOKIE, signedIn.deviceCookie, { secure, maxAgeSeconds: settings.deviceCookieTtlSeconds }),
  ]);
}

export function registerInteractionRoutes(app: FastifyInstance, context: ProviderContext): void {
  const secure = secureCookies(context.settings.issuer);
  const base = ENDPOINT_PATHS.interaction;
  const options = { config: { responseKind: 'html' as const }, schema: { params: ID_PATTERN } };

  app.get<InteractionRoute>(`${base}/:id`, options, async (request, reply) => {
    const { id } = request.params;
    const view = await viewInteraction(id, browserState(request, secure), context, request.ip);
    if (view.kind === 'respond')
      return sendAuthorizationResponse(reply, view.response, pageContext(request, context, view.uiLocales));
    const csp = cspAllowingRedirectTo(view.interaction.request.redirectUri);
    const { name: clientName, unverified } = displayedClient(view.client);
    const page = interactionPage(request, context, view);
    if (view.kind === 'login') {
      return sendHtml(
        reply,
        200,
        loginPage(
          view,
          (request.query.failed !== undefined ? view.interaction.typedUsername : undefined) ?? view.username,
          request.query.failed !== undefined ? page.t.text('login.failed') : undefined,
          context.settings.issuer,
          page,
        ),
        csp,
      );
    }
    const consent = renderConsentPage(
      {
        action: pagePath(context.settings.issuer, `${base}/${id}/consent`),
        csrfToken: view.interaction.csrfToken,
        clientName,
        clientId: view.client.clientId,
        metadataDocument: unverified,
        username: view.user.name ?? view.user.username,
        scopes: view.interaction.request.scope,
        ...unverifiedClient(view.client, view.interaction.request.redirectUri),
        accountUrl: pagePath(context.settings.issuer, ENDPOINT_PATHS.account),
        lang: page.lang,
      },
      page.kit,
    );
    return sendHtml(reply, 200, consent, csp);
  });

  app.post<InteractionRoute>(`${base}/:id/login`, options, async (request, reply): Promise<FastifyReply> => {
    const { id } = request.params;
    // The password alone may hold any character: it is never shown or logged.
    const form = formParams(request, { controlCharactersAllowedIn: ['password'] });
    form.assertNoDuplicates();
    const result = await submitLogin(
      id,
      browserState(request, secure),
      { csrfToken: form.get('csrf_token'), username: form.get('username'), password: form.get('password') },
      context,
      request.ip,
    );
    // Post/Redirect/Get (RFC 9700 §4.12: a 303, never a 307 that would re-post the password); the
    // interaction keeps the username as typed for the login page (the same answer whether the
    // user exists or not).
    if (result.kind === 'failed')
      return sendRedirect(reply, pagePath(context.settings.issuer, `${base}/${id}?failed=1`));
    if (result.kind === 'limited') {
      // RFC 6585 §4: 429 with Retry-After; the same page and words whether the user exists or not.
      reply.header('retry-after', String(result.retryAfterSeconds));
      const page = interactionPage(request, context, result);
      const message = page.t.text('login.limited', { wait: page.t.waitingTime(result.retryAfterSeconds) });
      return sendHtml(
        reply,
        429,
        loginPage(result, result.username, message, context.settings.issuer, page),
        cspAllowingRedirectTo(result.interaction.request.redirectUri),
      );
    }
    setSignInCookies(reply, result, context.settings);
    if (result.next.kind === 'respond')
      return sendAuthorizationResponse(
        reply,
        result.next.response,
        pageContext(request, context, result.next.uiLocales),
      );
    return sendRedirect(reply, pagePath(context.settings.issuer, `${base}/${id}`));
  });

  app.post<InteractionRoute>(`${base}/:id/consent`, options, async (request, reply): Promise<FastifyReply> => {
    const { id } = request.params;
    const form = formParams(request);
    form.assertNoDuplicates();
    const result = await submitConsent(
      id,
      browserState(request, secure),
      { csrfToken: form.get('csrf_token'), decision: form.get('decision') },
      context,
      request.ip,
    );
    if (result.kind === 'login') return sendRedirect(reply, pagePath(context.settings.issuer, `${base}/${id}`));
    return sendAuthorizationResponse(reply, result.response, pageContext(request, context, result.uiLocales));
  });
}
