/**
 * Assertions on the authorization endpoint's answers to a browser: an error page (RFC 6749
 * §4.1.2.1: never a redirect), and an error redirected to the client (with RFC 9207 `iss`).
 */
import assert from 'node:assert/strict';
import { escapeHtml } from '../../src/ui/html.js';
import { assertErrorDescription } from './code-flow.js';
import type { PageResponse } from './user-agent.js';

/** The security headers every HTML page carries. */
export function assertPageHeaders(page: PageResponse): void {
  assert.match(page.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/);
  assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.equal(page.headers.get('cache-control'), 'no-store');
}

/** RFC 6749 §4.1.2.1: an error page shown to the resource owner, never a redirect, showing `texts`. */
export function assertErrorPage(page: PageResponse, status: number, ...texts: string[]): void {
  assert.equal(page.status, status, page.body.slice(0, 500));
  assert.equal(page.location, null, 'an error page must not redirect');
  assert.equal(page.headers.get('access-control-allow-origin'), null);
  assertPageHeaders(page);
  for (const text of texts)
    assert.ok(page.body.includes(escapeHtml(text)), `the page should show ${JSON.stringify(text)}`);
}

/**
 * RFC 6749 §4.1.2.1 + RFC 9207 §2: a 303 to the validated redirect_uri carrying `error`, the
 * exact `state`, and `iss` (the server's `issuer`).
 */
export function assertRedirectError(
  page: PageResponse,
  issuer: string,
  redirectUri: string,
  error: string,
  state: string | null,
): URLSearchParams {
  assert.equal(page.status, 303, page.body.slice(0, 500));
  const location = new URL(page.location!);
  assert.equal(location.href.slice(0, redirectUri.length), redirectUri);
  assert.equal(`${location.protocol}${location.host ? `//${location.host}` : ''}${location.pathname}`, redirectUri);
  assert.equal(location.searchParams.get('error'), error, page.location!);
  assert.equal(location.searchParams.get('state'), state);
  assert.equal(location.searchParams.get('iss'), issuer);
  assert.equal(location.searchParams.get('code'), null);
  assertErrorDescription(location.searchParams.get('error_description') ?? undefined);
  assert.equal(page.headers.get('cache-control'), 'no-store');
  return location.searchParams;
}
