/**
 * Fastify adapter for the resource-server verifier.
 *
 * Body tokens (RFC 6750 §2.2): Fastify has no built-in `application/x-www-form-urlencoded` parser, so a form
 * POST only reaches the hook if the application registered one (e.g. `@fastify/formbody`, or a parser that
 * keeps the raw string). Whatever it produced (string, Buffer or plain object) is turned back into form text.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { AccessTokenClaims, ResourceVerifier } from './verifier.js';
import { BearerError, assertScopeTokens, formBodyFromParsed, webRequestFromNode } from './verifier.js';
import { METADATA_HEADERS, protectedResourceMetadataPath } from './syntax.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a `protectFastify(verifier)(scopes)` preHandler once the access token is verified. */
    accessToken?: AccessTokenClaims;
  }
}

/** Builds the Web Request the verifier reads from a Fastify request (headers + any form body). */
export function webRequestFromFastify(request: FastifyRequest): Request {
  const contentType = request.headers['content-type'];
  const isForm =
    typeof contentType === 'string' &&
    contentType.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
  return webRequestFromNode(request.raw, isForm ? formBodyFromParsed(request.body) : undefined);
}

/** Sends a BearerError: status, `WWW-Authenticate` (RFC 6750 §3) and a JSON `{ error, error_description }` body. */
export function sendBearerError(reply: FastifyReply, error: BearerError): FastifyReply {
  return reply
    .code(error.status)
    .header('www-authenticate', error.wwwAuthenticate)
    .header('cache-control', 'no-store')
    .send(error.toJSON());
}

/**
 * `const requireToken = protectFastify(verifier)`, then `{ preHandler: requireToken(['read']) }` on a route.
 * On success `request.accessToken` holds the claims. Bearer failures are answered here; an unreachable
 * authorization server is thrown as `AuthorizationServerUnavailableError` (statusCode 503) to Fastify's
 * error handler.
 */
export function protectFastify(verifier: ResourceVerifier): (requiredScopes?: string[]) => preHandlerAsyncHookHandler {
  return (requiredScopes = []) => {
    assertScopeTokens(requiredScopes);
    const scopes = [...requiredScopes];
    return async function verifyAccessToken(request: FastifyRequest, reply: FastifyReply) {
      try {
        request.accessToken = await verifier.verify(webRequestFromFastify(request), scopes);
      } catch (error) {
        if (error instanceof BearerError) return sendBearerError(reply, error);
        throw error;
      }
    };
  };
}

/**
 * Serves the RFC 9728 §3 protected resource metadata, in one call: the path defaults to the path of the
 * verifier's `resourceMetadataUrl` (`/.well-known/oauth-protected-resource/mcp` for a resource
 * `https://api.example.com/mcp`, RFC 9728 §3.1; `/.well-known/oauth-protected-resource` at the origin root).
 */
export function registerProtectedResourceMetadata(
  app: FastifyInstance,
  verifier: ResourceVerifier,
  options: { path?: string } = {},
): void {
  const path = options.path ?? protectedResourceMetadataPath(verifier.resourceMetadataUrl);
  app.get(path, async (_request, reply) => {
    return reply.headers(METADATA_HEADERS).send(verifier.metadata());
  });
}
