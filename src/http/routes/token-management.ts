/**
 * Back channel: revocation (RFC 7009 §2) and introspection (RFC 7662 §2). POST, form body,
 * client authentication, `Cache-Control: no-store`.
 */
import type { FastifyInstance } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { handleIntrospectionRequest } from '../../core/token/introspection.js';
import { handleRevocationRequest } from '../../core/token/revocation.js';
import { sendOAuthJson } from '../error-responses.js';
import { clientAuthenticationInput } from '../request-input.js';

export function registerTokenManagementRoutes(app: FastifyInstance, context: ProviderContext): void {
  app.post(ENDPOINT_PATHS.revocation, { config: { responseKind: 'json' } }, async (request, reply) => {
    await handleRevocationRequest(clientAuthenticationInput(request, ENDPOINT_PATHS.revocation), context);
    // RFC 7009 §2.2: 200 whether or not the token was valid; the body is ignored by clients.
    return sendOAuthJson(reply, 200, {});
  });

  app.post(ENDPOINT_PATHS.introspection, { config: { responseKind: 'json' } }, async (request, reply) => {
    const response = await handleIntrospectionRequest(
      clientAuthenticationInput(request, ENDPOINT_PATHS.introspection),
      context,
    );
    return sendOAuthJson(reply, 200, response);
  });
}
