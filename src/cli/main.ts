/**
 * The `gatehouse` command line:
 *
 *   gatehouse start [--config FILE] [--port N] [--host H] [--issuer URL] [--database URL]
 *                   [--tls-cert FILE --tls-key FILE] [--trust-proxy PROXIES] [--allow-http-issuer]
 *   gatehouse migrate [--config FILE] [--database URL]
 *   gatehouse cleanup [--config FILE] [--database URL] [--batch-size N] [--json]
 *   gatehouse clients create|list|show <id>|delete <id>
 *   gatehouse users create|list|delete <username>
 *   gatehouse resources create <uri>|list|delete <uri>
 *   gatehouse logout-deliveries list [--failed] [--limit N] [--json]
 *   gatehouse audit [--type TYPE] [--client ID] [--user NAME] [--since TIME|DURATION] [--limit N] [--json]
 *   gatehouse keys list|rotate [--alg ALG] [--activate-after SECONDS]|retire <kid>
 *   gatehouse demo [--database URL] [--host H] [--client-port N] [--server-port N] [--resource-port N]
 *
 * Every command resolves its settings the same way (src/config/resolve-settings.ts). Expected
 * failures (bad configuration, invalid client metadata, duplicates, unknown ids) print one
 * line to stderr and exit with code 1, never a stack trace.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { ClientMetadataError, clientToMetadata, registerClient, type ClientMetadataView } from '../core/client-metadata.js';
import { AUDITED_EVENT_TYPES, AuditTrail } from '../core/audit.js';
import { EventBus } from '../core/events.js';
import { hashPassword } from '../core/secrets.js';
import { UserClaimError, validateUserClaims } from '../core/user-claims.js';
import { ConfigError } from '../config/load-config.js';
import { resolveSettings, type SettingsFlags } from '../config/resolve-settings.js';
import type { GatehouseSettings } from '../config/settings.js';
import type { AuditEvent, ProtectedResource, SigningKeyRecord, Store, User } from '../store/store.js';
import { resourceIdentifierProblem } from '../config/load-config.js';

/** An expected failure of a command; printed as one line. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

interface StoreFlags {
  config?: string;
  database?: string;
}

const writeOut = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};
const writeErr = (text: string): void => {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
};

function packageVersion(): string {
  try {
    // src/cli/main.ts and dist/cli/main.js are both two levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function addStoreOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'config file (YAML or JSON; default: $GATEHOUSE_CONFIG)')
    .option('--database <url>', 'database URL: sqlite:PATH or postgres://... (default: $GATEHOUSE_DATABASE_URL, the config file, or sqlite:./gatehouse.db)');
}

async function settingsFor(flags: SettingsFlags, requireSecret: boolean): Promise<GatehouseSettings> {
  return resolveSettings({
    flags,
    env: process.env,
    cwd: process.cwd(),
    log: (message) => writeErr(message),
    requireSecret,
  });
}

/**
 * Opens (and migrates, which is idempotent) the store named by the flags, runs `fn`, closes it.
 * The changes `fn` announces on `events` go to the audit trail, written before the store closes.
 */
async function withStore<T>(flags: StoreFlags, fn: (store: Store, events: EventBus) => Promise<T>): Promise<T> {
  const settings = await settingsFor({ config: flags.config, database: flags.database }, false);
  const { openStore } = await import('../store/open-store.js');
  const store = await openStore(settings.databaseUrl);
  const events = new EventBus();
  const audit = new AuditTrail(store, events);
  audit.onError = (error) => writeErr(`Warning: could not write the audit trail: ${error instanceof Error ? error.message : String(error)}`);
  try {
    await store.migrate();
    return await fn(store, events);
  } finally {
    await audit.close();
    await store.close();
  }
}

