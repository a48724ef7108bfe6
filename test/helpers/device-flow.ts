/**
 * The RFC 8628 device flow for tests: device clients, the device authorization request, a poll of
 * the token endpoint, and the user's part at the verification page through the scripted browser
 * (test/helpers/user-agent.ts), by the page's documented field names.
 */
import assert from 'node:assert/strict';
import type { ClientFixture } from '../../src/config/settings.js';
import type { DeviceAuthorizationResponse } from '../../src/core/device/device-authorization-endpoint.js';
import type { RunningGatehouse } from '../../src/server.js';
import { postForm, postToken, type TokenResponse } from './code-flow.js';
import { hiddenInput, isLoginPage, type PageResponse, type UserAgent } from './user-agent.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** A command-line tool: a public client with the device grant and refresh tokens. */
export const DEVICE_CLIENT: ClientFixture = {
  client_id: 'cli-tool',
  client_name: 'Example CLI',
  redirect_uris: [],
  grant_types: [DEVICE_GRANT, 'refresh_token'],
  response_types: [],
  token_endpoint_auth_method: 'none',
  scope: 'openid profile offline_access api',
  require_pkce: true,
};

/** A TV app: a confidential client with the device grant only. */
export const CONFIDENTIAL_DEVICE_CLIENT: ClientFixture = {
  ...DEVICE_CLIENT,
  client_id: 'tv-app',
  client_secret: 'tv-app-secret-that-is-long-enough',
  client_name: 'Example TV',
  grant_types: [DEVICE_GRANT],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'openid profile',
};

/** RFC 8628 §3.1: POST to the device authorization endpoint. */
export function requestDeviceAuthorization(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  form: Record<string, string | undefined>,
  options: { basic?: { id: string; secret: string } } = {},
): Promise<TokenResponse> {
  return postForm(gatehouse, '/device_authorization', form, options);
}

/** RFC 8628 §3.2: a successful device authorization response. */
export type DeviceAuthorization = DeviceAuthorizationResponse;

/** A device authorization for the public DEVICE_CLIENT (or another public client). */
export async function startDeviceFlow(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  form: Record<string, string | undefined> = {},
): Promise<DeviceAuthorization> {
  const response = await requestDeviceAuthorization(gatehouse, { client_id: DEVICE_CLIENT.client_id, ...form });
  assert.equal(response.status, 200, response.text);
  return response.body as unknown as DeviceAuthorization;
}

/** RFC 8628 §3.4: one poll of the token endpoint by a public client. */
export function pollToken(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  deviceCode: string,
  clientId: string = DEVICE_CLIENT.client_id,
): Promise<TokenResponse> {
  return postToken(gatehouse, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId });
}

/**
 * The user's part (RFC 8628 §3.3): opens `url` (the verification URI, complete or not), signs in
 * if asked, enters `userCode` (when given; a complete URI pre-fills it), and answers on the
 * confirmation page. Returns the last page.
 */
export async function verifyDevice(
  agent: UserAgent,
  url: string,
  user: { username: string; password: string },
  userCode: string | undefined,
  decision: 'allow' | 'deny',
): Promise<PageResponse> {
  let page = await agent.navigate(url);
  if (isLoginPage(page)) page = await agent.submit(page, { username: user.username, password: user.password });
  const code = userCode ?? hiddenInput(page.body, 'user_code');
  assert.ok(code, `no user code on ${page.url}`);
  const confirm = await agent.submit(page, { user_code: code });
  assert.equal(confirm.status, 200, confirm.body);
  return agent.submit(confirm, { user_code: hiddenInput(confirm.body, 'user_code')!, decision });
}
