/**
 * Back channel: the pushed authorization request endpoint, RFC 9126 §2. POST with a form body
 * only (other methods: 405 with `Allow: POST`, §2.3); 201 Created on success (§2.2); errors in
 * the token endpoint's format (§2.3); `Cache-Control: no-store` on every answer.
 */
import type { FastifyInstance } from 'fastify';
import { handlePushedAuthorizationRequest } from '../../core/authorize/par-endpoint.js';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { sendOAuthJson } from '../error-responses.js';
import { clientAuthenticationInput } from '../request-input.js';

export function registerParRoutes(app: FastifyInstance, context: ProviderContext): void {
  app.post(ENDPOINT_PATHS.pushedAuthorizationRequest, { config: { responseKind: 'json' } }, async (request, reply) => {
    const response = await handlePushedAuthorizationRequest(
      clientAuthenticationInput(request, ENDPOINT_PATHS.pushedAuthorizationRequest),
      context,
    );
    return sendOAuthJson(reply, 201, response);
  });
}
