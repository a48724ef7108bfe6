/**
 * Starting and stopping one Gatehouse instance: open the store, migrate, apply fixtures,
 * load or create the signing key, and listen.
 */
import type { FastifyInstance } from 'fastify';
import type { GatehouseSettings } from './config/settings.js';
import { applyFixtures } from './config/apply-fixtures.js';
import type { ProviderContext } from './core/context.js';
import { EventBus } from './core/events.js';
import { KeyRing } from './core/keys.js';
import { buildApp } from './http/app.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export interface RunningGatehouse {
  /** The base URL it listens on, e.g. http://127.0.0.1:9001 */
  url: string;
  app: FastifyInstance;
  store: Store;
  context: ProviderContext;
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
}

export async function createContext(settings: GatehouseSettings, store: Store): Promise<ProviderContext> {
  const events = new EventBus();
  // RS256 too: many relying parties still expect it for ID tokens (id_token_signed_response_alg).
  const keys = await KeyRing.open(store, settings.secret, settings.signingAlg, Date.now(), ['RS256']);
  return { settings, store, keys, events, now: () => Date.now() };
}

export async function startGatehouse(settings: GatehouseSettings, options: StartOptions = {}): Promise<RunningGatehouse> {
  const ownsStore = options.store === undefined;
  const store = options.store ?? (await openStore(settings.databaseUrl));
  try {
    await store.migrate();
    await applyFixtures(store, settings, Date.now());
    const context = await createContext(settings, store);
    const app = buildApp(context, { logger: options.logger ?? true });
    context.events.onAny((event) => app.log.info({ event }, event.type));
    context.events.onListenerError = (error, event) => app.log.error({ err: error, eventType: event.type }, 'event listener failed');
    await app.listen({ port: settings.port, host: settings.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.port;
    const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
    if (options.issuerFromAddress) settings.issuer = `http://${host}:${port}`;
    return {
      url: `http://${host}:${port}`,
      app,
      store,
      context,
      async close() {
        await app.close();
        if (ownsStore) await store.close();
      },
    };
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
}
