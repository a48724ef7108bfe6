/**
 * Back channel: the pushed authorization request endpoint, RFC 9126 §2. POST with a form body
 * only (other methods: 405 with `Allow: POST`, §2.3); 201 Created on success (§2.2); errors in
 * the token endpoint's format (§2.3); `Cache-Control: no-store` on every answer. A DPoP proof
 * (RFC 9449 §10.1) binds the authorization code to its key.
 */
import type { FastifyInstance } from 'fastify';
import { handlePushedAuthorizationRequest } from '../../core/authorize/par-endpoint.js';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { currentDpopNonce } from '../../core/dpop/dpop-nonce.js';
import { sendOAuthJson } from '../error-responses.js';
import { clientAuthenticationInput } from '../request-input.js';

export function registerParRoutes(app: FastifyInstance, context: ProviderContext): void {
  const path = ENDPOINT_PATHS.pushedAuthorizationRequest;
  app.post(path, { config: { responseKind: 'json' } }, async (request, reply) => {
    const response = await handlePushedAuthorizationRequest(
      {
        ...clientAuthenticationInput(request, path),
        // RFC 9449 §4.3 check 9: htu is the endpoint as published in discovery.
        dpop: { header: request.headers.dpop, method: 'POST', url: context.settings.issuer + path },
      },
      context,
    );
    // RFC 9449 §8.2: with nonces required, every answer hands out the current one.
    if (context.settings.dpopNonceRequired)
      reply.header('dpop-nonce', currentDpopNonce(context.settings.secret, context.now()));
    return sendOAuthJson(reply, 201, response);
  });
}
