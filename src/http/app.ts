/**
 * The HTTP layer: a Fastify instance that only translates between HTTP and the framework-free
 * protocol handlers in src/core.
 */
import { pageKitFor } from '../ui/page-kit.js';
import { pageContext } from './page-context.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { DEFAULT_SETTINGS, type GatehouseSettings } from '../config/settings.js';
import { ENDPOINT_PATHS, type ProviderContext } from '../core/context.js';
import { InvalidRequest } from '../core/errors.js';
import { Params } from '../core/params.js';
import { renderErrorPage } from '../ui/pages.js';
import { allowCrossOrigin } from './cors.js';
import { errorHandler, sendOAuthJson } from './error-responses.js';
import { explainsErrors } from '../config/resolve-settings.js';
import { sendHtml } from './html-response.js';
import { loggingOptions, type LogDestination } from './logging.js';
import { RouteMethods } from './method-not-allowed.js';
import { registerAccountRoutes } from './routes/account.js';
import { registerConsoleRoutes } from './routes/console/console-routes.js';
import { registerAuthorizationRoutes } from './routes/authorize.js';
import { registerDeviceRoutes } from './routes/device.js';
import { registerDiscoveryRoutes } from './routes/discovery.js';
import { recordFlows } from './inspector-hooks.js';
import { registerInspectorRoutes } from './routes/inspector.js';
import { registerInteractionRoutes } from './routes/interaction.js';
import { registerLogoutRoutes } from './routes/logout.js';
import { registerOperationsRoutes } from './routes/operations.js';
import { registerParRoutes } from './routes/par.js';
import { registerRegistrationRoutes } from './routes/registration.js';
import { registerTokenRoutes } from './routes/token.js';
import { registerTokenManagementRoutes } from './routes/token-management.js';
import { registerUserInfoRoutes } from './routes/userinfo.js';
import { addSecurityHeaders } from './security-headers.js';
import { registerAdminApi as mountAdminApi, registerAdminResourceMetadata } from './routes/admin/admin-api.js';
import { traceRequests } from './tracing-hooks.js';

/** Form bodies are small: the largest legitimate one is a token request with a long verifier. */
export const FORM_BODY_LIMIT = 64 * 1024;

export interface AppOptions {
  /** JSON logs to stdout (true), to a destination, or none (false, the default). */
  logger?: boolean | LogDestination;
  /** Serve HTTPS with this PEM certificate (chain) and private key. */
  https?: { cert: string; key: string } | null;
  /**
   * Fastify's trustProxy: honour X-Forwarded-For/-Proto/-Host from these proxies (true: any,
   * a number: that many hops, a string: comma-separated addresses or CIDR ranges).
   */
  trustProxy?: boolean | number | string;
  /** Request, header, keep-alive and idle timeouts and the connection cap (default: the settings' defaults). */
  limits?: HttpLimits;
}

export type HttpLimits = Pick<
  GatehouseSettings,
  'requestTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'connectionTimeoutMs' | 'maxConnections'
>;

/**
 * Node's http.Server options for the limits. A client that opens a connection and sends its
 * headers or its announced body slowly, or never, holds a socket and its memory: the request
 * timeout (whole request) and the headers timeout answer it 408 and close the connection. Node
 * checks these every connectionsCheckingInterval (30 s by default, which would stretch a short
 * timeout), so the check runs at a quarter of the shorter timeout, at most once a second.
 */
function serverOptions(limits: HttpLimits) {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
}

/** RFC 6749 Appendix B: form bodies are UTF-8; a body declared in another charset is refused. */
function assertUtf8Charset(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new InvalidRequest('form bodies must be UTF-8 (RFC 6749 Appendix B)');
  }
}

export function buildApp(context: ProviderContext, options: AppOptions = {}): FastifyInstance {
  const limits = options.limits ?? DEFAULT_SETTINGS;
  const nodeOptions = serverOptions(limits);
  const app = Fastify({
    ...loggingOptions(options.logger ?? false),
    bodyLimit: FORM_BODY_LIMIT,
    // Fastify's own copies of Node's limits (it sets them on the server after creating it);
    // requestTimeout and connectionTimeout default to 0 there, which switches them off.
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // An https server takes the same http.Server options next to its certificate.
    ...(options.https
      ? { https: { cert: options.https.cert, key: options.https.key, ...nodeOptions } }
      : { http: nodeOptions }),
    // Fastify accepts a hop count at runtime (lib/request.js), though its types omit it.
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy as boolean | string } : {}),
  }) as unknown as FastifyInstance;
  // Connections beyond the cap are closed as soon as they are accepted.
  app.server.maxConnections = limits.maxConnections;
  installGatehouse(app, context);
  // RFC 9728 §3: at the root of the host, where a client told 401 by the admin API looks.
  registerAdminResourceMetadata(app, context);
  return app;
}