/** Unique-constraint violations of SQLite and PostgreSQL (a concurrent create won the race). */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function printJson(value: unknown): void {
  writeOut(JSON.stringify(value, null, 2));
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function describeClient(view: ClientMetadataView): string {
  const lines: Array<[string, string]> = [
    ['client_id', view.client_id],
    ['client_name', view.client_name ?? '-'],
    ['client_type', view.client_type],
    ['token_endpoint_auth_method', view.token_endpoint_auth_method],
    ['redirect_uris', view.redirect_uris.join(' ') || '-'],
    ['grant_types', view.grant_types.join(' ')],
    ['response_types', view.response_types.join(' ') || '-'],
    ['scope', view.scope],
    ['require_pkce', String(view.require_pkce)],
    ['subject_type', view.subject_type],
    ['post_logout_redirect_uris', view.post_logout_redirect_uris?.join(' ') ?? '-'],
    ['backchannel_logout_uri', view.backchannel_logout_uri ?? '-'],
    ...(view.backchannel_logout_uri !== undefined
      ? [['backchannel_logout_session_required', String(view.backchannel_logout_session_required ?? false)] as [string, string]]
      : []),
    ['created', new Date(view.client_id_issued_at * 1000).toISOString()],
  ];
  const width = Math.max(...lines.map(([key]) => key.length));
  return lines.map(([key, value]) => `${`${key}:`.padEnd(width + 1)}  ${value}`).join('\n');
}

function userView(user: User): { id: string; username: string; email: string | null; name: string | null; claims: Record<string, unknown>; created_at: string } {
  return { id: user.id, username: user.username, email: user.email, name: user.name, claims: user.claims, created_at: new Date(user.createdAt).toISOString() };
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) writeErr('Enter the password, then press Enter and Ctrl-D:');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * SIGINT/SIGTERM close `running` gracefully and exit 0; a second signal exits at once with 1.
 */
function closeOnSignals(running: { close(): Promise<void> }, what: string): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) {
      writeErr(`Received ${signal} again; exiting immediately.`);
      process.exit(1);
    }
    closing = true;
    writeErr(`Received ${signal}; ${what}...`);
    running.close().then(
      () => process.exit(process.exitCode ?? 0),
      (error: unknown) => {
        writeErr(`gatehouse: error while shutting down: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

// --- commands --------------------------------------------------------------------------------

interface StartFlags extends StoreFlags {
  port?: string;
  host?: string;
  issuer?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
  allowHttpIssuer?: boolean;
}

async function startCommand(flags: StartFlags): Promise<void> {
  const settings = await settingsFor(flags, true);
  // Imported lazily: the administrative commands do not need the HTTP server.
  const { startGatehouse } = await import('../server.js');
  // `--port 0` (any free port) with the default issuer: the issuer follows the bound port.
  const issuerFromAddress = settings.port === 0 && (settings.issuer === 'http://localhost:0' || settings.issuer === 'https://localhost:0');
  const running = await startGatehouse(settings, { issuerFromAddress });
  writeOut(`Gatehouse is running.\n  Issuer:    ${settings.issuer}\n  Listening: ${running.url}\n  Discovery: ${settings.issuer}/.well-known/openid-configuration`);

  closeOnSignals(running, 'shutting down');
}

async function migrateCommand(flags: StoreFlags): Promise<void> {
  const settings = await settingsFor({ config: flags.config, database: flags.database }, false);
  const { openStore, redactUrl } = await import('../store/open-store.js');
  const store = await openStore(settings.databaseUrl);
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  writeOut(`Database schema is up to date (${redactUrl(settings.databaseUrl)}).`);
}

interface ClientCreateFlags extends StoreFlags {
  clientId?: string;
  name?: string;
  redirectUri: string[];
  grantType: string[];
  public?: boolean;
  tokenEndpointAuthMethod?: string;
  scope?: string;
  requirePkce: boolean;
  postLogoutRedirectUri: string[];
  backchannelLogoutUri?: string;
  backchannelLogoutSessionRequired?: boolean;
  subjectType?: string;
  json?: boolean;
}

async function clientsCreate(flags: ClientCreateFlags): Promise<void> {
  if (flags.public && flags.tokenEndpointAuthMethod !== undefined && flags.tokenEndpointAuthMethod !== 'none') {
    throw new CliError('--public means token_endpoint_auth_method "none"; do not combine it with --token-endpoint-auth-method');
  }
  const metadata: Record<string, unknown> = {
    client_id: flags.clientId,
    client_name: flags.name,
    redirect_uris: flags.redirectUri,
    grant_types: flags.grantType.length > 0 ? flags.grantType : undefined,
    token_endpoint_auth_method: flags.public ? 'none' : flags.tokenEndpointAuthMethod,
    scope: flags.scope,
    require_pkce: flags.requirePkce,
    post_logout_redirect_uris: flags.postLogoutRedirectUri.length > 0 ? flags.postLogoutRedirectUri : undefined,
    backchannel_logout_uri: flags.backchannelLogoutUri,
    backchannel_logout_session_required: flags.backchannelLogoutSessionRequired,
    subject_type: flags.subjectType,
  };
  // Validate before touching the database, so that a typo costs nothing. The config file's
  // outbound_allow_private_addresses decides whether a private-address backchannel_logout_uri is accepted.
  const { outboundAllowPrivateAddresses } = await settingsFor({ config: flags.config, database: flags.database }, false);
  const { client, clientSecret } = await registerClient(metadata, { generateSecret: true, now: Date.now(), outbound: { allowPrivateAddresses: outboundAllowPrivateAddresses } });
  await withStore(flags, async (store, events) => {
    if (await store.clients.get(client.clientId)) throw new CliError(`a client with client_id ${client.clientId} already exists`);
    try {
      await store.clients.create(client);
    } catch (error) {
      if (isUniqueViolation(error)) throw new CliError(`a client with client_id ${client.clientId} already exists`);
      throw error;
    }
    events.emit({ type: 'client.created', clientId: client.clientId, source: 'cli' });
  });

  const view = clientToMetadata(client);
  const note = 'Store the client secret now: it cannot be shown again (Gatehouse keeps only a hash of it).';
  if (flags.json) {
    printJson(clientSecret !== null ? { ...view, client_secret: clientSecret } : view);
    if (clientSecret !== null) writeErr(note);
    return;
  }
  writeOut(`Created ${view.client_type} client${view.client_name ? ` "${view.client_name}"` : ''}.`);
  writeOut(`client_id:     ${view.client_id}`);
  if (clientSecret !== null) {
    writeOut(`client_secret: ${clientSecret}`);
    writeOut('');
    writeOut(note);
  }
}

async function clientsList(flags: StoreFlags & { json?: boolean }): Promise<void> {
  const clients = await withStore(flags, (store) => store.clients.list());
  const views = clients.map(clientToMetadata);
  if (flags.json) return printJson(views);
  if (views.length === 0) return writeOut('No clients.');
  writeOut(
    table(
      ['CLIENT_ID', 'TYPE', 'NAME', 'GRANT_TYPES', 'REDIRECT_URIS'],
      views.map((view) => [view.client_id, view.client_type, view.client_name ?? '-', view.grant_types.join(','), view.redirect_uris.join(' ') || '-']),
    ),
  );
}

async function clientsShow(clientId: string, flags: StoreFlags & { json?: boolean }): Promise<void> {
  const client = await withStore(flags, (store) => store.clients.get(clientId));
  if (!client) throw new CliError(`no client with client_id ${clientId}`);
  const view = clientToMetadata(client);
  if (flags.json) return printJson(view);
  writeOut(describeClient(view));
}

async function clientsDelete(clientId: string, flags: StoreFlags): Promise<void> {
  const deleted = await withStore(flags, async (store, events) => {
    const done = await store.clients.delete(clientId);
    if (done) events.emit({ type: 'client.deleted', clientId, source: 'cli' });
    return done;
  });
  if (!deleted) throw new CliError(`no client with client_id ${clientId}`);
  writeOut(`Deleted client ${clientId} (and every grant, code and token issued to it).`);
}

interface UserCreateFlags extends StoreFlags {
  username: string;
  passwordStdin?: boolean;
  email?: string;
  name?: string;
  givenName?: string;
  familyName?: string;
  phone?: string;
  emailVerified?: boolean;
  json?: boolean;
}

async function usersCreate(flags: UserCreateFlags): Promise<void> {
  const username = flags.username;
  if (username.trim() === '' || username.trim() !== username || /[\x00-\x1F\x7F]/.test(username)) {
    throw new CliError('--username must be non-empty, without leading or trailing spaces or control characters');
  }
  if (flags.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(flags.email)) throw new CliError(`--email ${flags.email} is not an email address`);
  if (flags.name !== undefined && flags.name.trim() === '') throw new CliError('--name must not be empty');
  if (flags.emailVerified && flags.email === undefined) throw new CliError('--email-verified needs --email');
  // OpenID Connect Core §5.1 standard claims.
  let claims: Record<string, unknown>;
  try {
    claims = validateUserClaims({
      given_name: flags.givenName,
      family_name: flags.familyName,
      phone_number: flags.phone,
      email_verified: flags.email === undefined ? undefined : flags.emailVerified === true,
    });
  } catch (error) {
    if (!(error instanceof UserClaimError)) throw error;
    const flag = { given_name: '--given-name', family_name: '--family-name', phone_number: '--phone' }[error.field] ?? error.field;
    throw new CliError(`${flag}: ${error.message}`);
  }
  if (!flags.passwordStdin) {
    throw new CliError('a password is required: pass --password-stdin and write the password to standard input (passwords are never taken from the command line)');
  }
  // One trailing newline (from echo or a here-string) is not part of the password.
  const password = (await readStdin()).replace(/\r?\n$/, '');
  if (password === '') throw new CliError('the password read from standard input is empty');

  const user: User = {
    id: randomUUID(),
    username,
    passwordHash: await hashPassword(password),
    email: flags.email ?? null,
    name: flags.name ?? null,
    claims: { ...claims, updated_at: Math.floor(Date.now() / 1000) },
    createdAt: Date.now(),
  };
  await withStore(flags, async (store, events) => {
    if (await store.users.getByUsername(username)) throw new CliError(`a user named ${username} already exists`);
    try {
      await store.users.create(user);
    } catch (error) {
      if (isUniqueViolation(error)) throw new CliError(`a user named ${username} already exists`);
      throw error;
    }
    events.emit({ type: 'user.created', userId: user.id, username, source: 'cli' });
  });
  if (flags.json) return printJson(userView(user));
  writeOut(`Created user ${username} (id ${user.id}).`);
}

async function usersList(flags: StoreFlags & { json?: boolean }): Promise<void> {
  const users = await withStore(flags, (store) => store.users.list());
  const views = users.map(userView);
  if (flags.json) return printJson(views);
  if (views.length === 0) return writeOut('No users.');
  writeOut(
    table(
      ['USERNAME', 'EMAIL', 'NAME', 'CREATED', 'ID'],
      views.map((view) => [view.username, view.email ?? '-', view.name ?? '-', view.created_at, view.id]),
    ),
  );
}

async function usersDelete(username: string, flags: StoreFlags): Promise<void> {
  const deleted = await withStore(flags, async (store, events) => {
    const user = await store.users.getByUsername(username);
    const done = await store.users.delete(username);
    if (done) events.emit({ type: 'user.deleted', userId: user?.id ?? null, username, source: 'cli' });
    return done;
  });
  if (!deleted) throw new CliError(`no user named ${username}`);
  writeOut(`Deleted user ${username} (and their sessions, consents and grants).`);
}

interface ResourceCreateFlags extends StoreFlags {
  name?: string;
  scope: string[];
  introspectionClient: string[];
  json?: boolean;
}

function resourceView(resource: ProtectedResource) {
  return {
    resource: resource.identifier,
    name: resource.name,
    scopes: resource.scopes,
    introspection_client_ids: resource.introspectionClientIds,
    created_at: new Date(resource.createdAt).toISOString(),
  };
}

/** Registers (or replaces) a protected resource: RFC 8707 resource indicator and its scopes. */
async function resourcesCreate(identifier: string, flags: ResourceCreateFlags): Promise<void> {
  const problem = resourceIdentifierProblem(identifier);
  if (problem) throw new CliError(`resource ${problem}`);
  const scopes = flags.scope.flatMap((scope) => scope.split(' ')).filter((scope) => scope !== '');
  const resource = await withStore(flags, async (store) => {
    for (const clientId of flags.introspectionClient) {
      if (!(await store.clients.get(clientId))) throw new CliError(`--introspection-client ${clientId}: no such client`);
    }
    const existing = await store.resources.get(identifier);
    const record: ProtectedResource = {
      identifier,
      name: flags.name ?? null,
      scopes,
      introspectionClientIds: flags.introspectionClient,
      createdAt: existing?.createdAt ?? Date.now(),
    };
    await store.resources.upsert(record);
    return record;
  });
  if (flags.json) return printJson(resourceView(resource));
  writeOut(`Registered resource ${identifier}${scopes.length > 0 ? ` with scopes ${scopes.join(' ')}` : ''}.`);
}

async function resourcesList(flags: StoreFlags & { json?: boolean }): Promise<void> {
  const views = (await withStore(flags, (store) => store.resources.list())).map(resourceView);
  if (flags.json) return printJson(views);
  if (views.length === 0) return writeOut('No resources.');
  writeOut(
    table(
      ['RESOURCE', 'NAME', 'SCOPES', 'INTROSPECTION_CLIENTS'],
      views.map((view) => [view.resource, view.name ?? '-', view.scopes.join(' ') || '-', view.introspection_client_ids.join(' ') || '-']),
    ),
  );
}

async function resourcesDelete(identifier: string, flags: StoreFlags): Promise<void> {
  const deleted = await withStore(flags, (store) => store.resources.delete(identifier));
  if (!deleted) throw new CliError(`no resource ${identifier}`);
  writeOut(`Deleted resource ${identifier}.`);
}

interface DemoFlags {
  database?: string;
  host?: string;
  clientPort?: string;
  serverPort?: string;
  resourcePort?: string;
}

function portFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliError(`${name} must be an integer from 1 to 65535, not ${JSON.stringify(value)}`);
  return port;
}

/**
 * The demo's client side runs on openid-client and oauth4webapi, which are development
 * dependencies: a server install (`npm install --omit=dev`, or the published package, which
 * leaves dist/demo out) does not carry them, and says so instead of a module-resolution trace.
 */
async function importDemo<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new CliError(
        `the demo is not part of this installation (${(error as Error).message.split('\n')[0]}); run it from a clone of Gatehouse after \`npm install\`, which installs its development dependencies`,
      );
    }
    throw error;
  }
}

