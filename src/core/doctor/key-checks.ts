/**
 * The signing keys: age, algorithm and rotation (OpenID Connect Core §10.1.1, RFC 7518 §3.1,
 * RFC 8725 §3.2). Keys are rotated with `gatehouse keys rotate` (see docs/signing-keys.md).
 */
import type { GatehouseSettings } from '../../config/settings.js';
import type { SigningKeyRecord } from '../../store/store.js';
import { DAY_MS, finding, type Finding } from './findings.js';

/** An active key older than this should be rotated. */
export const KEY_MAX_AGE_DAYS = 180;

export function checkSigningKeys(
  keys: readonly SigningKeyRecord[],
  settings: Pick<GatehouseSettings, 'signingAlg' | 'idTokenSignedResponseAlgDefault'>,
  now: number,
): Finding[] {
  const active = keys.filter((key) => key.retiredAt === null && key.activatesAt <= now);
  if (active.length === 0) {
    return [
      finding(
        'info',
        'keys.present',
        'OpenID Connect Core §10.1',
        'no active signing key yet: gatehouse start creates one for each algorithm in use',
      ),
    ];
  }
  const findings: Finding[] = [];
  for (const alg of [...new Set(active.map((key) => key.alg))].sort()) {
    const newest = active.filter((key) => key.alg === alg).reduce((a, b) => (b.activatesAt > a.activatesAt ? b : a));
    const ageDays = Math.floor((now - newest.activatesAt) / DAY_MS);
    if (ageDays > KEY_MAX_AGE_DAYS) {
      findings.push(
        finding(
          'warning',
          'keys.age',
          'OpenID Connect Core §10.1.1',
          `the ${alg} signing key ${newest.kid} has signed for ${ageDays} days without rotation`,
          `gatehouse keys rotate --alg ${alg}`,
        ),
      );
    }
  }
  const pending = keys.filter((key) => key.retiredAt === null && key.activatesAt > now);
  if (pending.length > 0) {
    findings.push(
      finding(
        'info',
        'keys.rotation',
        'OpenID Connect Core §10.1.1',
        `a rotation is under way: ${pending.map((key) => key.kid).join(', ')} published, not signing yet`,
      ),
    );
  }
  if (settings.idTokenSignedResponseAlgDefault === 'RS256') {
    findings.push(
      finding(
        'info',
        'keys.algorithm',
        'RFC 8725 §3.2, FAPI 2.0 §5.4.1',
        `ID tokens of clients that name no algorithm are RS256 (OpenID Connect's default, for compatibility); access tokens are ${settings.signingAlg}. Where every client accepts it, ES256 is smaller and FAPI 2.0 allows it`,
        'id_token_signed_response_alg_default: ES256',
      ),
    );
  }
  return findings;
}
