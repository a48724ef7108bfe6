/**
 * Pushed authorization requests (RFC 9126) for protocol tests: pushing a request and building
 * the authorization URL that refers to it.
 */
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import { authorizeUrl, postForm, type FormPostOptions, type TokenResponse } from './code-flow.js';

/** POSTs `params` (form-encoded) to the PAR endpoint, authenticated as `options` says (RFC 9126 §2). */
export function pushAuthorizationRequest(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  params: Record<string, string | undefined> | string,
  options: FormPostOptions = {},
): Promise<TokenResponse> {
  return postForm(gatehouse, '/par', params, options);
}

/** Pushes `params` and returns the request_uri, failing unless the push succeeded (RFC 9126 §2.2). */
export async function pushedRequestUri(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  params: Record<string, string | undefined>,
  options: { basic?: { id: string; secret: string } } = {},
): Promise<string> {
  const response = await pushAuthorizationRequest(gatehouse, params, options);
  assert.equal(response.status, 201, response.text);
  return response.body['request_uri'] as string;
}

/** RFC 9126 §4: the authorization URL of a pushed request, with `extra` parameters (ignored by the server). */
export function pushedAuthorizeUrl(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  clientId: string | undefined,
  requestUri: string,
  extra: Record<string, string | undefined> = {},
): string {
  return authorizeUrl(gatehouse, { client_id: clientId, request_uri: requestUri, ...extra });
}
