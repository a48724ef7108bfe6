/**
 * Revoking what a user authorized, outside the RFC 7009 endpoint (the admin API; the account
 * page revokes the same way): a grant (RFC 6749 §4.1.2: every code, access token and refresh
 * token of one authorization; RFC 9700 §4.14.2 calls its refresh tokens a family), and a
 * client's whole authorization by a user (the consent, and every grant the user gave it).
 */
import type { Grant, Store } from '../../store/store.js';

export interface GrantRevocationDeps {
  store: Pick<Store, 'grants' | 'account'>;
  now(): number;
}

/**
 * Revokes `grant`: its access tokens are marked revoked and its refresh tokens are refused from
 * now on (the refresh grant checks the grant). Idempotent: an already revoked grant keeps its time.
 */
export async function revokeGrant(grant: Grant, deps: GrantRevocationDeps): Promise<Grant> {
  const at = grant.revokedAt ?? deps.now();
  await deps.store.grants.revoke(grant.id, at);
  return { ...grant, revokedAt: at };
}

/**
 * Withdraws everything `userId` authorized `clientId` to do: the consent is forgotten (the next
 * authorization asks again) and every grant of the two is revoked, at once. Returns the grants revoked now.
 */
export async function revokeClientAuthorization(
  userId: string,
  clientId: string,
  deps: GrantRevocationDeps,
): Promise<{ consent: boolean; grantIds: string[] }> {
  // The account page's revocation (src/store/repositories/account-repository.ts): consent and
  // grants in one transaction. No logout tokens here: the admin API ends sessions separately.
  return deps.store.account.revokeApp(userId, clientId, deps.now(), []);
}
