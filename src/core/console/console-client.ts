/**
 * The web console's own OAuth client (docs/operating.md, Console). The console is a client of
 * this server like any other: it sends the admin user through the authorization code flow with
 * PKCE (RFC 6749 §4.1, RFC 7636 S256, RFC 9700 §2.1.1) and gets an access token for the admin
 * API's resource identifier (RFC 8707). Its client is built in:
 * - public (token_endpoint_auth_method `none`, RFC 6749 §2.1): the code never leaves this server's
 *   own callback, and PKCE binds it to the sign-in that started it, so a secret would add nothing;
 * - its only redirect URI is `<issuer>/console/callback`, written (or rewritten, when the issuer
 *   changed) when a sign-in starts, so that the row that codes and tokens reference exists;
 * - first party: the consent page is skipped (RFC 6749 §4.1.1 leaves how the resource owner's
 *   approval is obtained to the server), but only for a request that names exactly that redirect
 *   URI, so that no client given this client_id elsewhere could use the skip.
 */
import type { GatehouseSettings } from '../../config/settings.js';
import type { Client, Store } from '../../store/store.js';
import { ADMIN_SCOPE } from '../admin/admin-access.js';
import type { EventBus } from '../events.js';
import { registerClient } from '../registration/client-registration.js';

export const CONSOLE_CLIENT_ID = 'gatehouse-console';
/** Where the console is served, below the issuer's path. */
export const CONSOLE_PATH = '/console';
/** OpenID Connect (the signed-in user's identity) and the whole admin API. */
export const CONSOLE_SCOPE = `openid ${ADMIN_SCOPE}`;

/** Whether the console is served: `console.enabled`, default on; never without the admin API it acts through. */
export function consoleEnabled(settings: Pick<GatehouseSettings, 'admin' | 'console'>): boolean {
  return settings.admin.enabled && (settings.console?.enabled ?? true);
}

/** The console's redirect URI (RFC 6749 §3.1.2) for an issuer. */
export function consoleRedirectUri(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}${CONSOLE_PATH}/callback`;
}

/** Whether an authorization request is the console's own: its client_id and exactly its redirect URI. */
export function isConsoleRequest(request: { clientId: string; redirectUri: string }, issuer: string): boolean {
  return request.clientId === CONSOLE_CLIENT_ID && request.redirectUri === consoleRedirectUri(issuer);
}

export interface ConsoleClientDeps {
  settings: Pick<GatehouseSettings, 'issuer'>;
  store: Pick<Store, 'clients'>;
  events: Pick<EventBus, 'emit'>;
  now(): number;
}

function sameClient(a: Client, b: Client): boolean {
  return JSON.stringify({ ...a, createdAt: 0 }) === JSON.stringify({ ...b, createdAt: 0 });
}

/**
 * Writes the console's client when it is missing or differs from what it must be (deleted or
 * changed through the admin API, or the issuer moved); validated like every client (RFC 7591 §2).
 */
export async function ensureConsoleClient(deps: ConsoleClientDeps): Promise<Client> {
  const now = deps.now();
  const { client } = await registerClient(
    {
      client_id: CONSOLE_CLIENT_ID,
      client_name: 'Gatehouse console',
      redirect_uris: [consoleRedirectUri(deps.settings.issuer)],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: CONSOLE_SCOPE,
      require_pkce: true,
    },
    // The redirect URI is this server's own address, whatever network it is on.
    { generateSecret: false, now, outbound: { allowPrivateAddresses: true } },
  );
  const existing = await deps.store.clients.get(CONSOLE_CLIENT_ID);
  if (existing) client.createdAt = existing.createdAt;
  if (existing && sameClient(existing, client)) return existing;
  await deps.store.clients.upsert(client);
  deps.events.emit(
    { type: existing ? 'client.updated' : 'client.created', clientId: CONSOLE_CLIENT_ID, source: 'console' },
    now,
  );
  return client;
}
