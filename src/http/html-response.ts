/**
 * Sending HTML pages and authorization responses, with the security headers every page needs:
 * a strict CSP with `frame-ancestors 'none'` and X-Frame-Options against clickjacking,
 * `no-referrer` so codes never leak through the Referer header, and `no-store`.
 */
import type { FastifyReply } from 'fastify';
import type { AuthorizationResponse } from '../core/authorize/authorization-response.js';
import { redirectLocation } from '../core/authorize/authorization-response.js';
import { cspSourceForUrl, pageCsp } from '../ui/html.js';
import { renderFormPostPage } from '../ui/pages.js';
import type { PageKit } from '../ui/page-kit.js';

/**
 * The path the browser is sent to for one of Gatehouse's pages (`path` from ENDPOINT_PATHS):
 * below the issuer's path, so that it is right when Gatehouse is mounted under a prefix of an
 * app (src/embed.ts; the issuer then ends in the prefix, RFC 8414 §3.1).
 */
export function pagePath(issuer: string, path: string): string {
  return `${new URL(issuer).pathname.replace(/\/+$/, '')}${path}`;
}

export function sendHtml(reply: FastifyReply, status: number, html: string, csp: string = pageCsp()): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(html);
}

/** A 303 redirect (RFC 9700 §4.12: 303 so a POSTed password is never re-sent). */
export function sendRedirect(reply: FastifyReply, location: string): FastifyReply {
  return reply
    .code(303)
    .header('location', location)
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send();
}

/**
 * Delivers a code or an error to the client in the request's response mode; the form post page
 * in the interaction's language and the server's branding (`page`), when given.
 */
export function sendAuthorizationResponse(
  reply: FastifyReply,
  response: AuthorizationResponse,
  pageOf?: { lang: string; kit: PageKit },
): FastifyReply {
  if (response.target.responseMode === 'form_post') {
    const page = renderFormPostPage(
      { redirectUri: response.target.redirectUri, fields: response.params, lang: pageOf?.lang },
      pageOf?.kit,
    );
    const csp = pageCsp({
      scriptHashes: [page.scriptHash],
      formAction: [cspSourceForUrl(response.target.redirectUri)],
    });
    return sendHtml(reply, 200, page.html, csp);
  }
  return sendRedirect(reply, redirectLocation(response));
}

/** CSP for pages whose form POST may be answered by a redirect to the client. */
export function cspAllowingRedirectTo(redirectUri: string): string {
  return pageCsp({ formAction: [cspSourceForUrl(redirectUri)] });
}
