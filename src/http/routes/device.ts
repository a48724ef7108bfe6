/**
 * RFC 8628: the device authorization endpoint (back channel, JSON, §3.1-3.2) and the
 * verification page (front channel, §3.3). The page's form fields are the same contract as the
 * login and consent pages': `username`, `password`, `csrf_token`, `user_code`,
 * `decision=allow|deny`. Every POST of the page answers with a page or a 303.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { signIn } from '../../core/browser/sign-in.js';
import { handleDeviceAuthorization } from '../../core/device/device-authorization-endpoint.js';
import {
  checkDeviceCsrf,
  deviceBrowser,
  showDevicePage,
  submitDevicePage,
  type DevicePage,
} from '../../core/device/device-verification.js';
import {
  renderConsentPage,
  renderDeviceCodePage,
  renderDeviceDonePage,
  renderLoginPage,
  unverifiedClient,
} from '../../ui/pages.js';
import { BROWSER_COOKIE, secureCookies, serializeCookie } from '../cookies.js';
import { sendOAuthJson } from '../error-responses.js';
import { sendHtml, sendRedirect, pagePath } from '../html-response.js';
import { browserState, formParams, queryParams } from '../request-input.js';
import { BROWSER_COOKIE_MAX_AGE } from './authorize.js';
import { setSignInCookies } from './interaction.js';
import { pageContext } from '../page-context.js';

const PAGE = ENDPOINT_PATHS.deviceVerification;
const LOGIN = `${PAGE}/login`;

/** `path` with the user code carried along (it pre-fills the code form after signing in). */
function withUserCode(path: string, userCode: string | undefined, extra = ''): string {
  const query = [userCode === undefined ? '' : `user_code=${encodeURIComponent(userCode)}`, extra].filter(Boolean);
  return query.length > 0 ? `${path}?${query.join('&')}` : path;
}

