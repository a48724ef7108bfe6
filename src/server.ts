/**
 * Starting and stopping one Gatehouse instance: open the store, migrate, apply fixtures,
 * load or create the signing key, and listen.
 */
import { fapi2StartupWarnings } from './core/profile/fapi2-profile.js';
import type { FastifyInstance } from 'fastify';
import type { GatehouseSettings } from './config/settings.js';
import { applyFixtures } from './config/apply-fixtures.js';
import { AuditTrail, type AuditTrailOptions } from './core/audit/audit-trail.js';
import type { ProviderContext } from './core/context.js';
import { EventBus } from './core/events.js';
import { maxSignedTokenLifetimeSeconds } from './core/keys/key-lifecycle.js';
import { KeyRing } from './core/keys/key-ring.js';
import { idTokenSigningAlgs } from './core/token/id-token.js';
import { LogoutDeliveryWorker } from './core/logout/delivery-worker.js';
import { ClientResolver } from './core/clients/client-resolver.js';
import { ResourceCache } from './core/resources/resource-cache.js';
import { adminAudience, adminResource } from './core/admin/admin-access.js';
import { parseAdminListen } from './config/schema/admin-settings.js';
import { CleanupWorker } from './core/maintenance/cleanup-worker.js';
import { FlowInspector } from './core/inspector/flow-inspector.js';
import { recordLogoutDelivery } from './core/inspector/logout-delivery-step.js';
import { buildAdminApp, buildApp } from './http/app.js';
import type { LogDestination } from './http/logging.js';
import { openStore, type StoreLogger } from './store/open-store.js';
import type { Store } from './store/store.js';
import { tracedStore } from './store/traced-store.js';
import { ClientJwksCache } from './core/clients/client-jwks.js';
import { SubjectIdentifiers } from './core/users/subject-identifiers.js';
import { storeUserDirectory, type UserDirectory } from './core/users/user-directory.js';

export interface RunningGatehouse {
  /** The base URL it listens on, e.g. http://127.0.0.1:9001 */
  url: string;
  app: FastifyInstance;
  store: Store;
  context: ProviderContext;
  /** Sends the queued Back-Channel Logout tokens (started with the server, stopped by close). */
  logoutDeliveryWorker: LogoutDeliveryWorker;
  /** Deletes expired rows every settings.cleanupIntervalSeconds (started with the server). */
  cleanupWorker: CleanupWorker;
  /** Writes the audit trail in batches; close() writes what is left. */
  audit: AuditTrail;
  /** With `admin.listen`: the admin API's own listener and its base URL (the API is under /admin/v1 there). */
  admin?: { app: FastifyInstance; url: string };
  close(): Promise<void>;
}

export interface StartOptions {
  /** Where users are looked up and passwords checked (default: the store's users). */
  users?: UserDirectory;
  /** Use this store instead of opening settings.databaseUrl (the caller keeps ownership). */
  store?: Store;
  /** Pino logging (default true: JSON logs to stdout; a destination receives the JSON lines). */
  logger?: boolean | LogDestination;
  /**
   * When listening on port 0 (tests), set the issuer to the bound address once it is known.
   */
  issuerFromAddress?: boolean;
  /**
   * How often the signing keys are reloaded from the store, to see keys rotated or retired by the
   * CLI or another instance (default KEY_RELOAD_INTERVAL_MS, 30 s; tests shorten it).
   */
  keyReloadIntervalMs?: number;
  /**
   * close(): how long in-flight requests may take to finish before their connections are cut
   * (default SHUTDOWN_DRAIN_TIMEOUT_MS, 10 s).
   */
  shutdownDrainTimeoutMs?: number;
  /** Batching of the audit trail (default: at most 1 s or 200 events before a write). */
  audit?: AuditTrailOptions;
  /**
   * Certificate authorities (PEM) trusted instead of Node's when fetching Client ID Metadata
   * Documents: for tests against a server with a self-signed certificate.
   */
  outboundCa?: string;
}

