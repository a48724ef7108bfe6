/**
 * Administering what users authorized: their sign-in sessions (ended as a logout would end them,
 * with OpenID Connect Back-Channel Logout 1.0 logout tokens queued for the session's clients),
 * their grants (RFC 6749 §4.1.2: every token of one authorization), their consents, and refresh
 * token families (RFC 9700 §4.14.2). Each revocation announces itself with its actor.
 */
import type { Grant, Session, Store } from '../../store/store.js';
import { AdminNotFound } from '../errors.js';
import type { EventBus } from '../events.js';
import { endSession, type EndSessionDeps } from '../logout/backchannel.js';
import { revokeClientAuthorization, revokeGrant } from '../token/grant-revocation.js';
import type { ChangeOrigin } from './client-administration.js';

export type SessionAdminDeps = EndSessionDeps & { store: Pick<Store, 'sessions' | 'logout'> };

export interface GrantAdminDeps {
  store: Pick<Store, 'grants' | 'consents' | 'refreshTokens' | 'account'>;
  events: Pick<EventBus, 'emit'>;
  now(): number;
}

/** The live session with this `sid`, or AdminNotFound. */
export async function existingSession(store: Pick<Store, 'sessions'>, sid: string, now: number): Promise<Session> {
  const session = await store.sessions.getBySid(sid, now);
  if (!session) throw new AdminNotFound(`no live session with sid ${sid}`);
  return session;
}

/**
 * Ends a session (Back-Channel Logout 1.0 §2.5-2.7: its clients with a backchannel_logout_uri
 * get a logout token). The tokens issued in it stay valid: revoke its grants for that.
 */
export async function revokeSession(session: Session, deps: SessionAdminDeps, origin: ChangeOrigin): Promise<void> {
  if (!(await endSession(session, deps, origin.actor?.clientId ?? null)))
    throw new AdminNotFound(`no live session with sid ${session.sid}`);
  deps.events.emit({ type: 'session.revoked', sid: session.sid, userId: session.userId, ...origin }, deps.now());
}

/** The grant with this id, or AdminNotFound. */
export async function existingGrant(store: Pick<Store, 'grants'>, id: string): Promise<Grant> {
  const grant = await store.grants.get(id);
  if (!grant) throw new AdminNotFound(`no grant ${id}`);
  return grant;
}

/** Revokes a grant and every token of it (RFC 6749 §4.1.2). */
export async function revokeGrantAsAdmin(grant: Grant, deps: GrantAdminDeps, origin: ChangeOrigin): Promise<Grant> {
  const revoked = await revokeGrant(grant, deps);
  deps.events.emit(
    { type: 'grant.revoked', grantId: grant.id, clientId: grant.clientId, userId: grant.userId, ...origin },
    deps.now(),
  );
  return revoked;
}

/**
 * Revokes the refresh token family of a grant (RFC 9700 §4.14.2: every refresh token rotated
 * from the first one, and the access tokens issued with them); AdminNotFound when the grant
 * never had a refresh token.
 */
export async function revokeRefreshFamily(grantId: string, deps: GrantAdminDeps, origin: ChangeOrigin): Promise<Grant> {
  const grant = await existingGrant(deps.store, grantId);
  if ((await deps.store.refreshTokens.listByGrant(grantId)).length === 0)
    throw new AdminNotFound(`grant ${grantId} has no refresh token family`);
  const revoked = await revokeGrant(grant, deps);
  deps.events.emit(
    { type: 'refresh_family.revoked', grantId, clientId: grant.clientId, userId: grant.userId, ...origin },
    deps.now(),
  );
  return revoked;
}

/** Withdraws a user's consent to a client and revokes every grant of the two. */
export async function revokeConsent(
  userId: string,
  clientId: string,
  deps: GrantAdminDeps,
  origin: ChangeOrigin,
): Promise<void> {
  const { consent, grantIds } = await revokeClientAuthorization(userId, clientId, deps);
  if (!consent && grantIds.length === 0) throw new AdminNotFound(`user ${userId} has no consent to client ${clientId}`);
  for (const grantId of grantIds)
    deps.events.emit({ type: 'grant.revoked', grantId, clientId, userId, ...origin }, deps.now());
}
