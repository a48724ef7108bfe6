/**
 * Back channel: the token endpoint, RFC 6749 §3.2. POST with a form body only ("The client MUST
 * use the HTTP POST method when making access token requests"); other methods are answered 405
 * with `Allow: POST` (src/http/method-not-allowed.ts).
 */
import type { FastifyInstance } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { handleTokenRequest } from '../../core/token/token-endpoint.js';
import { sendOAuthJson } from '../error-responses.js';
import { clientAuthenticationInput } from '../request-input.js';

export function registerTokenRoutes(app: FastifyInstance, context: ProviderContext): void {
  app.post(ENDPOINT_PATHS.token, { config: { responseKind: 'json' } }, async (request, reply) => {
    const response = await handleTokenRequest(clientAuthenticationInput(request, ENDPOINT_PATHS.token), context);
    return sendOAuthJson(reply, 200, response);
  });
}