export function registerDeviceRoutes(app: FastifyInstance, context: ProviderContext): void {
  const secure = secureCookies(context.settings.issuer);
  const html = { config: { responseKind: 'html' as const } };

  // RFC 8628 §3.1: POST only, client authentication as at the token endpoint; §3.2: the response
  // is JSON, not cached (RFC 6749 §5.1 through sendOAuthJson).
  app.post(ENDPOINT_PATHS.deviceAuthorization, { config: { responseKind: 'json' } }, async (request, reply) => {
    const response = await handleDeviceAuthorization(
      { params: formParams(request), authorization: request.headers.authorization, clientIp: request.ip },
      context,
    );
    return sendOAuthJson(reply, 200, response);
  });

  /** The page for `view`, with the browser binding cookie set when the browser had none. */
  function sendPage(
    request: FastifyRequest,
    reply: FastifyReply,
    view: DevicePage,
    browser: ReturnType<typeof deviceBrowser>,
    userCode: string | undefined,
    login: { error?: 'login.failed' | 'login.limited' | undefined; wait?: number; status?: number } = {},
  ): FastifyReply {
    if (browser.newBrowserId !== null) {
      reply.header(
        'set-cookie',
        serializeCookie(BROWSER_COOKIE, browser.newBrowserId, { secure, maxAgeSeconds: BROWSER_COOKIE_MAX_AGE }),
      );
    }
    const csrfToken = browser.csrfToken;
    // RFC 8628 has no ui_locales: the pages follow the browser's Accept-Language.
    const page = pageContext(request, context);
    const { t, lang, kit } = page;
    switch (view.kind) {
      case 'login':
        return sendHtml(
          reply,
          login.status ?? 200,
          renderLoginPage(
            {
              action: withUserCode(pagePath(context.settings.issuer, LOGIN), userCode),
              csrfToken,
              clientName: t.text('login.device_client'),
              forDevice: true,
              ...(login.error !== undefined
                ? { error: t.text(login.error, { wait: t.waitingTime(login.wait ?? 0) }) }
                : {}),
              lang,
            },
            kit,
          ),
        );
      case 'enter-code':
      case 'limited': {
        const limited = view.kind === 'limited';
        if (limited) reply.header('retry-after', String(view.retryAfterSeconds));
        const error = limited
          ? t.text('device.limited', { wait: t.waitingTime(view.retryAfterSeconds) })
          : view.error === null
            ? null
            : t.text('device.unknown_code');
        return sendHtml(
          reply,
          limited ? 429 : view.error === null ? 200 : 400,
          renderDeviceCodePage(
            {
              action: pagePath(context.settings.issuer, PAGE),
              csrfToken,
              username: view.user.name ?? view.user.username,
              userCode: view.userCode,
              error,
              lang,
            },
            kit,
          ),
        );
      }
      case 'confirm':
        return sendHtml(
          reply,
          200,
          renderConsentPage(
            {
              action: pagePath(context.settings.issuer, PAGE),
              csrfToken,
              clientName: view.client.clientName ?? view.client.clientId,
              clientId: view.client.clientId,
              username: view.user.name ?? view.user.username,
              scopes: view.code.scope,
              userCode: view.userCode,
              ...unverifiedClient(view.client, null),
              accountUrl: pagePath(context.settings.issuer, ENDPOINT_PATHS.account),
              lang,
            },
            kit,
          ),
        );
      case 'done':
        return sendHtml(
          reply,
          200,
          renderDeviceDonePage(
            { clientName: view.client.clientName ?? view.client.clientId, approved: view.approved, lang },
            kit,
          ),
        );
    }
  }

  app.get(PAGE, html, async (request, reply) => {
    const query = queryParams(request);
    query.assertNoDuplicates();
    const state = browserState(request, secure);
    const userCode = query.get('user_code');
    const view = await showDevicePage(state, userCode, context);
    const failed = query.has('failed') ? ('login.failed' as const) : undefined;
    return sendPage(request, reply, view, deviceBrowser(state, context), userCode, { error: failed });
  });

  app.post(PAGE, html, async (request, reply) => {
    const form = formParams(request);
    form.assertNoDuplicates();
    const state = browserState(request, secure);
    const userCode = form.get('user_code');
    const view = await submitDevicePage(
      state,
      { csrfToken: form.get('csrf_token'), userCode, decision: form.get('decision') },
      context,
      request.ip,
    );
    // Signed out meanwhile: sign in again, the code carried along.
    if (view.kind === 'login')
      return sendRedirect(reply, withUserCode(pagePath(context.settings.issuer, PAGE), userCode));
    return sendPage(request, reply, view, deviceBrowser(state, context), userCode);
  });

  app.post(LOGIN, html, async (request, reply) => {
    const userCode = queryParams(request).get('user_code');
    // The password alone may hold any character: it is never shown or logged.
    const form = formParams(request, { controlCharactersAllowedIn: ['password'] });
    form.assertNoDuplicates();
    const state = browserState(request, secure);
    checkDeviceCsrf(state, form.get('csrf_token'), context);
    const result = await signIn(
      state,
      { username: form.get('username'), password: form.get('password') },
      { flowId: null, clientId: null },
      context,
      request.ip,
    );
    if (result.kind === 'failed')
      return sendRedirect(reply, withUserCode(pagePath(context.settings.issuer, PAGE), userCode, 'failed=1'));
    if (result.kind === 'limited') {
      // RFC 6585 §4: 429 with Retry-After; the same page and words whether the user exists or not.
      reply.header('retry-after', String(result.retryAfterSeconds));
      return sendPage(request, reply, { kind: 'login' }, deviceBrowser(state, context), userCode, {
        error: 'login.limited',
        wait: result.retryAfterSeconds,
        status: 429,
      });
    }
    setSignInCookies(reply, result, context.settings);
    return sendRedirect(reply, withUserCode(pagePath(context.settings.issuer, PAGE), userCode));
  });
}
