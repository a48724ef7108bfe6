/**
 * The peer for the benchmark: `node --import tsx bench/servers/oidc-provider.ts`.
 *
 * oidc-provider (the installed version) configured like Gatehouse: authorization code with
 * PKCE (S256) required for every client, refresh tokens rotated at every use, client
 * credentials, ES256-signed JWT access tokens for the registered resource (RFC 8707 resource
 * indicators, RFC 9068), ES256 ID tokens, introspection and revocation enabled, the same users
 * and clients, and the same lifetimes (code 60 s, access token 1 h, refresh token 14 days,
 * session 8 h).
 *
 * Storage is an in-memory adapter written here: a Map with expiry and a grant index. The
 * library's own MemoryAdapter is an LRU of 1,000 entries meant for development; under load it
 * evicts live sessions and grants (and re-scans a grant's members at every write), which would
 * turn the comparison into a measurement of that limitation.
 *
 * Interactions are auto-approved: GET /interaction/:uid signs in the user named by
 * `login_hint` and grants whatever the consent prompt says is missing. The measured flows never
 * reach it: they come with a session cookie and a grant remembered from the setup.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
import {
  announceReady,
  endpointsAt,
  exitOnSignal,
  INTROSPECTOR_CLIENT_ID,
  OPAQUE_RESOURCE,
  REDIRECT_URI,
  RESOURCE,
  RESOURCE_SCOPE,
  SERVICE_CLIENT_ID,
  SIGNER_CLIENT_ID,
  signerKey,
  userName,
  WEB_CLIENT_ID,
  WEB_CLIENT_SCOPE,
  type Credentials,
} from '../lib/common.js';
import { BenchMemoryAdapter } from './memory-adapter.js';

/** Same lifetimes as Gatehouse's defaults (src/config/settings.ts). */
const TTL = {
  AccessToken: 3600,
  ClientCredentials: 3600,
  AuthorizationCode: 60,
  IdToken: 3600,
  RefreshToken: 14 * 24 * 3600,
  Session: 8 * 3600,
  Grant: 14 * 24 * 3600,
  Interaction: 600,
};

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingJwk = {
  ...(await exportJWK(privateKey)),
  kid: randomBytes(8).toString('base64url'),
  alg: 'ES256',
  use: 'sig',
};

const web: Credentials = { id: WEB_CLIENT_ID, secret: randomBytes(32).toString('base64url') };
const service: Credentials = { id: SERVICE_CLIENT_ID, secret: randomBytes(32).toString('base64url') };
const introspector: Credentials = { id: INTROSPECTOR_CLIENT_ID, secret: randomBytes(32).toString('base64url') };
const signer: Credentials = { id: SIGNER_CLIENT_ID, secret: '' };

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('no address');
const issuer = `http://127.0.0.1:${address.port}`;

const validUsers = new Set(Array.from({ length: 64 }, (_, index) => userName(index)));

const provider = new Provider(issuer, {
  adapter: BenchMemoryAdapter,
  clients: [
    {
      client_id: web.id,
      client_secret: web.secret,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      scope: WEB_CLIENT_SCOPE,
    },
    ...[service, introspector].map((credentials) => ({
      client_id: credentials.id,
      client_secret: credentials.secret,
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      scope: RESOURCE_SCOPE,
    })),
    // RFC 7523 §2.2, as Gatehouse: the private_key_jwt service, ES256 only, the same public key.
    {
      client_id: SIGNER_CLIENT_ID,
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [signerKey().publicJwk] },
      id_token_signed_response_alg: 'ES256',
      scope: RESOURCE_SCOPE,
    },
  ],
  clientDefaults: { id_token_signed_response_alg: 'ES256', token_endpoint_auth_method: 'client_secret_basic' },
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', RESOURCE_SCOPE],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  async findAccount(_ctx: unknown, sub: string) {
    if (!validUsers.has(sub)) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: `${sub}@bench.example`, email_verified: false, name: sub };
      },
    };
  },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  // oidc-provider keeps offline_access only with prompt=consent (OIDC Core §11), which would
  // force an interaction at every flow; Gatehouse's rule is "the client may use the
  // refresh_token grant", so use that, with tokens independent of the browser session.
  issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
    client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  ttl: TTL,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // RFC 9449, as Gatehouse: proofs accepted at the token endpoint, tokens bound (no nonces).
    dPoP: { enabled: true },
    introspection: {
      enabled: true,
      // Like Gatehouse: the client the token was issued to, or the resource's introspection client.
      allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) =>
        client.clientId === token.clientId || client.clientId === introspector.id,
    },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf ?? RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo(_ctx: unknown, indicator: string) {
        const served = { scope: RESOURCE_SCOPE, audience: indicator, accessTokenTTL: TTL.AccessToken };
        if (indicator === RESOURCE) return { ...served, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        if (indicator === OPAQUE_RESOURCE) return { ...served, accessTokenFormat: 'opaque' };
        throw new errors.InvalidTarget();
      },
    },
  },
});

interface InteractionDetails {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, string | undefined>;
  session?: { accountId: string };
  grantId?: string;
}

/** The auto-approving interaction: sign in the `login_hint` user, grant what is missing. */
async function interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const interaction = (await provider.interactionDetails(req, res)) as InteractionDetails;
  const { prompt, params } = interaction;
  if (prompt.name === 'login') {
    const accountId = params['login_hint'];
    if (accountId === undefined || !validUsers.has(accountId)) {
      res.statusCode = 400;
      res.end('login_hint must name a benchmark user');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') {
    const details = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: interaction.session!.accountId, clientId: params['client_id'] });
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId: string = await grant.save();
    const consent = interaction.grantId ? {} : { grantId };
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
    return;
  }
  res.statusCode = 400;
  res.end(`unsupported prompt ${prompt.name}`);
}

const callback = provider.callback() as (req: IncomingMessage, res: ServerResponse) => void;
server.on('request', (req: IncomingMessage, res: ServerResponse) => {
  if (req.method === 'GET' && req.url?.startsWith('/interaction/')) {
    interact(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
    return;
  }
  callback(req, res);
});
// Like Fastify's default, so both keep idle keep-alive connections the same way.
server.keepAliveTimeout = 72_000;

announceReady({
  kind: 'oidc-provider',
  pid: process.pid,
  port: address.port,
  issuer,
  endpoints: endpointsAt(issuer, { authorization: '/auth', token: '/token', introspection: '/token/introspection' }),
  clients: { web, service, introspector, signer },
  introspectionResource: OPAQUE_RESOURCE,
  notes: { adapter: 'in-memory (bench/servers/memory-adapter.ts)' },
});

exitOnSignal(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