/**
 * The three-party demo: client, authorization server and protected resource on one machine.
 * Its fixtures (a user with a published password) are written to the demo database only: the
 * database comes from --database or the demo default, never from GATEHOUSE_DATABASE_URL or a
 * config file, and the issuer is always http://localhost:SERVER_PORT.
 */
async function demoCommand(flags: DemoFlags): Promise<void> {
  const { DEFAULT_DEMO_DATABASE, DEFAULT_DEMO_PORTS, DEMO_SPA_CLIENT_ID, DEMO_USER, DEMO_WEB_CLIENT_ID, DEMO_WEB_CLIENT_SECRET } = await importDemo(
    () => import('../demo/demo-config.js'),
  );
  const serverPort = portFlag('--server-port', flags.serverPort, DEFAULT_DEMO_PORTS.server);
  const clientPort = portFlag('--client-port', flags.clientPort, DEFAULT_DEMO_PORTS.client);
  const resourcePort = portFlag('--resource-port', flags.resourcePort, DEFAULT_DEMO_PORTS.resource);
  if (new Set([serverPort, clientPort, resourcePort]).size !== 3) throw new CliError('--client-port, --server-port and --resource-port must differ');
  // Only GATEHOUSE_SECRET is taken from the environment; without it the development secret file applies.
  const settings = await resolveSettings({
    flags: { database: flags.database ?? DEFAULT_DEMO_DATABASE, port: serverPort, issuer: `http://localhost:${serverPort}` },
    env: { GATEHOUSE_SECRET: process.env.GATEHOUSE_SECRET },
    cwd: process.cwd(),
    log: (message) => writeErr(message),
    requireSecret: true,
  });
  const { startDemo } = await importDemo(() => import('../demo/run-demo.js'));
  const { redactUrl } = await import('../store/open-store.js');
  let demo: Awaited<ReturnType<typeof startDemo>>;
  try {
    demo = await startDemo({
      secret: settings.secret,
      databaseUrl: settings.databaseUrl,
      host: flags.host ?? 'localhost',
      clientPort,
      serverPort,
      resourcePort,
      onEvent: (event) => {
        const details = Object.entries(event)
          .filter(([key, value]) => !['type', 'at', 'flowId', 'jti', 'grantId', 'userId'].includes(key) && value !== null)
          .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(' ') : String(value)}`)
          .join(' ');
        writeOut(`  [authorization server] ${event.type}${details ? ` ${details}` : ''}`);
      },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(`${(error as Error).message}: a port is in use; choose others with --client-port, --server-port and --resource-port`);
    }
    throw error;
  }
  const { urls } = demo;
  writeOut(
    [
      'Gatehouse demo is running: three parties on one machine.',
      '',
      `  Client, web app:          ${urls.client}   <- open this`,
      `  Client, single-page app:  ${urls.spa}`,
      `  Authorization server:     ${urls.issuer}   (the issuer; discovery at ${urls.issuer}/.well-known/openid-configuration)`,
      `  Protected resource:       ${urls.resourceOrigin}   (GET /notes needs scope notes:read and audience ${urls.resource})`,
      '',
      `  Demo user:   username ${DEMO_USER.username}, password ${DEMO_USER.password}`,
      `  Web client:  client_id ${DEMO_WEB_CLIENT_ID}, client_secret ${DEMO_WEB_CLIENT_SECRET} (confidential, client_secret_basic)`,
      `  SPA client:  client_id ${DEMO_SPA_CLIENT_ID} (public: no secret, PKCE)`,
      `  Database:    ${redactUrl(settings.databaseUrl)}`,
      '',
      'These are development credentials. Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  closeOnSignals(demo, 'shutting down the demo');
}

// --- cleanup of expired rows -----------------------------------------------------------------

interface CleanupFlags extends StoreFlags {
  batchSize?: string;
  json?: boolean;
}

/**
 * Deletes expired rows now (what the servers do every cleanup_interval_seconds) and prints the
 * count per table. On PostgreSQL it waits for a run of another instance to end first.
 */
async function cleanupCommand(flags: CleanupFlags): Promise<void> {
  const settings = await settingsFor({ config: flags.config, database: flags.database }, false);
  let batchSize = settings.cleanupBatchSize;
  if (flags.batchSize !== undefined) {
    batchSize = /^\d+$/.test(flags.batchSize.trim()) ? Number(flags.batchSize.trim()) : Number.NaN;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
      throw new CliError(`--batch-size must be an integer from 1 to 100000, not ${JSON.stringify(flags.batchSize)}`);
    }
  }
  const { cleanupPolicy, totalDeleted } = await import('../core/cleanup.js');
  const result = await withStore(flags, (store) => store.cleanup.run(Date.now(), cleanupPolicy(settings, batchSize), { wait: true }));
  if (result.status !== 'done') throw new CliError('another cleanup run holds the lock; try again');
  if (flags.json) return printJson(result.deleted);
  writeOut(table(['table', 'deleted'], Object.entries(result.deleted).map(([name, count]) => [name, String(count)])));
  writeOut(`${totalDeleted(result.deleted)} expired rows deleted.`);
}

// --- signing keys (OpenID Connect Core §10.1.1 key rotation) ----------------------------------

interface KeysFlags extends StoreFlags {
  json?: boolean;
}

interface KeysRotateFlags extends KeysFlags {
  alg?: 'ES256' | 'EdDSA' | 'RS256';
  activateAfter?: string;
}

/** The key management helpers, loaded when a `keys` command runs. */
async function keyTools() {
  const keys = await import('../core/keys.js');
  const { idTokenSigningAlgs } = await import('../core/token/id-token.js');
  /** How long retired keys stay published with these settings (every token they signed has expired then). */
  const retentionMs = (settings: GatehouseSettings): number => keys.retiredKeyRetentionMs(keys.maxSignedTokenLifetimeSeconds(settings));
  /** The algorithms a server with these settings signs with; each must keep an active key. */
  const requiredAlgs = (settings: GatehouseSettings) => [settings.signingAlg, ...idTokenSigningAlgs(settings.signingAlg)];
  /** Runs `fn`, turning a refusal into a one-line CLI failure. */
  const refusals = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof keys.KeyManagementError) throw new CliError(error.message);
      throw error;
    }
  };
  return { ...keys, retentionMs, requiredAlgs, refusals };
}

const isoTime = (ms: number): string => new Date(ms).toISOString();

function keyView(record: SigningKeyRecord, state: string, retentionMs: number) {
  return {
    kid: record.kid,
    alg: record.alg,
    state,
    created_at: isoTime(record.createdAt),
    activates_at: isoTime(record.activatesAt),
    retired_at: record.retiredAt === null ? null : isoTime(record.retiredAt),
    /** When a retired key leaves the JWKS. */
    published_until: record.retiredAt === null ? null : isoTime(record.retiredAt + retentionMs),
  };
}

async function keysList(flags: KeysFlags): Promise<void> {
  const tools = await keyTools();
  const settings = await settingsFor({ config: flags.config, database: flags.database }, false);
  const records = await withStore(flags, (store) => store.signingKeys.list());
  const now = Date.now();
  const retention = tools.retentionMs(settings);
  const views = records.map((record) => keyView(record, tools.keyState(record, records, now, retention), retention));
  if (flags.json) return printJson(views);
  if (views.length === 0) return writeOut('No signing keys (the server creates one at its first start).');
  writeOut(
    table(
      ['KID', 'ALG', 'STATE', 'CREATED', 'ACTIVATES', 'RETIRED'],
      views.map((view) => [view.kid, view.alg, view.state, view.created_at, view.activates_at, view.retired_at ?? '-']),
    ),
  );
}

function parseSeconds(flag: string, value: string): number {
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(seconds)) throw new CliError(`${flag} must be a whole number of seconds (0 or more), not ${JSON.stringify(value)}`);
  return seconds;
}

async function keysRotate(flags: KeysRotateFlags): Promise<void> {
  const tools = await keyTools();
  // The new private key is encrypted under GATEHOUSE_SECRET, like the server's.
  const settings = await settingsFor({ config: flags.config, database: flags.database }, true);
  const alg = flags.alg ?? settings.signingAlg;
  const delay = flags.activateAfter === undefined ? settings.keyActivationDelaySeconds : parseSeconds('--activate-after', flags.activateAfter);
  const now = Date.now();
  const { record, before } = await withStore(flags, async (store, events) => {
    const existing = await store.signingKeys.list();
    const created = await tools.refusals(() => tools.rotateSigningKey(store, settings.secret, { alg, activateAfterSeconds: delay, now, events }));
    return { record: created, before: existing };
  });
  const previous = tools.activeRecordFor(before, alg, now);
  const retention = tools.retentionMs(settings);
  const reload = `${tools.KEY_RELOAD_INTERVAL_MS / 1000} s`;
  // Until every server has loaded the key and every cached JWKS has expired, some verifiers lack it.
  const safeDelay = tools.JWKS_MAX_AGE_SECONDS + tools.KEY_RELOAD_INTERVAL_MS / 1000;
  if (delay < safeDelay) {
    writeErr(
      `Warning: the key signs in less than ${safeDelay} s (the ${reload} in which running servers load new keys plus the ${tools.JWKS_MAX_AGE_SECONDS} s a JWKS may be cached): verifiers with an older JWKS may refuse its tokens until they fetch the JWKS again.`,
    );
  }
  if (flags.json) return printJson(keyView(record, tools.keyState(record, [...before, record], now, retention), retention));
  writeOut(`Created ${alg} signing key ${record.kid}.`);
  // PostgreSQL announces the change (LISTEN/NOTIFY): servers load it at once; the periodic
  // reload is the bound when a notification is lost, and on SQLite.
  writeOut(`  Published in the JWKS: now (running servers load it at once on PostgreSQL, within ${reload} at most)`);
  writeOut(`  Signs from:            ${isoTime(record.activatesAt)}${delay > 0 ? ` (in ${delay} s)` : ''}`);
  if (previous) {
    writeOut('');
    writeOut(
      `The previous ${alg} key ${previous.kid} ${delay > 0 ? 'signs until then and ' : ''}keeps validating the tokens it signed: it stays in the JWKS. ` +
        `Once the new key is active, retire it with: gatehouse keys retire ${previous.kid}`,
    );
  }
}

async function keysRetire(kid: string, flags: KeysFlags): Promise<void> {
  const tools = await keyTools();
  const settings = await settingsFor({ config: flags.config, database: flags.database }, false);
  const record = await withStore(flags, (store, events) =>
    tools.refusals(() => tools.retireSigningKey(store, kid, { requiredAlgs: tools.requiredAlgs(settings), events })),
  );
  const retention = tools.retentionMs(settings);
  if (flags.json) return printJson(keyView(record, 'retired', retention));
  writeOut(
    `Retired signing key ${kid}: it no longer signs (running servers stop using it at once on PostgreSQL, within ${tools.KEY_RELOAD_INTERVAL_MS / 1000} s at most). ` +
      `It stays in the JWKS until ${isoTime(record.retiredAt! + retention)}, when every token it signed has expired.`,
  );
}

interface LogoutDeliveriesListFlags extends StoreFlags {
  failed?: boolean;
  limit?: string;
  json?: boolean;
}

/** Back-Channel Logout 1.0 deliveries: the queue, what was delivered, what failed and why. */
async function logoutDeliveriesList(flags: LogoutDeliveriesListFlags): Promise<void> {
  let limit: number | undefined;
  if (flags.limit !== undefined) {
    limit = /^\d{1,6}$/.test(flags.limit.trim()) ? Number(flags.limit.trim()) : Number.NaN;
    if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a positive integer, not ${JSON.stringify(flags.limit)}`);
  }
  const { deliveryStatus } = await import('../core/logout/delivery-worker.js');
  const deliveries = await withStore(flags, (store) => store.logoutDeliveries.list({ failed: flags.failed === true, ...(limit !== undefined ? { limit } : {}) }));
  const time = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  // The token itself is left out: it is a credential of the client until it expires.
  const views = deliveries.map((delivery) => ({
    id: delivery.id,
    client_id: delivery.clientId,
    uri: delivery.uri,
    status: deliveryStatus(delivery),
    attempts: delivery.attempts,
    last_error: delivery.lastError,
    next_attempt_at: time(delivery.nextAttemptAt),
    delivered_at: time(delivery.deliveredAt),
    created_at: time(delivery.createdAt),
  }));
  if (flags.json) return printJson(views);
  if (views.length === 0) return writeOut(flags.failed ? 'No failed logout deliveries.' : 'No logout deliveries.');
  writeOut(
    table(
      ['CREATED', 'CLIENT_ID', 'STATUS', 'ATTEMPTS', 'NEXT_ATTEMPT', 'LAST_ERROR', 'URI'],
      views.map((view) => [
        view.created_at ?? '-',
        view.client_id,
        view.status,
        String(view.attempts),
        view.next_attempt_at ?? '-',
        view.last_error ?? '-',
        view.uri,
      ]),
    ),
  );
}

// --- audit trail -------------------------------------------------------------------------------

interface AuditFlags extends StoreFlags {
  type: string[];
  client?: string;
  user?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

const DURATION_UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `--since`: an ISO 8601 time (2025-01-31, 2025-01-31T12:00:00Z) or a duration back from now (90s, 15m, 1h, 7d, 2w). */
export function parseSince(value: string, now: number): number {
  const text = value.trim();
  const duration = /^(\d{1,9})([smhdw])$/.exec(text);
  if (duration) return now - Number(duration[1]) * DURATION_UNITS_MS[duration[2]!]!;
  const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new CliError(`--since must be an ISO 8601 time such as 2025-01-31T12:00:00Z or a duration such as 15m, 1h or 7d, not ${JSON.stringify(value)}`);
  }
  return time;
}

function auditView(event: AuditEvent) {
  return {
    id: event.id,
    at: new Date(event.at).toISOString(),
    type: event.type,
    client_id: event.clientId,
    user_id: event.userId,
    username: event.username,
    ip: event.ip,
    flow_id: event.flowId,
    details: event.details,
  };
}

function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(' ') : typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(' ');
}

