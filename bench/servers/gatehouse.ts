/**
 * Gatehouse for the benchmark: `node --import tsx bench/servers/gatehouse.ts --database URL`.
 *
 * Starts the real server, compiled (dist/server.js, from src/server.ts; bench/lib/compiled.ts), on 127.0.0.1 and a random port,
 * logging as `gatehouse start` does (info-level JSON lines to stdout, two per request: issue 14
 * measures with the request logs on; bench/lib/processes.ts drains them), with the benchmark's
 * users and resource as config fixtures, and registers the clients the way `gatehouse clients
 * create` does (generated secrets, stored as SHA-256). Prints one READY line with its pid, port
 * and the clients' credentials.
 *
 * `--no-request-log` turns logging off, to measure what the logs cost (not used by `npm run bench`).
 *
 * `--count-statements` counts the database statements per request (bench/statements.ts);
 * `--time-store` times each store call per request (bench/budget.ts).
 *
 * `--inspector` turns the flow inspector on (bench/run.ts target gatehouse-sqlite-inspector).
 *
 * `--fixture-clients` registers the clients as config-file fixtures instead, whose secrets
 * (chosen by a person, so possibly guessable) Gatehouse stores as argon2id: every client
 * authentication then costs an argon2 verification. Not used by `npm run bench`.
 */
import { randomBytes } from 'node:crypto';
import type { GatehouseSettings } from '../../src/config/settings.js';
import {
  announceReady,
  endpointsAt,
  exitOnSignal,
  INTROSPECTOR_CLIENT_ID,
  MAX_VIRTUAL_USERS,
  parseArgs,
  REDIRECT_URI,
  RESOURCE,
  RESOURCE_SCOPE,
  SERVICE_CLIENT_ID,
  USER_PASSWORD,
  userName,
  WEB_CLIENT_ID,
  SIGNER_CLIENT_ID,
  signerKey,
  type Credentials,
} from '../lib/common.js';
import { installStatementCounter, timeStore } from '../lib/statement-counter.js';
import { assertCompiledIsCurrent } from '../lib/compiled.js';

// The compiled server, as users run it (bench/lib/compiled.ts); types come from src/.
assertCompiledIsCurrent();
// A computed specifier: dist/ is loaded at run time only (the typecheck must not need it).
const DIST = new URL('../../dist/', import.meta.url).href;
const { DEFAULT_SETTINGS } = (await import(
  `${DIST}config/settings.js`
)) as typeof import('../../src/config/settings.js');
const { startGatehouse } = (await import(`${DIST}server.js`)) as typeof import('../../src/server.js');
const { openStore } = (await import(`${DIST}store/open-store.js`)) as typeof import('../../src/store/open-store.js');
const { registerClient } = (await import(
  `${DIST}core/registration/client-registration.js`
)) as typeof import('../../src/core/registration/client-registration.js');

const args = parseArgs(process.argv.slice(2));
// bench/statements.ts: count statement executions (before the store opens).
if (args.has('count-statements')) installStatementCounter();
const databaseUrl = args.get('database');
if (!databaseUrl) throw new Error('usage: gatehouse.ts --database URL');

const settings: GatehouseSettings = {
  ...DEFAULT_SETTINGS,
  inspector: { ...DEFAULT_SETTINGS.inspector, enabled: args.has('inspector') },
  issuer: 'http://127.0.0.1:0',
  host: '127.0.0.1',
  port: 0,
  databaseUrl,
  secret: randomBytes(32).toString('base64url'),
  clients: [],
  users: Array.from({ length: MAX_VIRTUAL_USERS }, (_, index) => ({
    username: userName(index),
    password: USER_PASSWORD,
    email: `${userName(index)}@bench.example`,
    name: `Bench User ${index}`,
  })),
  resources: [
    {
      resource: RESOURCE,
      name: 'Bench API',
      scopes: [RESOURCE_SCOPE],
      introspection_client_ids: [INTROSPECTOR_CLIENT_ID],
    },
  ],
  // `--trust-proxy 127.0.0.1`: X-Forwarded-For from the driver gives a request's client address
  // (bench/mixed-load.ts sends its malformed requests from other addresses, as attackers would).
  ...(args.has('trust-proxy') ? { trustProxy: args.get('trust-proxy')! } : {}),
};

