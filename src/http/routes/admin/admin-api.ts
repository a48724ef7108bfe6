/**
 * The admin REST API under `/admin/v1` (docs/operating.md): an encapsulated Fastify plugin with
 * its own JSON body parser, RFC 9457 error handler and 404, every route family of this folder,
 * and the OpenAPI 3.1 document generated from the routes' schemas (@fastify/swagger) at
 * `/admin/v1/openapi.json`. Mounted on the main instance (installGatehouse), or alone on the
 * listener of `admin.listen` (src/server.ts).
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ADMIN_API_PATH, ADMIN_SCOPES, adminAudience } from '../../../core/admin/admin-access.js';
import type { ProviderContext } from '../../../core/context.js';
import { ENDPOINT_PATHS } from '../../../core/context.js';
import { adminErrorHandler, problemType, sendProblem } from '../../error-responses.js';
import { registerAdminClientRoutes } from './admin-client-routes.js';
import { adminGuard, adminResourceMetadataUrl } from './admin-guard.js';
import { registerAdminKeyRoutes } from './admin-key-routes.js';
import { registerAdminOperationRoutes } from './admin-operation-routes.js';
import { registerAdminResourceRoutes } from './admin-resource-routes.js';
import { registerAdminSessionRoutes } from './admin-session-routes.js';
import { registerAdminUserRoutes } from './admin-user-routes.js';

/** Admin request bodies are small: a client's metadata with a JWK Set is the largest. */
const ADMIN_BODY_LIMIT = 256 * 1024;

/** The OpenAPI document's description of how to get a token. */
function securityDescription(issuer: string): string {
  return `An access token issued by this Gatehouse (${issuer}) for the resource ${adminAudience(issuer)} (RFC 8707): client credentials (RFC 6749 §4.4) for automation, or a user token whose user holds the admin role. Scopes: ${ADMIN_SCOPES.join(', ')}.`;
}

/** The admin API as a plugin; register it with `{ prefix: ADMIN_API_PATH }`. */
export function adminApiPlugin(context: ProviderContext): FastifyPluginAsync {
  return async (instance) => {
    const issuer = context.settings.issuer;
    await instance.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Gatehouse admin API',
          version: '1',
          description:
            'Clients, users, protected resources, signing keys, sessions and grants, the audit trail and registration tokens. Errors are RFC 9457 problem details; changes need If-Match (see docs/operating.md).',
        },
        components: {
          securitySchemes: {
            gatehouse: {
              type: 'oauth2',
              description: securityDescription(issuer),
              flows: {
                clientCredentials: {
                  tokenUrl: `${issuer.replace(/\/+$/, '')}${ENDPOINT_PATHS.token}`,
                  scopes: Object.fromEntries(ADMIN_SCOPES.map((scope) => [scope, scope])),
                },
              },
            },
          },
        },
        security: [{ gatehouse: [] }],
      },
    });
    instance.addContentTypeParser(
      ['application/json', 'application/merge-patch+json'],
      { parseAs: 'string', bodyLimit: ADMIN_BODY_LIMIT },
      (_request, body, done) => {
        try {
          done(null, body === '' ? {} : (JSON.parse(body as string) as unknown));
        } catch {
          const error = Object.assign(new Error('the body is not JSON'), { statusCode: 400 });
          done(error, undefined);
        }
      },
    );
    instance.setErrorHandler(adminErrorHandler);
    instance.setNotFoundHandler((request, reply) =>
      sendProblem(reply, {
        type: problemType('not-found'),
        title: 'Not found',
        status: 404,
        detail: `no admin API endpoint ${request.method} ${request.url.split('?')[0]}`,
      }),
    );

    const guard = adminGuard(context);
    registerAdminClientRoutes(instance, context, guard);
    registerAdminUserRoutes(instance, context, guard);
    registerAdminResourceRoutes(instance, context, guard);
    registerAdminKeyRoutes(instance, context, guard);
    registerAdminSessionRoutes(instance, context, guard);
    registerAdminOperationRoutes(instance, context, guard);

    instance.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) =>
      reply.header('cache-control', 'no-cache').send(instance.swagger()),
    );
  };
}

/** Mounts the admin API on `app` at ADMIN_API_PATH when it is enabled. */
export function registerAdminApi(app: FastifyInstance, context: ProviderContext): void {
  if (!context.settings.admin.enabled) return;
  void app.register(adminApiPlugin(context), { prefix: ADMIN_API_PATH });
}

/**
 * RFC 9728 §3: the admin API's protected resource metadata, at the root of the host of its
 * resource identifier (a token's audience), so that a client told 401 finds how to get a token.
 */
export function registerAdminResourceMetadata(app: FastifyInstance, context: ProviderContext): void {
  if (!context.settings.admin.enabled) return;
  const path = new URL(adminResourceMetadataUrl(context.settings.issuer)).pathname;
  app.get(path, async (_request, reply) => {
    const issuer = context.settings.issuer;
    return reply.header('cache-control', 'max-age=3600').send({
      resource: adminAudience(issuer),
      authorization_servers: [issuer],
      scopes_supported: [...ADMIN_SCOPES],
      bearer_methods_supported: ['header'],
      resource_name: 'Gatehouse admin API',
    });
  });
}
