/**
 * Dynamic client registration in tests (RFC 7591, RFC 7592): requests to /register and to a
 * client's registration_client_uri, and the checks every registration answer gets.
 */
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import type { ClientFixture } from '../../src/config/settings.js';
import { assertNoStore, assertErrorDescription } from './code-flow.js';
import { readAnswer, type Answer } from './http-answer.js';

/** A public native-app style registration that passes every rail. */
export const PUBLIC_REGISTRATION = {
  client_name: 'Example MCP Host',
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

/** A request to the registration endpoint or a registration_client_uri; `body` as JSON unless a string. */
export async function registrationRequest(
  url: string,
  options: { method?: string; body?: unknown; token?: string; contentType?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(url, {
    method: options.method ?? 'POST',
    headers,
    ...(options.body !== undefined
      ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
      : {}),
  });
  return readAnswer(response);
}

/** POST /register with `body`. */
export function register(gatehouse: Pick<RunningGatehouse, 'url'>, body: unknown, token?: string): Promise<Answer> {
  return registrationRequest(`${gatehouse.url}/register`, { body, ...(token !== undefined ? { token } : {}) });
}

/** RFC 7591 §3.2.1: a registration answered 201, not cached, with the client information. */
export function assertRegistered(answer: Answer, status = 201): Record<string, unknown> {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  assertNoStore(answer);
  assert.ok(answer.json);
  return answer.json;
}

/** RFC 7591 §3.2.2: the status, `error`, a valid description naming `field`, no-store. */
export function assertRegistrationError(answer: Answer, status: number, error: string, field?: string): void {
  assert.equal(answer.status, status, `expected ${status} ${error}, got ${answer.status}: ${answer.text}`);
  assert.equal(answer.json?.['error'], error, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  assertNoStore(answer);
  assertErrorDescription(answer.json?.['error_description']);
  if (field !== undefined) assert.ok(String(answer.json?.['error_description']).includes(field), answer.text);
  // RFC 6750 §3: a refused bearer token gets a challenge.
  if (status === 401) assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
}

/** The registered client as a fixture for the code-flow helpers. */
export function registeredFixture(info: Record<string, unknown>): ClientFixture {
  return {
    client_id: info['client_id'] as string,
    ...(typeof info['client_secret'] === 'string' ? { client_secret: info['client_secret'] } : {}),
    redirect_uris: info['redirect_uris'] as string[],
    grant_types: info['grant_types'] as string[],
    response_types: info['response_types'] as string[],
    token_endpoint_auth_method: info['token_endpoint_auth_method'] as ClientFixture['token_endpoint_auth_method'],
    scope: info['scope'] as string,
    require_pkce: true,
  };
}
