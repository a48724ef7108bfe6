/**
 * Starting and stopping one Gatehouse instance: open the store, migrate, apply fixtures,
 * load or create the signing key, and listen.
 */
import type { FastifyInstance } from 'fastify';
import type { GatehouseSettings } from './config/settings.js';
import { applyFixtures } from './config/apply-fixtures.js';
import type { ProviderContext } from './core/context.js';
import { EventBus } from './core/events.js';
import { KeyRing, maxSignedTokenLifetimeSeconds } from './core/keys.js';
import { idTokenSigningAlgs } from './core/token/id-token.js';
import { LogoutDeliveryWorker } from './core/logout/delivery-worker.js';
import { buildApp } from './http/app.js';
import type { LogDestination } from './http/logging.js';
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
  close(): Promise<void>;
}

export interface StartOptions {
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
}

export async function createContext(
  settings: GatehouseSettings,
  store: Store,
  options: Pick<StartOptions, 'keyReloadIntervalMs'> = {},
): Promise<ProviderContext> {
  const events = new EventBus();
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
  try {
    await store.migrate();
    await applyFixtures(store, settings, Date.now());
    const context = await createContext(settings, store, options);
    const app = buildApp(context, {
      logger: options.logger ?? true,
      https: settings.tls,
      trustProxy: settings.trustProxy,
    });
    context.events.onAny((event) => app.log.info({ event }, event.type));
    context.events.onListenerError = (error, event) => app.log.error({ err: error, eventType: event.type }, 'event listener failed');
    await app.listen({ port: settings.port, host: settings.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.port;
    const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
    const scheme = settings.tls ? 'https' : 'http';
    if (options.issuerFromAddress) settings.issuer = `${scheme}://${host}:${port}`;
    // Keys rotated or retired by the CLI or another instance sharing the database.
    const stopKeyReload = context.keys.startAutoReload((error) => app.log.error({ err: error }, 'reloading the signing keys failed'));
    // Back-Channel Logout 1.0: deliveries queued by any instance; a logout here wakes it at once.
    const logoutDeliveryWorker = new LogoutDeliveryWorker(context, app.log);
    context.events.on('logout.succeeded', (event) => {
      if (event.backchannelClientIds.length > 0) logoutDeliveryWorker.kick();
    });
    logoutDeliveryWorker.start();
    return {
      url: `${scheme}://${host}:${port}`,
      app,
      store,
      context,
      logoutDeliveryWorker,
      async close() {
        stopKeyReload();
        await logoutDeliveryWorker.stop();
        await app.close();
        if (ownsStore) await store.close();
      },
    };
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
}