/**
 * The instance of `admin.listen`: the admin API alone (src/http/routes/admin/), on a listener
 * of its own, so that it can be kept off the public interface.
 */
export function buildAdminApp(context: ProviderContext, options: AppOptions = {}): FastifyInstance {
  const app = Fastify({
    ...loggingOptions(options.logger ?? false),
    ...(options.https ? { https: { cert: options.https.cert, key: options.https.key } } : {}),
  }) as unknown as FastifyInstance;
  app.removeAllContentTypeParsers();
  addSecurityHeaders(app);
  traceRequests(app, context);
  app.setNotFoundHandler((_request, reply) =>
    sendOAuthJson(reply, 404, { error: 'not_found', error_description: 'this listener serves only the admin API' }),
  );
  mountAdminApi(app, context);
  return app;
}

/**
 * Everything Gatehouse adds to a Fastify instance: its body parser, error and not-found handlers,
 * security headers, tracing, and every route. Also an encapsulated plugin context of an app's own
 * instance (src/embed.ts), where all of it stays inside the plugin; `notFound: false` leaves the
 * app's 404 handler alone (when mounted at the root of the app).
 */
export function installGatehouse(
  app: FastifyInstance,
  context: ProviderContext,
  options: { notFound?: boolean } = {},
): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (request, body, done) => {
      try {
        assertUtf8Charset(request.headers['content-type']);
        done(null, Params.fromUrlEncoded(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );

  const routeMethods = new RouteMethods();
  routeMethods.track(app);
  app.setErrorHandler(errorHandler({ explainErrors: explainsErrors(context.settings), context }));
  if (options.notFound !== false)
    app.setNotFoundHandler((request, reply) => notFound(routeMethods, request, reply, context));
  // Built now, so that a broken template or stylesheet fails the start, never a request.
  const kit = pageKitFor(context.settings);
  addSecurityHeaders(app, () =>
    kit.themeHref === null ? null : `${new URL(context.settings.issuer).origin}${kit.themeHref}`,
  );
  // Before any route: it wraps the route handlers as they are added.
  traceRequests(app, context);
  // The flow inspector, only while it is on: when off there is no hook and no /_gatehouse route.
  const inspector = context.inspector;
  if (inspector !== undefined) recordFlows(app, context, inspector);

  // First, so that its request hooks measure every route.
  registerOperationsRoutes(app, context);
  allowCrossOrigin(
    app,
    [
      '/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
      ENDPOINT_PATHS.jwks,
      ENDPOINT_PATHS.token,
      ENDPOINT_PATHS.pushedAuthorizationRequest,
      ENDPOINT_PATHS.revocation,
      ENDPOINT_PATHS.userinfo,
    ],
    ['GET', 'POST'],
  );
  registerDiscoveryRoutes(app, context);
  registerAuthorizationRoutes(app, context);
  registerInteractionRoutes(app, context);
  registerTokenRoutes(app, context);
  registerDeviceRoutes(app, context);
  registerParRoutes(app, context);
  registerRegistrationRoutes(app, context);
  registerTokenManagementRoutes(app, context);
  registerUserInfoRoutes(app, context);
  registerLogoutRoutes(app, context);
  registerAccountRoutes(app, context);
  // The web console (console.enabled): a client of this server, on the main listener (its redirect URI is the issuer's).
  registerConsoleRoutes(app, context);
  if (inspector !== undefined) registerInspectorRoutes(app, context, inspector);
  // With admin.listen, the admin API has a listener of its own instead (buildAdminApp).
  if (context.settings.admin.listen === undefined) mountAdminApi(app, context);
}

/** 404 for an unknown path; RFC 9110 §15.5.6 405 with `Allow` for a known path and another method. */
function notFound(
  routeMethods: RouteMethods,
  request: FastifyRequest,
  reply: FastifyReply,
  context: ProviderContext,
): FastifyReply {
  const path = (request.raw.url ?? '/').split('?')[0] ?? '/';
  const allowed = routeMethods.allowedMethods(path);
  if (!allowed) return sendOAuthJson(reply, 404, { error: 'not_found', error_description: 'no such endpoint' });
  reply.header('allow', allowed.allow.join(', '));
  const description = `${path} accepts only ${allowed.allow.join(', ')}`;
  if (allowed.kind === 'html') {
    const page = pageContext(request, context);
    return sendHtml(
      reply,
      405,
      renderErrorPage(
        {
          title: page.t.text('error.method_not_allowed'),
          message: page.t.text('error.method_not_allowed_text', { methods: allowed.allow.join(', ') }),
          lang: page.lang,
        },
        page.kit,
      ),
    );
  }
  return sendOAuthJson(reply, 405, {
    error: 'invalid_request',
    error_description: new InvalidRequest(description).description,
  });
}
