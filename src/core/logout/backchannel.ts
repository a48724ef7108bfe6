/**
 * Ending a single sign-on session, and OpenID Connect Back-Channel Logout 1.0 §2.5-2.7: every
 * client that was issued a code in the session (its grants carry the session's `sid`) and that
 * registered a `backchannel_logout_uri` gets a Logout Token.
 *
 * The tokens are not sent here: they are queued in the store in the same transaction that
 * deletes the session, so a logout is never half done, and the delivery worker
 * (./delivery-worker.ts) sends them, with retries, from whichever instance claims them first.
 */
import type { ProviderContext } from '../context.js';
import type { SigningAlg } from '../keys/signing-key-crypto.js';
import { randomToken } from '../secrets.js';
import type { Client, LogoutDelivery, Session, Store } from '../../store/store.js';
import type { GatehouseSettings } from '../../config/settings.js';
import { idTokenAlgFor } from '../token/id-token.js';
import { newLogoutTokenClaims, signLogoutToken } from './logout-token.js';

/** The algorithm the client's ID tokens (and so its logout tokens, §2.4) are signed with. */
export function logoutTokenAlg(
  client: Client,
  settings: Pick<GatehouseSettings, 'idTokenSignedResponseAlgDefault' | 'profile'>,
): SigningAlg {
  return idTokenAlgFor(client, settings);
}

/**
 * What ending a session uses: the store's session and the clients issued a code in it, the
 * clients' registrations, and the key ring that signs their logout tokens.
 */
export type EndSessionDeps = Pick<ProviderContext, 'settings' | 'keys' | 'clients' | 'subjects' | 'events' | 'now'> & {
  store: Pick<Store, 'logout'>;
};

/**
 * A queued Back-Channel Logout 1.0 delivery to `client` at its backchannel_logout_uri `uri`: a
 * logout token (§2.4) with the `sub` this client's ID tokens carried for `userId` (OIDC Core §8,
 * pairwise or public) and `sid`, or no `sid` to mean every session of the user at the client.
 */
export async function logoutDelivery(
  client: Client,
  uri: string,
  userId: string,
  sid: string | null,
  now: number,
  context: Pick<ProviderContext, 'settings' | 'keys' | 'subjects'>,
): Promise<LogoutDelivery> {
  const claims = newLogoutTokenClaims(
    context.settings.issuer,
    client.clientId,
    context.subjects.of(client, userId),
    sid,
  );
  return {
    id: randomToken(16),
    clientId: client.clientId,
    uri,
    logoutToken: await signLogoutToken(claims, context.keys, logoutTokenAlg(client, context.settings), now),
    attempts: 0,
    nextAttemptAt: now,
    lastError: null,
    deliveredAt: null,
    createdAt: now,
  };
}

/**
 * Ends `session`: deletes it and queues a logout token for each client of the session with a
 * back-channel logout URI. Returns false when the session was already gone (a concurrent
 * logout ended it and queued the tokens).
 */
export async function endSession(
  session: Session,
  context: EndSessionDeps,
  initiatorClientId: string | null,
): Promise<boolean> {
  const now = context.now();
  const sid = session.sid ?? null;
  const clientIds = sid !== null ? await context.store.logout.sessionClientIds(sid) : [];
  const deliveries: LogoutDelivery[] = [];
  for (const clientId of clientIds) {
    const client = await context.clients.get(clientId);
    const uri = client?.backchannelLogoutUri ?? null;
    if (!client || uri === null) continue;
    // §2.4: sub and/or sid. Both are sent: sid names exactly this session (what
    // backchannel_logout_session_required asks for), sub lets a client without sessions act too.
    deliveries.push(await logoutDelivery(client, uri, session.userId, sid, now, context));
  }
  const ended = await context.store.logout.endSession(session.idHash, deliveries);
  if (ended) {
    context.events.emit(
      {
        type: 'logout.succeeded',
        userId: session.userId,
        sid,
        clientId: initiatorClientId,
        backchannelClientIds: deliveries.map((delivery) => delivery.clientId),
      },
      now,
    );
  }
  return ended;
}