/** Requests still running this long after a shutdown began are cut off. */
export const SHUTDOWN_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Stops accepting connections and waits for the requests in flight to finish (keep-alive
 * connections get `Connection: close`, idle ones are closed; requests arriving on them meanwhile
 * get 503), but no longer than `timeoutMs`: then the remaining connections are destroyed.
 */
async function drainHttp(app: FastifyInstance, timeoutMs: number): Promise<void> {
  const timer = setTimeout(() => {
    app.log.warn(
      { timeoutMs },
      'requests still running at the end of the shutdown drain time; closing their connections',
    );
    app.server.closeAllConnections();
  }, timeoutMs);
  timer.unref();
  // The server closes the connections idle when the shutdown starts; a keep-alive connection
  // whose request finishes later would stay open until its keep-alive timeout. Closing idle
  // connections as they become idle lets the process exit as soon as the last request is done.
  const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
  reaper.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
    clearInterval(reaper);
  }
}

/** How often expired flow inspector steps are deleted (while the inspector is on). */
const INSPECTOR_CLEANUP_INTERVAL_MS = 60 * 1000;

/** How often forgotten brute-force counters are deleted. */
const RATE_LIMIT_PURGE_INTERVAL_MS = 10 * 60 * 1000;

export async function createContext(
  settings: GatehouseSettings,
  store: Store,
  options: Pick<StartOptions, 'keyReloadIntervalMs' | 'outboundCa'> & { events?: EventBus; users?: UserDirectory } = {},
): Promise<ProviderContext> {
  const events = options.events ?? new EventBus();
  // A key for every ID token algorithm a client may register (id_token_signed_response_alg):
  // RS256 (the default of OpenID Connect Dynamic Client Registration §2, and of
  // id_token_signed_response_alg_default) and ES256 (also when the server signs with EdDSA).
  const keys = await KeyRing.open(
    store,
    settings.secret,
    settings.signingAlg,
    Date.now(),
    idTokenSigningAlgs(settings.signingAlg, settings.idTokenSignedResponseAlgDefault),
    {
      // A retired key stays published until the tokens it signed have expired.
      maxTokenLifetimeSeconds: maxSignedTokenLifetimeSeconds(settings),
      ...(options.keyReloadIntervalMs !== undefined ? { reloadIntervalMs: options.keyReloadIntervalMs } : {}),
    },
  );
  const cacheOptions = { ttlMs: settings.clientCacheTtlSeconds * 1000 };
  // The admin API is a built-in protected resource: tokens are issued for it without registration.
  const resources = new ResourceCache(store, cacheOptions, (identifier) =>
    settings.admin.enabled && identifier === adminAudience(settings.issuer)
      ? adminResource(settings.issuer)
      : undefined,
  );
  const context: Omit<ProviderContext, 'clientKeys' | 'clients'> &
    Partial<Pick<ProviderContext, 'clientKeys' | 'clients'>> = {
    settings,
    store,
    keys,
    resources,
    events,
    subjects: SubjectIdentifiers.fromSecret(settings.secret),
    users: options.users ?? storeUserDirectory(store),
    now: () => Date.now(),
    // The flow inspector exists only when enabled: off, nothing records (docs/inspector.md).
    ...(settings.inspector?.enabled ? { inspector: new FlowInspector(store, settings.inspector) } : {}),
  };
  // Reads the context's clock and settings at each use (tests replace `now`).
  context.clientKeys = new ClientJwksCache(context);
  // Registered clients, and those of Client ID Metadata Documents (src/core/clients/client-resolver.ts).
  context.clients = new ClientResolver(
    context,
    cacheOptions,
    options.outboundCa !== undefined ? { ca: options.outboundCa } : {},
  );
  return context as ProviderContext;
}

/**
 * Keeps the context's caches in step with changes made elsewhere (the CLI, other instances):
 * a changed client is dropped from the client cache, new or retired signing keys are reloaded,
 * and after a reconnect of the notification connection everything is dropped and reloaded.
 * Returns the function that stops listening.
 */
