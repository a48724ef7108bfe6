/**
 * Starting and stopping one Gatehouse instance: open the store, migrate, apply fixtures,
 * load or create the signing key, and listen.
 */
import type { FastifyInstance } from 'fastify';
import type { GatehouseSettings } from './config/settings.js';
import { applyFixtures } from './config/apply-fixtures.js';
import { AuditTrail, type AuditTrailOptions } from './core/audit.js';
import type { ProviderContext } from './core/context.js';
import { EventBus } from './core/events.js';
import { KeyRing, maxSignedTokenLifetimeSeconds } from './core/keys.js';
import { idTokenSigningAlgs } from './core/token/id-token.js';
import { LogoutDeliveryWorker } from './core/logout/delivery-worker.js';
import { buildApp } from './http/app.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export interface RunningGatehouse {
  /** The base URL it listens on, e.g. http://127.0.0.1:9001 */
  url: string;
  app: FastifyInstance;
  store: Store;
  context: ProviderContext;
  /** Sends the queued Back-Channel Logout tokens (started with the server, stopped by close). */
  logoutDeliveryWorker: LogoutDeliveryWorker;
  /** Writes the audit trail in batches; close() writes what is left. */
  audit: AuditTrail;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Use this store instead of opening settings.databaseUrl (the caller keeps ownership). */
  store?: Store;
  /** Pino logging (default true: JSON logs to stdout). */
  logger?: boolean;
  /**
   * When listening on port 0 (tests), set the issuer to the bound address once it is known.
   */
  issuerFromAddress?: boolean;
  /**
   * How often the signing keys are reloaded from the store, to see keys rotated or retired by the
   * CLI or another instance (default KEY_RELOAD_INTERVAL_MS, 30 s; tests shorten it).
   */
  keyReloadIntervalMs?: number;
  /** Batching of the audit trail (default: at most 1 s or 200 events before a write). */
  audit?: AuditTrailOptions;
}

/** How often forgotten brute-force counters are deleted. */
const RATE_LIMIT_PURGE_INTERVAL_MS = 10 * 60 * 1000;

export async function createContext(
  settings: GatehouseSettings,
  store: Store,
  options: Pick<StartOptions, 'keyReloadIntervalMs'> & { events?: EventBus } = {},
): Promise<ProviderContext> {
  const events = options.events ?? new EventBus();
  // A key for every ID token algorithm a client may register (id_token_signed_response_alg):
  // RS256 (many relying parties still expect it) and ES256 (also when the server signs with EdDSA).
  const keys = await KeyRing.open(store, settings.secret, settings.signingAlg, Date.now(), idTokenSigningAlgs(settings.signingAlg), {
    // A retired key stays published until the tokens it signed have expired.
    maxTokenLifetimeSeconds: maxSignedTokenLifetimeSeconds(settings),
    ...(options.keyReloadIntervalMs !== undefined ? { reloadIntervalMs: options.keyReloadIntervalMs } : {}),
  });
  return { settings, store, keys, events, now: () => Date.now() };
}

export async function startGatehouse(settings: GatehouseSettings, options: StartOptions = {}): Promise<RunningGatehouse> {
  const ownsStore = options.store === undefined;
  const store = options.store ?? (await openStore(settings.databaseUrl));
  const events = new EventBus();
  // Subscribed first, so that the config file's changes applied below are recorded too.
  const audit = new AuditTrail(store, events, options.audit);
  try {
    await store.migrate();
    await applyFixtures(store, settings, Date.now(), events);
    const context = await createContext(settings, store, { ...options, events });
    const app = buildApp(context, { logger: options.logger ?? true });
    audit.onError = (error) => app.log.error({ err: error, pending: audit.pending, dropped: audit.dropped }, 'writing the audit trail failed; will retry');
    context.events.onAny((event) => app.log.info({ event }, event.type));
    context.events.onListenerError = (error, event) => app.log.error({ err: error, eventType: event.type }, 'event listener failed');
    await app.listen({ port: settings.port, host: settings.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.port;
    const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
    if (options.issuerFromAddress) settings.issuer = `http://${host}:${port}`;
    // Keys rotated or retired by the CLI or another instance sharing the database.
    const stopKeyReload = context.keys.startAutoReload((error) => app.log.error({ err: error }, 'reloading the signing keys failed'));
    // Back-Channel Logout 1.0: deliveries queued by any instance; a logout here wakes it at once.
    const logoutDeliveryWorker = new LogoutDeliveryWorker(context, app.log);
    context.events.on('logout.succeeded', (event) => {
      if (event.backchannelClientIds.length > 0) logoutDeliveryWorker.kick();
    });
    logoutDeliveryWorker.start();
    const purge = setInterval(() => {
      store.rateLimits.purge(Date.now()).catch((error: unknown) => app.log.error({ err: error }, 'purging brute-force counters failed'));
    }, RATE_LIMIT_PURGE_INTERVAL_MS);
    purge.unref();
    return {
      url: `http://${host}:${port}`,
      app,
      store,
      context,
      logoutDeliveryWorker,
      audit,
      async close() {
        stopKeyReload();
        clearInterval(purge);
        await logoutDeliveryWorker.stop();
        await app.close();
        // After the in-flight requests: their events are in the buffer by now.
        await audit.close();
        if (ownsStore) await store.close();
      },
    };
  } catch (error) {
    await audit.close().catch(() => {});
    if (ownsStore) await store.close();
    throw error;
  }
}
