/**
 * Each client against the FAPI 2.0 Security Profile (src/core/profile/fapi2-profile.ts): errors
 * for a client held to it (its own `profile: fapi2`, or the server's), information for the others.
 */
import type { GatehouseSettings } from '../../config/settings.js';
import type { Client } from '../../store/store.js';
import {
  fapi2SubjectOf,
  fapi2Violations,
  usesFapi2,
  type ProfileServerSettings,
  type ProfileSettings,
} from '../profile/fapi2-profile.js';
import { clientFix } from './client-checks.js';
import { finding, type Finding } from './findings.js';

/** The fix of a rule: a server setting, or the client's metadata. */
function ruleFix(client: Client, field: string, fix: string): string {
  return field.endsWith('_seconds') ? fix : clientFix(client, fix);
}

export function checkProfile(
  clients: readonly Client[],
  settings: ProfileSettings & ProfileServerSettings & Pick<GatehouseSettings, 'profile'>,
): Finding[] {
  return clients.flatMap((client) => {
    const held = usesFapi2(client, settings);
    const violations = fapi2Violations(fapi2SubjectOf(client, settings));
    if (violations.length === 0) {
      return [
        finding(
          'info',
          'profile.fapi2',
          'FAPI 2.0 §5',
          `client ${client.clientId} meets the FAPI 2.0 Security Profile${held ? '' : ' (it is not held to it)'}`,
        ),
      ];
    }
    if (held) {
      return violations.map(({ rule, problem }) =>
        finding(
          'error',
          `profile.fapi2.${rule.id}`,
          rule.section,
          `client ${client.clientId} is held to FAPI 2.0 but breaks "${rule.rule}": ${problem}`,
          ruleFix(client, rule.field, rule.fix),
        ),
      );
    }
    const broken = violations.map(({ rule }) => `${rule.id} (${rule.section})`).join(', ');
    return [
      finding(
        'info',
        'profile.fapi2',
        'FAPI 2.0 §5',
        `client ${client.clientId} would break FAPI 2.0 rules: ${broken}`,
        clientFix(client, 'profile: fapi2, after meeting those rules'),
      ),
    ];
  });
}