export function followStoreChanges(
  context: ProviderContext,
  onError: (error: unknown, what: string) => void,
): () => void {
  const reloadKeys = (): void => {
    context.keys.refresh().catch((error: unknown) => onError(error, 'reloading the signing keys failed'));
  };
  return context.store.changes.subscribe({
    onChange(change) {
      context.clients.apply(change);
      context.resources.apply(change);
      if (change.kind === 'signing_keys') reloadKeys();
    },
    onReset() {
      context.clients.clear();
      context.resources.clear();
      reloadKeys();
    },
    onError(error) {
      onError(error, 'the change notification connection failed; reconnecting');
    },
  });
}

export async function startGatehouse(
  settings: GatehouseSettings,
  options: StartOptions = {},
): Promise<RunningGatehouse> {
  // The store logs (e.g. PostgreSQL connections lost) through the server's logger once it exists.
  let log: StoreLogger | undefined;
  const { store, ownsStore, audit, context } = await openInstance(settings, options, () => log);
  try {
    const app = buildApp(context, {
      logger: options.logger ?? true,
      https: settings.tls,
      trustProxy: settings.trustProxy,
      limits: settings,
    });
    log = app.log;
    audit.onError = (error) =>
      app.log.error(
        { err: error, pending: audit.pending, dropped: audit.dropped },
        'writing the audit trail failed; will retry',
      );
    await app.listen({ port: settings.port, host: settings.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.port;
    const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
    const scheme = settings.tls ? 'https' : 'http';
    if (options.issuerFromAddress) settings.issuer = `${scheme}://${host}:${port}`;
    const admin = await listenForAdmin(context, settings, app, options);
    const background = await startBackgroundWork(context, app.log);
    return {
      url: `${scheme}://${host}:${port}`,
      app,
      store,
      context,
      logoutDeliveryWorker: background.logoutDeliveryWorker,
      cleanupWorker: background.cleanupWorker,
      audit,
      ...(admin !== undefined ? { admin } : {}),
      // Graceful shutdown: no new background work, in-flight requests finish (bounded), then the
      // database pool closes. Everything is in the database, so a restart loses nothing.
      async close() {
        await background.stop();
        if (admin !== undefined)
          await drainHttp(admin.app, options.shutdownDrainTimeoutMs ?? SHUTDOWN_DRAIN_TIMEOUT_MS);
        await drainHttp(app, options.shutdownDrainTimeoutMs ?? SHUTDOWN_DRAIN_TIMEOUT_MS);
        // After the in-flight requests: their events are in the buffer by now.
        await audit.close();
        await context.inspector?.flush();
        if (ownsStore) await store.close();
      },
    };
  } catch (error) {
    await audit.close().catch(() => {});
    if (ownsStore) await store.close();
    throw error;
  }
}

/**
 * `admin.listen`: the admin API on a listener of its own (closed again when the main one fails
 * to start); undefined without the setting.
 */
async function listenForAdmin(
  context: ProviderContext,
  settings: GatehouseSettings,
  main: FastifyInstance,
  options: StartOptions,
): Promise<{ app: FastifyInstance; url: string } | undefined> {
  if (!settings.admin.enabled || settings.admin.listen === undefined) return undefined;
  const { host, port } = parseAdminListen(settings.admin.listen);
  const app = buildAdminApp(context, { logger: options.logger ?? true, https: settings.tls });
  try {
    await app.listen({ host, port });
  } catch (error) {
    await main.close();
    throw error;
  }
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { app, url: `${settings.tls ? 'https' : 'http'}://${shown}:${bound}` };
}

/** What one instance holds besides HTTP: the store (opened unless given), the audit trail, the context. */
export interface OpenedInstance {
  store: Store;
  ownsStore: boolean;
  audit: AuditTrail;
  context: ProviderContext;
}

/**
 * Opens the store (unless `options.store`), migrates it, applies the config's fixtures and
 * creates the context; closes what it opened when any of it fails. `log`: the logger the store
 * writes to, once there is one.
 */
export async function openInstance(
  settings: GatehouseSettings,
  options: Pick<StartOptions, 'store' | 'audit' | 'keyReloadIntervalMs' | 'outboundCa'> & { users?: UserDirectory },
  log: () => StoreLogger | undefined,
): Promise<OpenedInstance> {
  const ownsStore = options.store === undefined;
  const storeLog: StoreLogger = {
    debug: (obj, msg) => log()?.debug(obj, msg),
    info: (obj, msg) => log()?.info(obj, msg),
    warn: (obj, msg) => log()?.warn(obj, msg),
    error: (obj, msg) => log()?.error(obj, msg),
  };
  // OpenTelemetry spans around every store call, while an SDK is registered (docs/operations.md, Tracing).
  const store = tracedStore(options.store ?? (await openStore(settings.databaseUrl, { logger: storeLog })));
  const events = new EventBus();
  // Subscribed first, so that the config file's changes applied below are recorded too.
  const audit = new AuditTrail(store, events, options.audit);
  try {
    await store.migrate();
    await applyFixtures(store, settings, Date.now(), events);
    const context = await createContext(settings, store, { ...options, events });
    return { store, ownsStore, audit, context };
  } catch (error) {
    await audit.close().catch(() => {});
    if (ownsStore) await store.close();
    throw error;
  }
}

/** A logger as Fastify's (pino). */
type InstanceLogger = FastifyInstance['log'];

/**
 * The background work of one instance: logging the events, the key reload, following the
 * store's changes, the cleanup and logout delivery workers, purging brute-force counters.
 * `stop` ends all of it.
 */
export async function startBackgroundWork(
  context: ProviderContext,
  log: InstanceLogger,
): Promise<{ cleanupWorker: CleanupWorker; logoutDeliveryWorker: LogoutDeliveryWorker; stop(): Promise<void> }> {
  const { store, settings } = context;
  // FAPI 2.0: a client held to the profile that breaks it is refused at request time; say so now.
  for (const warning of fapi2StartupWarnings(await store.clients.list(), settings)) log.warn(warning);
  context.events.onAny((event) => log.info({ event }, event.type));
  context.events.onListenerError = (error, event) =>
    log.error({ err: error, eventType: event.type }, 'event listener failed');
  // Keys rotated or retired by the CLI or another instance sharing the database.
  const stopKeyReload = context.keys.startAutoReload((error) =>
    log.error({ err: error }, 'reloading the signing keys failed'),
  );
  // ... and at once when the store announces a change (PostgreSQL LISTEN/NOTIFY).
  const stopFollowing = followStoreChanges(context, (error, what) => log.warn({ err: error }, what));
  const cleanupWorker = new CleanupWorker(store, settings, log);
  cleanupWorker.start();
  // Back-Channel Logout 1.0: deliveries queued by any instance; a logout here wakes it at once.
  // With the flow inspector on, each attempt is drawn in the flow of its logout.
  const inspector = context.inspector;
  const logoutDeliveryWorker = new LogoutDeliveryWorker(
    context,
    log,
    inspector !== undefined ? { onAttempt: (attempt) => recordLogoutDelivery(inspector, attempt) } : {},
  );
  context.events.on('logout.succeeded', (event) => {
    if (event.backchannelClientIds.length > 0) logoutDeliveryWorker.kick();
  });
  logoutDeliveryWorker.start();
  const purge = setInterval(() => {
    store.rateLimits
      .purge(Date.now())
      .catch((error: unknown) => log.error({ err: error }, 'purging brute-force counters failed'));
  }, RATE_LIMIT_PURGE_INTERVAL_MS);
  purge.unref();
  let inspectorCleanup: NodeJS.Timeout | undefined;
  if (inspector !== undefined) {
    inspector.onError = (error) => log.error({ err: error }, 'the flow inspector could not write a step');
    // Flow steps stay in the store for inspector.retention_minutes.
    inspectorCleanup = setInterval(() => {
      inspector.cleanup().catch((error: unknown) => log.error({ err: error }, 'cleaning up flow steps failed'));
    }, INSPECTOR_CLEANUP_INTERVAL_MS);
    inspectorCleanup.unref();
  }
  return {
    cleanupWorker,
    logoutDeliveryWorker,
    async stop() {
      stopKeyReload();
      stopFollowing();
      clearInterval(purge);
      clearInterval(inspectorCleanup);
      await cleanupWorker.stop();
      await logoutDeliveryWorker.stop();
    },
  };
}
