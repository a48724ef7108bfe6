/**
 * Gatehouse inside an existing app (docs/embedding.md): the same routes
 * as the standalone server, mounted into the app's own Fastify instance (`mount`, or the
 * `fastifyPlugin`), or into Express or any Node HTTP app through `handler`.
 *
 * The options take the object of a config file (validated as one, with the same errors), and
 * optionally the app's own user table (src/core/users/user-directory.ts). When the issuer has a
 * path (e.g. `https://app.example/auth`), Gatehouse is mounted under that path: every endpoint,
 * `/auth/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4), and, at the root
 * of the app, `/.well-known/oauth-authorization-server/auth` (RFC 8414 §3.1, path-aware issuer).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { validateConfig } from './config/load-config.js';
import { resolveSettings } from './config/resolve-settings.js';
import type { GatehouseSettings } from './config/settings.js';
import type { ProviderContext } from './core/context.js';
import { externalUserDirectory, type ExternalUser, type ExternalUsers } from './core/users/user-directory.js';
import { FORM_BODY_LIMIT, installGatehouse } from './http/app.js';
import { loggingOptions, type LogDestination } from './http/logging.js';
import { registerMetadataRoute } from './http/routes/discovery.js';
import { registerAdminResourceMetadata } from './http/routes/admin/admin-api.js';
import { openInstance, startBackgroundWork } from './server.js';
import type { Store } from './store/store.js';

export type { ExternalUser, ExternalUsers } from './core/users/user-directory.js';

export interface GatehouseOptions<U extends ExternalUser = ExternalUser> {
  /** The object of a config file (docs/configuration.md): the same keys, validated the same way. */
  config?: unknown;
  /** GATEHOUSE_SECRET: at least 32 characters; required unless the issuer is a loopback address. */
  secret?: string;
  /** Environment variables read as the CLI reads them (default: none; `secret` is GATEHOUSE_SECRET). */
  env?: NodeJS.ProcessEnv;
  /** Relative SQLite paths and the development secret file are relative to it (default: process.cwd()). */
  cwd?: string;
  /** The app's own user table instead of Gatehouse's (see ExternalUsers). */
  users?: ExternalUsers<U>;
  /** Use this store instead of opening the config's `database` (the caller keeps ownership). */
  store?: Store;
  /** Logs of `handler` and of the background work (default false); mounted routes log through the app's logger. */
  logger?: boolean | LogDestination;
  /** Warnings meant for the operator (default: console.warn). */
  warn?: (message: string) => void;
}

export interface Gatehouse {
  settings: GatehouseSettings;
  context: ProviderContext;
  store: Store;
  /** The issuer's path (e.g. `/auth`), where the routes are mounted; '' at the root. */
  prefix: string;
  /**
   * Gatehouse's routes as an encapsulated Fastify plugin: register it with `{ prefix }`. `mount`
   * does that and adds the RFC 8414 §3.1 metadata route at the app's root.
   */
  fastifyPlugin: FastifyPluginAsync;
  /** Mounts Gatehouse into an app's Fastify instance (before `listen` or `ready`). */
  mount(app: FastifyInstance): Promise<void>;
  /**
   * A Node HTTP handler (Express: `app.use(gatehouse.handler)`). With `next` (Express), requests
   * outside the prefix and the metadata path pass on to the app; Express's mount path is undone
   * (`originalUrl`), so `app.use('/auth', gatehouse.handler)` works too.
   */
  handler: (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;
  /** Stops the background work, then closes the audit trail and the store (unless given). */
  close(): Promise<void>;
}

/** The RFC 8414 §3.1 metadata path for an issuer path, e.g. `/.well-known/oauth-authorization-server/auth`. */
export function metadataPathFor(prefix: string): string {
  return `/.well-known/oauth-authorization-server${prefix}`;
}

export async function createGatehouse<U extends ExternalUser = ExternalUser>(
  options: GatehouseOptions<U> = {},
): Promise<Gatehouse> {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const env = { ...options.env, ...(options.secret !== undefined ? { GATEHOUSE_SECRET: options.secret } : {}) };
  const source = 'Gatehouse options (config)';
  const settings = await resolveSettings({
    flags: {},
    env,
    cwd: options.cwd ?? process.cwd(),
    log: warn,
    config: { data: validateConfig(options.config, source), source },
  });
  const prefix = new URL(settings.issuer).pathname.replace(/\/+$/, '');
  // The handler's own Fastify instance (never listening); its logger also serves the background work.
  const inner = Fastify({ ...loggingOptions(options.logger ?? false), bodyLimit: FORM_BODY_LIMIT });
  const { store, ownsStore, audit, context } = await openInstance(
    settings,
    options.store !== undefined ? { store: options.store } : {},
    () => inner.log,
  );
  // The app's users, with a shadow row in the store per user signed in (src/core/users/user-directory.ts).
  if (options.users !== undefined) context.users = externalUserDirectory(options.users, store, context.now);

  const fastifyPlugin: FastifyPluginAsync = async (instance) => {
    installGatehouse(instance, context, { notFound: prefix !== '' });
  };
  const mount = async (app: FastifyInstance): Promise<void> => {
    if (prefix !== '') registerMetadataRoute(app, context, metadataPathFor(prefix));
    // RFC 9728 §3: the admin API's protected resource metadata, at the root of the app.
    registerAdminResourceMetadata(app, context);
    await app.register(fastifyPlugin, { prefix });
  };
  let background: Awaited<ReturnType<typeof startBackgroundWork>>;
  try {
    await mount(inner);
    await inner.ready();
    background = await startBackgroundWork(context, inner.log);
  } catch (error) {
    await audit.close().catch(() => {});
    if (ownsStore) await store.close();
    throw error;
  }

  const metadataPath = metadataPathFor(prefix);
  const ours = (path: string): boolean =>
    prefix === '' || path === prefix || path.startsWith(`${prefix}/`) || path === metadataPath;
  const handler: Gatehouse['handler'] = (req, res, next) => {
    const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    if (next !== undefined && !ours(url.split('?')[0] ?? '/')) {
      next();
      return;
    }
    req.url = url;
    inner.routing(req, res);
  };

  return {
    settings,
    context,
    store,
    prefix,
    fastifyPlugin,
    mount,
    handler,
    async close() {
      await background.stop();
      await inner.close();
      await audit.close();
      if (ownsStore) await store.close();
    },
  };
}
