/**
 * Headers on every response, whichever route (or error path) produced it:
 *
 * - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` everywhere, so no
 *   response is sniffed into another type and no URL carrying a code or a token leaks through
 *   the Referer header (RFC 9700 §4.2.4).
 * - HTML that did not come through sendHtml (html-response.ts sets a page's own CSP) gets the
 *   default page CSP with `frame-ancestors 'none'` and X-Frame-Options: no page can be framed.
 * - `Strict-Transport-Security` on responses served over https (directly, or behind a trusted
 *   proxy that says so in X-Forwarded-Proto), RFC 6797 §7.1; never over plain http (§7.2).
 * - `X-Request-Id`: the id of the request in the logs (logging.ts).
 * - With a theme (src/ui/branding.ts), every page's CSP allows the theme stylesheet by its exact
 *   URL in `style-src` (a source with a path matches that file only, CSP3 §6.7.2.8): the
 *   narrowest change that lets it load. `themeSource` gives it, from the current issuer.
 */
import type { FastifyInstance } from 'fastify';
import { pageCsp, withStyleSource } from '../ui/html.js';

/** One year, the usual HSTS max-age (RFC 6797 §6.1.1); subdomains are the operator's choice. */
export const HSTS_VALUE = 'max-age=31536000';

export function addSecurityHeaders(app: FastifyInstance, themeSource: () => string | null = () => null): void {
  // A callback-style hook: it runs on every response, and an async one costs a promise each.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'no-referrer');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html') && !reply.hasHeader('content-security-policy')) {
      reply.header('content-security-policy', pageCsp()).header('x-frame-options', 'DENY');
    }
    const theme = themeSource();
    if (theme !== null && type.startsWith('text/html')) {
      reply.header(
        'content-security-policy',
        withStyleSource(String(reply.getHeader('content-security-policy')), theme),
      );
    }
    if (request.protocol === 'https') reply.header('strict-transport-security', HSTS_VALUE);
    done(null, payload);
  });
}
