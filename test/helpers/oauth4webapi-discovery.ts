/**
 * oauth4webapi against a test Gatehouse on http: the option that allows plain-http requests, and
 * the OpenID Connect Discovery 1.0 §4 metadata processed as oauth4webapi does it.
 */
import * as oauth from 'oauth4webapi';
import type { RunningGatehouse } from '../../src/server.js';

/** oauth4webapi refuses http URLs unless told otherwise; the test servers listen on http://127.0.0.1. */
export const INSECURE = { [oauth.allowInsecureRequests]: true } as const;

export async function discoverOidc(gatehouse: Pick<RunningGatehouse, 'url'>): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(gatehouse.url);
  return oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...INSECURE }),
  );
}
