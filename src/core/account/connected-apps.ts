/**
 * The applications a user has authorized, and taking one back (the account page, `/account`).
 *
 * Revoking an application is the End-User's side of RFC 7009 §2.1: every grant the user gave the
 * client is revoked, with the access tokens issued under it and its refresh-token families (a
 * refresh token is refused once its grant is revoked, RFC 6749 §10.4, src/core/token/token-lookup.ts);
 * the consent is deleted so that the next authorization asks again (OIDC Core §3.1.2.4); and a
 * client registered for OpenID Connect Back-Channel Logout 1.0 is told to end the user's sessions
 * with it.
 */
import type { Client, ConnectedApp, LogoutDelivery, Store } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { logoutDelivery } from '../logout/backchannel.js';

/** An application as the account page shows it. */
export interface ConnectedAppView extends ConnectedApp {
  /** The client's registered name, else its client_id; the client may have been deleted meanwhile. */
  name: string;
  client: Client | undefined;
}

export type ConnectedAppsDeps = Pick<ProviderContext, 'clients'> & { store: Pick<Store, 'account'> };

export async function listConnectedApps(userId: string, context: ConnectedAppsDeps): Promise<ConnectedAppView[]> {
  const apps = await context.store.account.connectedApps(userId);
  const views: ConnectedAppView[] = [];
  for (const app of apps) {
    const client = await context.clients.get(app.clientId);
    views.push({ ...app, client, name: client?.clientName ?? app.clientId });
  }
  return views;
}

export type RevokeAppDeps = Pick<ProviderContext, 'settings' | 'keys' | 'clients' | 'subjects' | 'events' | 'now'> & {
  store: Pick<Store, 'account'>;
};

/**
 * Takes back everything `userId` gave `clientId`. False when there was nothing to take back (an
 * unknown client, or revoked already, e.g. from another tab).
 */
export async function revokeConnectedApp(userId: string, clientId: string, context: RevokeAppDeps): Promise<boolean> {
  const app = (await context.store.account.connectedApps(userId)).find((found) => found.clientId === clientId);
  if (!app) return false;
  const now = context.now();
  const client = await context.clients.get(clientId);
  const deliveries = client ? await logoutDeliveries(client, userId, app, now, context) : [];
  const { grantIds } = await context.store.account.revokeApp(userId, clientId, now, deliveries);
  context.events.emit({ type: 'consent.revoked', userId, clientId, grantIds, source: 'account' }, now);
  return true;
}

/**
 * Back-Channel Logout 1.0 §2.4: a logout token with `sub` and no `sid` asks the client to end
 * every session it has for the user, which is what revoking the application means. A client that
 * registered `backchannel_logout_session_required` (§2.2) gets one token per session (`sid`) its
 * grants were made in instead.
 */
async function logoutDeliveries(
  client: Client,
  userId: string,
  app: ConnectedApp,
  now: number,
  context: RevokeAppDeps,
): Promise<LogoutDelivery[]> {
  const uri = client.backchannelLogoutUri;
  if (uri === null) return [];
  const sids: Array<string | null> = client.backchannelLogoutSessionRequired ? app.sids : [null];
  const deliveries: LogoutDelivery[] = [];
  for (const sid of sids) deliveries.push(await logoutDelivery(client, uri, userId, sid, now, context));
  return deliveries;
}
