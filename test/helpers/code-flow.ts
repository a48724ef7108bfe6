/**
 * Helpers for protocol tests that need an authorization code or talk to the token endpoint
 * with plain `fetch`: building authorization URLs, running the login/consent pages through the
 * scripted browser, and posting form-encoded token requests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { s256Challenge } from '../../src/core/pkce.js';
import { ALICE } from './server.js';
import { UserAgent, isLoginPage, type PageResponse } from './user-agent.js';

export function newVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** An authorization URL; `undefined` values in `params` leave the parameter out. */
export function authorizeUrl(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  params: Record<string, string | undefined>,
): string {
  const url = new URL('/authorize', gatehouse.url);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.href;
}

/**
 * A valid authorization request of `client` (RFC 6749 §4.1.1, with RFC 7636 §4.3 PKCE S256):
 * its first redirect URI, scope "openid profile", state "xyz"; `overrides` vary it.
 */
export function authorizeParams(
  client: ClientFixture,
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0],
    scope: 'openid profile',
    state: 'xyz',
    code_challenge: s256Challenge(newVerifier()),
    code_challenge_method: 'S256',
    ...overrides,
  };
}

/** Navigates `ua` to the authorization request `params` and returns the login page it leads to. */
export async function openLoginPage(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  ua: UserAgent,
  params: Record<string, string | undefined>,
): Promise<PageResponse> {
  const page = await ua.navigate(authorizeUrl(gatehouse, params));
  assert.ok(isLoginPage(page), page.body.slice(0, 300));
  return page;
}

export interface ObtainedCode {
  code: string;
  verifier: string | null;
  state: string;
  redirectUri: string;
  ua: UserAgent;
  final: PageResponse;
}

/**
 * Runs an authorization request through login and consent and returns the code.
 * `pkce: false` sends no code_challenge (only for clients registered with require_pkce: false).
 */
export async function obtainCode(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  client: ClientFixture,
  options: {
    redirectUri?: string;
    scope?: string;
    pkce?: boolean;
    sendRedirectUri?: boolean;
    nonce?: string;
    ua?: UserAgent;
  } = {},
): Promise<ObtainedCode> {
  const redirectUri = options.redirectUri ?? client.redirect_uris[0]!;
  const verifier = options.pkce === false ? null : newVerifier();
  const state = randomBytes(8).toString('hex');
  const ua = options.ua ?? new UserAgent(gatehouse.url);
  const url = authorizeUrl(gatehouse, {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: options.sendRedirectUri === false ? undefined : redirectUri,
    scope: options.scope ?? 'openid profile',
    state,
    nonce: options.nonce,
    code_challenge: verifier === null ? undefined : s256Challenge(verifier),
    code_challenge_method: verifier === null ? undefined : 'S256',
  });
  const final = await ua.authorize(url, ALICE);
  assert.equal(
    final.status,
    303,
    `expected a redirect to the client, got ${final.status}: ${final.body.slice(0, 300)}`,
  );
  const location = new URL(final.location!);
  assert.equal(location.searchParams.get('state'), state);
  const code = location.searchParams.get('code');
  assert.ok(code, `no code in ${final.location}`);
  return { code, verifier, state, redirectUri, ua, final };
}

export interface TokenResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

/** POSTs a form to the token endpoint; `basic` adds `Authorization: Basic` per RFC 6749 §2.3.1. */
export function postToken(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  form: Record<string, string | undefined> | string,
  options: FormPostOptions = {},
): Promise<TokenResponse> {
  return postForm(gatehouse, '/token', form, options);
}

export interface FormPostOptions {
  /** Client credentials sent as `Authorization: Basic` (RFC 6749 §2.3.1). */
  basic?: { id: string; secret: string };
  /** The whole Authorization header (wins over `basic`). */
  authorization?: string;
  /** Default application/x-www-form-urlencoded; null sends none. */
  contentType?: string | null;
  /** More request headers, e.g. X-Forwarded-For. */
  headers?: Record<string, string>;
}

/**
 * POSTs a form to a back-channel endpoint (token, revocation, introspection, UserInfo) and reads
 * the JSON answer; `undefined` values in `form` leave the parameter out.
 */
export async function postForm(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  path: string,
  form: Record<string, string | undefined> | string,
  options: FormPostOptions = {},
): Promise<TokenResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const contentType = options.contentType === undefined ? 'application/x-www-form-urlencoded' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (options.basic) headers['authorization'] = basicAuthorization(options.basic.id, options.basic.secret);
  if (options.authorization) headers['authorization'] = options.authorization;
  let body: string;
  if (typeof form === 'string') {
    body = form;
  } else {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) if (value !== undefined) params.append(name, value);
    body = params.toString();
  }
  const response = await fetch(new URL(path, gatehouse.url), { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // left empty: the assertions on the body will fail with the text in the message
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** RFC 6749 §2.3.1 and Appendix B: form-urlencode id and secret, join with ":", base64. */
export function basicAuthorization(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${formUrlEncode(id)}:${formUrlEncode(secret)}`, 'utf8').toString('base64')}`;
}

/** RFC 6749 Appendix B: application/x-www-form-urlencoded encoding of one value (UTF-8). */
export function formUrlEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** The token request of RFC 6749 §4.1.3 for a code obtained with obtainCode. */
export function codeRequest(
  obtained: ObtainedCode,
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    grant_type: 'authorization_code',
    code: obtained.code,
    redirect_uri: obtained.redirectUri,
    ...(obtained.verifier !== null ? { code_verifier: obtained.verifier } : {}),
    ...extra,
  };
}

/** RFC 6749 §5.1, §5.2: every token endpoint response, success or error, is not cacheable. */
export function assertNoStore(response: { headers: Headers }): void {
  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.equal(response.headers.get('pragma'), 'no-cache');
}

/** RFC 6749 §5.2: the exact status and error code, a JSON body, no-store, and a valid description. */
export function assertTokenError(response: TokenResponse, status: number, error: string): void {
  assert.equal(response.status, status, `expected ${status} ${error}, got ${response.status}: ${response.text}`);
  assert.equal(response.body['error'], error, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assertNoStore(response);
  assertErrorDescription(response.body['error_description']);
  // RFC 9110 §15.5.2: a 401 always carries a challenge (RFC 6749 §5.2: the supported scheme).
  if (status === 401) assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="[^"]+"/);
}

/** RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ), when present. */
export function assertErrorDescription(description: unknown): void {
  if (description === undefined) return;
  assert.equal(typeof description, 'string');
  assert.match(
    description as string,
    /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/,
    `error_description ${JSON.stringify(description)}`,
  );
}
