/** ID tokens made outside a flow, e.g. as id_token_hint or as a token presented where it does not belong. */
import { issueIdToken } from '../../src/core/token/id-token.js';
import type { RunningGatehouse } from '../../src/server.js';

/**
 * An ES256 ID token (OIDC Core §2) signed with the server's own key: issued to `clientId` for
 * `subject` at `now` (also the auth_time), valid for 60 seconds, without nonce or sid.
 */
export function ownIdToken(
  gatehouse: Pick<RunningGatehouse, 'url' | 'context'>,
  clientId: string,
  subject: string,
  now: number,
): string {
  return issueIdToken(
    {
      issuer: gatehouse.url,
      clientId,
      subject,
      authTime: now,
      nonce: null,
      sid: null,
      alg: 'ES256',
      accessToken: 'x',
      ttlSeconds: 60,
      now,
    },
    gatehouse.context.keys,
  );
}
