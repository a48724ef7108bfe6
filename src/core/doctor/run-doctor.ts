/**
 * `gatehouse doctor`: runs the check groups of this folder over a configuration (and what its
 * database holds) and, with a URL, over a running deployment. The CLI (src/cli/commands/doctor.ts)
 * prints the findings and exits non-zero when one is an error.
 */
import { checkClients } from './client-checks.js';
import { checkDatabase } from './database-checks.js';
import { checkDeployment, type Fetch } from './discovery-checks.js';
import { SEVERITIES, type DoctorInput, type Finding } from './findings.js';
import { checkIssuer } from './issuer-checks.js';
import { checkSigningKeys } from './key-checks.js';
import { checkProfile } from './profile-checks.js';
import { checkTokens } from './token-checks.js';

export type { DoctorInput, Finding, Severity } from './findings.js';
export type { Fetch } from './discovery-checks.js';

/** The findings of a configuration, most severe first (then in check order). */
export function checkConfiguration(input: DoctorInput): Finding[] {
  const { settings, now } = input;
  return bySeverity([
    ...checkIssuer(settings),
    ...checkClients(input.clients, now),
    ...checkTokens(settings),
    ...checkSigningKeys(input.signingKeys, settings, now),
    ...(input.database !== undefined ? checkDatabase(input.database, now) : []),
    ...checkProfile(input.clients, settings),
  ]);
}

/** The findings of the deployment at `url`, most severe first. */
export async function checkRunningDeployment(
  url: string,
  fetch: Fetch,
  expected?: Record<string, unknown>,
): Promise<Finding[]> {
  return bySeverity(await checkDeployment(url, fetch, expected));
}

export function bySeverity(findings: Finding[]): Finding[] {
  return findings
    .map((item, index) => ({ item, index }))
    .sort((a, b) => SEVERITIES.indexOf(a.item.severity) - SEVERITIES.indexOf(b.item.severity) || a.index - b.index)
    .map(({ item }) => item);
}

/** The exit code: 1 when an error-level finding exists. */
export function doctorExitCode(findings: readonly Finding[]): number {
  return findings.some((item) => item.severity === 'error') ? 1 : 0;
}
