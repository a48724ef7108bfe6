/**
 * The fixed cast of the three-party demo (`gatehouse demo`): one user, a confidential web client,
 * a public browser client and one protected resource. These are development credentials,
 * documented and printed at start; never reuse them anywhere real.
 */
import type { ClientFixture, ResourceFixture, UserFixture } from '../config/settings.js';

export const DEMO_USER: UserFixture = {
  username: 'demo',
  password: 'demo-password',
  email: 'demo@example.com',
  name: 'Demo User',
};

export const DEMO_WEB_CLIENT_ID = 'demo-web';
/** The confidential client's secret: a fixed, documented development value. */
export const DEMO_WEB_CLIENT_SECRET = 'demo-web-secret-for-local-development-only';
export const DEMO_SPA_CLIENT_ID = 'demo-spa';
export const DEMO_SCOPE = 'openid profile email offline_access notes:read';
export const DEMO_RESOURCE_SCOPE = 'notes:read';

export const DEFAULT_DEMO_PORTS = { client: 9000, server: 9001, resource: 9002 } as const;
export const DEFAULT_DEMO_DATABASE = 'sqlite:./gatehouse-demo.db';

/** The URLs of the three parties. Everything is addressed as `localhost`, whatever the interface. */
export interface DemoUrls {
  /** The client (server-rendered web app; the SPA is at `${client}/spa/`), e.g. http://localhost:9000 */
  client: string;
  /** The single-page app, e.g. http://localhost:9000/spa/ */
  spa: string;
  /** The authorization server's issuer identifier, e.g. http://localhost:9001 */
  issuer: string;
  /** The protected resource's origin, e.g. http://localhost:9002 */
  resourceOrigin: string;
  /** The RFC 8707 resource indicator (the access token audience), e.g. http://localhost:9002/ */
  resource: string;
  /** Redirect URI of the confidential client. */
  webRedirectUri: string;
  /** Redirect URI of the public client. */
  spaRedirectUri: string;
  /** Where Gatehouse POSTs the confidential client's logout tokens (Back-Channel Logout 1.0 §2.2). */
  webBackchannelLogoutUri: string;
  /** Where Gatehouse sends the browser back after an RP-initiated logout (RP-Initiated Logout 1.0 §3). */
  webPostLogoutRedirectUri: string;
}

export function demoUrls(ports: { client: number; server: number; resource: number }): DemoUrls {
  const client = `http://localhost:${ports.client}`;
  const resourceOrigin = `http://localhost:${ports.resource}`;
  return {
    client,
    spa: `${client}/spa/`,
    issuer: `http://localhost:${ports.server}`,
    resourceOrigin,
    resource: `${resourceOrigin}/`,
    webRedirectUri: `${client}/callback`,
    spaRedirectUri: `${client}/spa/callback`,
    webBackchannelLogoutUri: `${client}/backchannel-logout`,
    webPostLogoutRedirectUri: `${client}/signed-out`,
  };
}

/** The flow inspector's list of flows at the demo's authorization server (the demo runs with it on). */
export const inspectorUrl = (urls: Pick<DemoUrls, 'issuer'>): string => `${urls.issuer}/_gatehouse/flows`;

/** The notes API's path whose clock runs a day ahead: every token there has expired (src/demo/resource-api.ts). */
export const LATER_NOTES_PATH = '/notes-tomorrow';

/** What both demo clients are registered with: the code flow with PKCE and refresh tokens, for DEMO_SCOPE. */
const DEMO_CLIENT_GRANTS: Pick<ClientFixture, 'grant_types' | 'response_types' | 'scope' | 'require_pkce'> = {
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  scope: DEMO_SCOPE,
  require_pkce: true,
};

export function demoFixtures(urls: DemoUrls): {
  clients: ClientFixture[];
  users: UserFixture[];
  resources: ResourceFixture[];
} {
  return {
    users: [DEMO_USER],
    clients: [
      {
        ...DEMO_CLIENT_GRANTS,
        client_id: DEMO_WEB_CLIENT_ID,
        client_secret: DEMO_WEB_CLIENT_SECRET,
        client_name: 'Demo web app',
        redirect_uris: [urls.webRedirectUri],
        token_endpoint_auth_method: 'client_secret_basic',
        // Signing out at Gatehouse signs this client out too (its server drops the session of the
        // logout token's sid), and its Sign out button comes back here through end_session.
        backchannel_logout_uri: urls.webBackchannelLogoutUri,
        backchannel_logout_session_required: true,
        post_logout_redirect_uris: [urls.webPostLogoutRedirectUri],
      },
      {
        ...DEMO_CLIENT_GRANTS,
        client_id: DEMO_SPA_CLIENT_ID,
        client_name: 'Demo single-page app',
        redirect_uris: [urls.spaRedirectUri],
        token_endpoint_auth_method: 'none',
        // Its Sign out button comes back to the app through end_session. No back-channel logout:
        // its tokens live in the browser, where no server of its own could drop them.
        post_logout_redirect_uris: [urls.spa],
      },
    ],
    resources: [
      { resource: urls.resource, name: 'Demo notes API', scopes: [DEMO_RESOURCE_SCOPE], introspection_client_ids: [] },
      // The issuer itself, where UserInfo is (RFC 9068 §3): the web client asks for it as a second
      // resource, so that it can get a token for UserInfo besides the one for the notes API.
      { resource: urls.issuer, name: 'Gatehouse UserInfo', scopes: [], introspection_client_ids: [] },
    ],
  };
}
