/**
 * What the authorization endpoint sends back to the client through the browser: a code or an
 * error, always with `state` echoed exactly (RFC 6749 §4.1.2) and `iss` (RFC 9207 §2) so the
 * client can detect mix-up attacks.
 */
import type { OAuthError, ResponseTarget } from '../errors.js';

export interface AuthorizationResponse {
  target: ResponseTarget;
  /** The response parameters in the order they are sent. */
  params: Record<string, string>;
}

export function codeResponse(target: ResponseTarget, code: string, issuer: string): AuthorizationResponse {
  const params: Record<string, string> = { code };
  if (target.state !== null) params['state'] = target.state;
  params['iss'] = issuer;
  return { target, params };
}

export function errorResponse(target: ResponseTarget, error: OAuthError, issuer: string): AuthorizationResponse {
  const params: Record<string, string> = { error: error.error, error_description: error.description };
  if (target.state !== null) params['state'] = target.state;
  params['iss'] = issuer;
  return { target, params };
}

/** RFC 6749 §4.1.2: the parameters are added to the query component, keeping any query it has. */
export function redirectLocation(response: AuthorizationResponse): string {
  const url = new URL(response.target.redirectUri);
  for (const [name, value] of Object.entries(response.params)) url.searchParams.append(name, value);
  return url.href;
}
