/** Token lifetimes and refresh token rotation (RFC 6749 §4.1.2, RFC 6819 §5.1.5.3, RFC 9700 §4.14.2). */
import type { GatehouseSettings } from '../../config/settings.js';
import { finding, type Finding } from './findings.js';

type TokenSettings = Pick<
  GatehouseSettings,
  | 'codeTtlSeconds'
  | 'accessTokenTtlSeconds'
  | 'refreshTokenIdleTtlSeconds'
  | 'refreshTokenAbsoluteTtlSeconds'
  | 'refreshTokenGraceSeconds'
>;

/** Above this an access token is no longer short-lived (RFC 6819 §5.1.5.3). */
export const ACCESS_TOKEN_MAX_SECONDS = 3600;
/** Above this the window in which a rotated refresh token still works is more than a retry needs. */
export const GRACE_MAX_SECONDS = 60;

export function checkTokens(settings: TokenSettings): Finding[] {
  const findings: Finding[] = [];
  if (settings.codeTtlSeconds > 60) {
    findings.push(
      finding(
        'info',
        'tokens.code_ttl',
        'RFC 6749 §4.1.2, FAPI 2.0 §5.3.2.1',
        `authorization codes live ${settings.codeTtlSeconds} s; a code is redeemed within seconds, and FAPI 2.0 allows at most 60`,
        'code_ttl_seconds: 60',
      ),
    );
  }
  if (settings.accessTokenTtlSeconds > ACCESS_TOKEN_MAX_SECONDS) {
    findings.push(
      finding(
        'warning',
        'tokens.access_token_ttl',
        'RFC 6819 §5.1.5.3, RFC 9700 §2.2',
        `access tokens live ${settings.accessTokenTtlSeconds} s: a leaked bearer token stays usable that long (they cannot be recalled from resource servers that do not introspect)`,
        `access_token_ttl_seconds: ${ACCESS_TOKEN_MAX_SECONDS}`,
      ),
    );
  }
  if (settings.refreshTokenIdleTtlSeconds > settings.refreshTokenAbsoluteTtlSeconds) {
    findings.push(
      finding(
        'warning',
        'tokens.refresh_ttl',
        'RFC 9700 §4.14.2',
        `refresh_token_idle_ttl_seconds (${settings.refreshTokenIdleTtlSeconds}) exceeds refresh_token_absolute_ttl_seconds (${settings.refreshTokenAbsoluteTtlSeconds}): the idle limit never applies`,
        `refresh_token_idle_ttl_seconds: ${settings.refreshTokenAbsoluteTtlSeconds}`,
      ),
    );
  }
  if (settings.refreshTokenGraceSeconds > GRACE_MAX_SECONDS) {
    findings.push(
      finding(
        'warning',
        'tokens.refresh_rotation',
        'RFC 9700 §4.14.2',
        `a rotated refresh token stays usable for ${settings.refreshTokenGraceSeconds} s: a stolen one replayed in that window is not detected as reuse`,
        'refresh_token_grace_seconds: 10',
      ),
    );
  } else {
    findings.push(
      finding(
        'info',
        'tokens.refresh_rotation',
        'RFC 9700 §4.14.2',
        `refresh tokens are rotated at every use; reuse of a rotated one revokes the family (retry window ${settings.refreshTokenGraceSeconds} s)`,
      ),
    );
  }
  return findings;
}