/** The audit trail, newest first, filtered. */
async function auditList(flags: AuditFlags): Promise<void> {
  const types = flags.type.flatMap((type) => type.split(',')).map((type) => type.trim()).filter((type) => type !== '');
  for (const type of types) {
    if (!(AUDITED_EVENT_TYPES as readonly string[]).includes(type)) {
      throw new CliError(`--type ${type} is not an audited event type (expected one of: ${AUDITED_EVENT_TYPES.join(', ')})`);
    }
  }
  let limit = 50;
  if (flags.limit !== undefined) {
    limit = /^\d{1,6}$/.test(flags.limit.trim()) ? Number(flags.limit.trim()) : Number.NaN;
    if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a positive integer, not ${JSON.stringify(flags.limit)}`);
  }
  const since = flags.since === undefined ? undefined : parseSince(flags.since, Date.now());
  const events = await withStore(flags, async (store) => {
    // --user takes a username (also one that does not exist: failed logins) or a user id.
    let users: string[] | undefined;
    if (flags.user !== undefined) {
      const user = await store.users.getByUsername(flags.user);
      users = user ? [flags.user, user.id] : [flags.user];
    }
    return store.audit.list({
      limit,
      ...(types.length > 0 ? { types } : {}),
      ...(flags.client !== undefined ? { clientId: flags.client } : {}),
      ...(users !== undefined ? { users } : {}),
      ...(since !== undefined ? { since } : {}),
    });
  });
  const views = events.map(auditView);
  if (flags.json) return printJson(views);
  if (views.length === 0) return writeOut('No audit events.');
  writeOut(
    table(
      ['TIME', 'TYPE', 'CLIENT_ID', 'USER', 'IP', 'DETAILS'],
      views.map((view) => [view.at, view.type, view.client_id ?? '-', view.username ?? view.user_id ?? '-', view.ip ?? '-', detailsText(view.details) || '-']),
    ),
  );
}

// --- program ---------------------------------------------------------------------------------

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('gatehouse')
    .description('Gatehouse: an OAuth 2.1 / OpenID Connect authorization server')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) });

  addStoreOptions(
    program
      .command('start')
      .description('start the server (applies config-file clients and users first)')
      .option('-p, --port <port>', 'port to listen on (default: $PORT, the config file, or 9001)')
      .option('--host <host>', 'interface to listen on (default: the config file, or localhost)')
      .option('--issuer <url>', 'issuer URL: https, or http on a loopback host (default: $GATEHOUSE_ISSUER, the config file, or http://localhost:PORT)')
      .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain) (default: $GATEHOUSE_TLS_CERT or the config file tls_cert)')
      .option('--tls-key <file>', 'the PEM private key of --tls-cert (default: $GATEHOUSE_TLS_KEY or the config file tls_key)')
      .option('--trust-proxy <proxies>', 'behind a TLS terminator: honour X-Forwarded-For/-Proto from true (any), a hop count, or comma-separated addresses/CIDRs (default: $GATEHOUSE_TRUST_PROXY, the config file, or false)')
      .option('--allow-http-issuer', 'accept a plain http issuer on a non-loopback host (insecure; private test networks only)'),
  ).action((flags: StartFlags) => startCommand(flags));

  addStoreOptions(program.command('migrate').description('create or upgrade the database schema')).action((flags: StoreFlags) => migrateCommand(flags));

  addStoreOptions(
    program
      .command('cleanup')
      .description('delete expired codes, tokens, sessions, interactions and old logout deliveries now, and print the counts per table')
      .option('--batch-size <n>', 'rows per DELETE statement (default: cleanup_batch_size of the config file, or 500)')
      .option('--json', 'print JSON'),
  ).action((flags: CleanupFlags) => cleanupCommand(flags));

  const clients = program.command('clients').description('manage OAuth clients');
  addStoreOptions(
    clients
      .command('create')
      .description('register a client; a confidential client gets a secret that is shown once')
      .option('--client-id <id>', 'client_id (default: a random one)')
      .option('--name <name>', 'client_name shown to users on the consent page')
      .option('--redirect-uri <uri>', 'redirect URI (repeatable)', collect, [])
      .option('--grant-type <type>', 'authorization_code, refresh_token or client_credentials (repeatable; default: authorization_code refresh_token)', collect, [])
      .option('--public', 'a public client (native or browser app): no secret, token_endpoint_auth_method none')
      .addOption(
        new Option('--token-endpoint-auth-method <method>', 'how a confidential client authenticates (default: client_secret_basic)').choices([
          'client_secret_basic',
          'client_secret_post',
          'none',
        ]),
      )
      .option('--scope <scopes>', 'space-separated scopes the client may request (default: "openid profile email offline_access")')
      .option('--no-require-pkce', 'do not require PKCE (confidential clients only; RFC 9700 §2.1.1)')
      .option('--subject-type <type>', 'public (sub is the user id, default) or pairwise (a different sub per redirect-URI host; OpenID Connect Core §8)')
      .option('--post-logout-redirect-uri <uri>', 'where the browser may return after signing out (repeatable; OpenID Connect RP-Initiated Logout 1.0)', collect, [])
      .option('--backchannel-logout-uri <uri>', 'where logout tokens are POSTed when a session ends (https, or http on a loopback host; OpenID Connect Back-Channel Logout 1.0)')
      .option('--backchannel-logout-session-required', 'the client needs sid in logout tokens (they always carry it)')
      .option('--json', 'print the client as JSON'),
  ).action((flags: ClientCreateFlags) => clientsCreate(flags));
  addStoreOptions(clients.command('list').description('list clients').option('--json', 'print JSON')).action((flags: StoreFlags & { json?: boolean }) =>
    clientsList(flags),
  );
  addStoreOptions(clients.command('show').description('show one client').argument('<client_id>').option('--json', 'print JSON')).action(
    (clientId: string, flags: StoreFlags & { json?: boolean }) => clientsShow(clientId, flags),
  );
  addStoreOptions(clients.command('delete').description('delete a client and everything issued to it').argument('<client_id>')).action(
    (clientId: string, flags: StoreFlags) => clientsDelete(clientId, flags),
  );

  const users = program.command('users').description('manage users');
  addStoreOptions(
    users
      .command('create')
      .description('create a user; the password is read from standard input')
      .requiredOption('--username <username>', 'login name')
      .option('--password-stdin', 'read the password from standard input (one trailing newline is removed)')
      .option('--email <email>', 'email address')
      .option('--name <name>', 'display name (OIDC claim name)')
      .option('--given-name <name>', 'given (first) name (OIDC claim given_name)')
      .option('--family-name <name>', 'family (last) name (OIDC claim family_name)')
      .option('--phone <number>', 'telephone number, preferably E.164 such as +15550100 (OIDC claim phone_number)')
      .option('--email-verified', 'the email address is verified (OIDC claim email_verified; default false)')
      .option('--json', 'print the user as JSON'),
  ).action((flags: UserCreateFlags) => usersCreate(flags));
  addStoreOptions(users.command('list').description('list users').option('--json', 'print JSON')).action((flags: StoreFlags & { json?: boolean }) =>
    usersList(flags),
  );
  addStoreOptions(users.command('delete').description('delete a user').argument('<username>')).action((username: string, flags: StoreFlags) =>
    usersDelete(username, flags),
  );

  const resources = program.command('resources').description('manage protected resources (RFC 8707 resource indicators)');
  addStoreOptions(
    resources
      .command('create')
      .description('register or replace a protected resource; tokens requested with resource=URI get it as audience')
      .argument('<resource>', 'the resource indicator: an absolute URI, e.g. https://api.example.com/')
      .option('--name <name>', 'a display name')
      .option('--scope <scope>', 'a scope the resource offers (repeatable)', collect, [])
      .option('--introspection-client <client_id>', 'a client allowed to introspect tokens for this resource (repeatable)', collect, [])
      .option('--json', 'print the resource as JSON'),
  ).action((identifier: string, flags: ResourceCreateFlags) => resourcesCreate(identifier, flags));
  addStoreOptions(resources.command('list').description('list protected resources').option('--json', 'print JSON')).action(
    (flags: StoreFlags & { json?: boolean }) => resourcesList(flags),
  );
  addStoreOptions(resources.command('delete').description('delete a protected resource').argument('<resource>')).action(
    (identifier: string, flags: StoreFlags) => resourcesDelete(identifier, flags),
  );

  const keys = program.command('keys').description('manage signing keys: rotation without invalidating issued tokens');
  addStoreOptions(keys.command('list').description('list signing keys: pending, active, previous, retired, expired').option('--json', 'print JSON')).action(
    (flags: KeysFlags) => keysList(flags),
  );
  addStoreOptions(
    keys
      .command('rotate')
      .description('create a signing key: published in the JWKS at once, signing after the activation delay')
      .addOption(new Option('--alg <alg>', 'algorithm of the new key (default: signing_alg)').choices(['ES256', 'EdDSA', 'RS256']))
      .option('--activate-after <seconds>', 'seconds until it starts signing (default: key_activation_delay_seconds, 600)')
      .option('--json', 'print the new key as JSON'),
  ).action((flags: KeysRotateFlags) => keysRotate(flags));
  addStoreOptions(
    keys
      .command('retire')
      .description('stop signing with a key; it stays in the JWKS until every token it signed has expired')
      .argument('<kid>', "the key id (from 'keys list'); a kid that starts with '-' goes after '--': keys retire -- -AbC...")
      .option('--json', 'print the key as JSON'),
  ).action((kid: string, flags: KeysFlags) => keysRetire(kid, flags));

  program
    .command('demo')
    .description('run the three-party demo: client (web app and SPA), authorization server and protected resource on localhost')
    .option('--database <url>', 'database URL for the demo (default: sqlite:./gatehouse-demo.db)')
    .option('--host <host>', 'interface the three servers listen on (default: localhost)')
    .option('--client-port <port>', 'port of the client (default: 9000)')
    .option('--server-port <port>', 'port of the authorization server; the issuer is http://localhost:PORT (default: 9001)')
    .option('--resource-port <port>', 'port of the protected resource (default: 9002)')
    .action((flags: DemoFlags) => demoCommand(flags));

  const logoutDeliveries = program.command('logout-deliveries').description('back-channel logout deliveries (OpenID Connect Back-Channel Logout 1.0)');
  addStoreOptions(
    logoutDeliveries
      .command('list')
      .description('list logout token deliveries, newest first: delivered, pending, retrying (with the last error) and failed')
      .option('--failed', 'only deliveries that failed at least once and are not delivered')
      .option('--limit <n>', 'at most this many')
      .option('--json', 'print JSON'),
  ).action((flags: LogoutDeliveriesListFlags) => logoutDeliveriesList(flags));

  addStoreOptions(
    program
      .command('audit')
      .description('list the audit trail, newest first: logins, consents, tokens, client/user/key changes, brute-force locks')
      .option('--type <type>', `only this event type (repeatable or comma-separated): ${AUDITED_EVENT_TYPES.join(', ')}`, collect, [])
      .option('--client <client_id>', 'only events of this client')
      .option('--user <username>', 'only events of this user (a username, also one that does not exist, or a user id)')
      .option('--since <time>', 'only events since an ISO 8601 time (2025-01-31T12:00:00Z) or for a duration back from now (15m, 1h, 7d)')
      .option('--limit <n>', 'at most this many (default 50)')
      .option('--json', 'print JSON'),
  ).action((flags: AuditFlags) => auditList(flags));

  return program;
}

/** One line describing an error, for stderr. */
function errorLine(error: unknown): string {
  if (error instanceof ConfigError || error instanceof CliError) return error.message;
  if (error instanceof ClientMetadataError) return `invalid client: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  return `unexpected error: ${message.split('\n')[0] ?? message} (set GATEHOUSE_DEBUG=1 for details)`;
}

/** Runs the CLI with `argv` as in `process.argv` (node, script, ...arguments). */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (or the help / version).
      process.exitCode = error.exitCode;
      return;
    }
    writeErr(`gatehouse: ${errorLine(error)}`);
    if (process.env.GATEHOUSE_DEBUG && error instanceof Error && error.stack) writeErr(error.stack);
    process.exitCode = 1;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href || import.meta.url === pathToFileURL(script).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  await main(process.argv);
}
