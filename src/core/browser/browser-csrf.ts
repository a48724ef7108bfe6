/**
 * CSRF tokens of Gatehouse's own forms that belong to no interaction (the device verification
 * page, the account page): an HMAC, under the server secret and a per-form purpose, of the
 * browser-binding cookie value (plus, where the form acts for a session, that session's id).
 * Only a page served to this browser can carry it (OWASP CSRF Prevention, "synchronizer
 * token"), and nothing needs storing.
 */
import type { ProviderContext } from '../context.js';
import { CsrfMismatch } from '../errors.js';
import { safeEqual, secretHmac } from '../secrets.js';

/** The token of a form for `purpose`, bound to `binding` (the browser cookie value, and more). */
export function browserCsrfToken(context: Pick<ProviderContext, 'settings'>, purpose: string, binding: string): string {
  return secretHmac(context.settings.secret, purpose, binding);
}

/** Throws CsrfMismatch unless `presented` is the token of `binding` (undefined: the browser had no binding). */
export function checkBrowserCsrf(
  context: Pick<ProviderContext, 'settings'>,
  purpose: string,
  binding: string | undefined,
  presented: string | undefined,
): void {
  if (binding === undefined || presented === undefined) throw new CsrfMismatch();
  if (!safeEqual(browserCsrfToken(context, purpose, binding), presented)) throw new CsrfMismatch();
}
