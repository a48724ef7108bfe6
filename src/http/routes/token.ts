/**
 * Back channel: the token endpoint, RFC 6749 §3.2. POST with a form body only.
 */
import type { FastifyInstance } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { handleTokenRequest } from '../../core/token/token-endpoint.js';
import { sendOAuthJson } from '../errors.js';
import { formParams } from '../request-input.js';

export function registerTokenRoutes(app: FastifyInstance, context: ProviderContext): void {
  app.post(ENDPOINT_PATHS.token, { config: { responseKind: 'json' } }, async (request, reply) => {
    const response = await handleTokenRequest({ params: formParams(request), authorization: request.headers.authorization, clientIp: request.ip }, context);
    return sendOAuthJson(reply, 200, response);
  });

  // RFC 6749 §3.2: "The client MUST use the HTTP POST method when making access token requests."
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH'],
    url: ENDPOINT_PATHS.token,
    config: { responseKind: 'json' },
    handler: async (_request, reply) => {
      reply.header('allow', 'POST');
      return sendOAuthJson(reply, 405, { error: 'invalid_request', error_description: 'the token endpoint accepts only POST' });
    },
  });
}