const fixtureClients = args.has('fixture-clients');
const fixtureSecrets = new Map<string, string>();
if (fixtureClients) {
  const fixtures: Array<[string, string[], string]> = [
    [WEB_CLIENT_ID, ['authorization_code', 'refresh_token'], `openid profile email offline_access ${RESOURCE_SCOPE}`],
    [SERVICE_CLIENT_ID, ['client_credentials'], RESOURCE_SCOPE],
    [INTROSPECTOR_CLIENT_ID, ['client_credentials'], RESOURCE_SCOPE],
  ];
  for (const [clientId, grantTypes, scope] of fixtures) {
    const secret = randomBytes(32).toString('base64url');
    fixtureSecrets.set(clientId, secret);
    settings.clients.push({
      client_id: clientId,
      client_secret: secret,
      redirect_uris: grantTypes.includes('authorization_code') ? [REDIRECT_URI] : [],
      grant_types: grantTypes,
      response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope,
      require_pkce: true,
      // As for the registered clients below: the same ID tokens as the peer's.
      id_token_signed_response_alg: 'ES256',
      id_token_claims: false,
    });
  }
}

// bench/budget.ts: the CPU of each store call, per request. The store is opened here so that its
// methods are timed before the server first uses them (the server's tracing Proxy keeps the
// methods it has seen); this process closes it after the server.
const timedStore = args.has('time-store') ? await openStore(databaseUrl) : undefined;
if (timedStore) timeStore(timedStore);
const requestLogs = !args.has('no-request-log');
const gatehouse = await startGatehouse(settings, {
  logger: requestLogs,
  issuerFromAddress: true,
  ...(timedStore ? { store: timedStore } : {}),
});

async function createClient(metadata: Record<string, unknown>): Promise<Credentials> {
  const fixtureSecret = fixtureSecrets.get(metadata['client_id'] as string);
  if (fixtureSecret !== undefined) return { id: metadata['client_id'] as string, secret: fixtureSecret };
  const { client, clientSecret } = await registerClient(metadata, { generateSecret: true, now: Date.now() });
  await gatehouse.store.clients.upsert(client);
  if (clientSecret === null) throw new Error(`no secret generated for ${client.clientId}`);
  return { id: client.clientId, secret: clientSecret };
}

const web = await createClient({
  client_id: WEB_CLIENT_ID,
  client_name: 'Bench web app',
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: `openid profile email offline_access ${RESOURCE_SCOPE}`,
  require_pkce: true,
  // The same work as the peer (bench/servers/oidc-provider.ts): ES256 ID tokens (Gatehouse's
  // default for a client that names none is RS256), and the profile and email claims at UserInfo
  // only (oidc-provider's conformIdTokenClaims default), not in the ID token.
  id_token_signed_response_alg: 'ES256',
  id_token_claims: false,
});
const service = await createClient({
  client_id: SERVICE_CLIENT_ID,
  client_name: 'Bench service',
  redirect_uris: [],
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: RESOURCE_SCOPE,
});
const introspector = await createClient({
  client_id: INTROSPECTOR_CLIENT_ID,
  client_name: 'Bench API (introspection)',
  redirect_uris: [],
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: RESOURCE_SCOPE,
});

// RFC 7523 §2.2: the private_key_jwt service (ES256 only), with the benchmark's public key.
const signerClient = (
  await registerClient(
    {
      client_id: SIGNER_CLIENT_ID,
      client_name: 'Bench service (private_key_jwt)',
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [signerKey().publicJwk] },
      scope: RESOURCE_SCOPE,
    },
    { generateSecret: false, now: Date.now() },
  )
).client;
await gatehouse.store.clients.upsert(signerClient);
const signer: Credentials = { id: SIGNER_CLIENT_ID, secret: '' };

const base = gatehouse.url;
announceReady({
  kind: 'gatehouse',
  pid: process.pid,
  port: Number(new URL(base).port),
  issuer: gatehouse.context.settings.issuer,
  endpoints: endpointsAt(base, { authorization: '/authorize', token: '/token', introspection: '/introspect' }),
  clients: { web, service, introspector, signer },
  introspectionResource: RESOURCE,
  notes: {
    logging: requestLogs
      ? 'info-level request logs to stdout, as gatehouse start (the peer logs nothing)'
      : 'no request logging (--no-request-log)',
    ...(fixtureClients ? { clients: 'config-file fixtures (argon2id secrets)' } : {}),
  },
});

exitOnSignal(async () => {
  await gatehouse.close();
  await timedStore?.close();
});
