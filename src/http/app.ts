/**
 * The HTTP layer: a Fastify instance that only translates between HTTP and the framework-free
 * protocol handlers in src/core.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../core/context.js';
import { Params } from '../core/params.js';
import { allowCrossOrigin } from './cors.js';
import { handleError, sendOAuthJson } from './errors.js';
import { registerAuthorizationRoutes } from './routes/authorize.js';
import { registerDiscoveryRoutes } from './routes/discovery.js';
import { registerInteractionRoutes } from './routes/interaction.js';
import { registerLogoutRoutes } from './routes/logout.js';
import { registerOperationsRoutes } from './routes/operations.js';
import { registerTokenRoutes } from './routes/token.js';
import { registerTokenManagementRoutes } from './routes/token-management.js';
import { registerUserInfoRoutes } from './routes/userinfo.js';

/** Form bodies are small: the largest legitimate one is a token request with a long verifier. */
export const FORM_BODY_LIMIT = 64 * 1024;

export function buildApp(context: ProviderContext, options: { logger?: FastifyServerOptions['logger'] } = {}): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: FORM_BODY_LIMIT,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
    done(null, Params.fromUrlEncoded(body as string));
  });

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((_request, reply) => sendOAuthJson(reply, 404, { error: 'not_found', error_description: 'no such endpoint' }));

  // First, so that its request hooks measure every route.
  registerOperationsRoutes(app, context);
  allowCrossOrigin(
    app,
    ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', ENDPOINT_PATHS.jwks, ENDPOINT_PATHS.token, ENDPOINT_PATHS.revocation, ENDPOINT_PATHS.userinfo],
    ['GET', 'POST'],
  );
  registerDiscoveryRoutes(app, context);
  registerAuthorizationRoutes(app, context);
  registerInteractionRoutes(app, context);
  registerTokenRoutes(app, context);
  registerTokenManagementRoutes(app, context);
  registerUserInfoRoutes(app, context);
  registerLogoutRoutes(app, context);
  return app;
}
