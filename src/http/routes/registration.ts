/**
 * Back channel: dynamic client registration (RFC 7591 §3) at POST /register and the client
 * configuration endpoint (RFC 7592 §2) at GET/PUT/DELETE /register/:client_id, present only when
 * `registration.mode` is not `off`. Bodies are JSON (RFC 7591 §3.1), parsed only on these routes;
 * every answer carries `Cache-Control: no-store` (RFC 7591 §3.2.1, RFC 7592 §3). Open to any
 * origin (CORS): browser-based clients register themselves, and nothing here relies on cookies.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { InvalidClientMetadata } from '../../core/errors.js';
import {
  handleDeleteRegistration,
  handleReadRegistration,
  handleRegistration,
  handleUpdateRegistration,
} from '../../core/registration/registration-endpoint.js';
import { allowCrossOrigin } from '../cors.js';
import { sendOAuthJson } from '../error-responses.js';

/** Client metadata is small; a JWK Set inline (`jwks`) is the largest legitimate part. */
const JSON_BODY_LIMIT = 64 * 1024;

const CLIENT_PATH = `${ENDPOINT_PATHS.registration}/:clientId`;

const clientIdOf = (request: FastifyRequest) => (request.params as { clientId: string }).clientId;

export function registerRegistrationRoutes(app: FastifyInstance, context: ProviderContext): void {
  if (context.settings.registration.mode === 'off') return;
  // A plugin scope: the JSON parser applies to these routes only.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: JSON_BODY_LIMIT },
      (_request, body, done) => {
        try {
          done(null, JSON.parse(body as string));
        } catch {
          done(new InvalidClientMetadata('the request body is not valid JSON (RFC 7591 §3.1)'), undefined);
        }
      },
    );
    // RFC 7591 §3.1: "the client sends an HTTP POST to the client registration endpoint with a
    // content type of application/json".
    scope.addContentTypeParser('*', (_request, _payload, done) =>
      done(new InvalidClientMetadata('the request body must be application/json (RFC 7591 §3.1)'), undefined),
    );
    allowCrossOrigin(scope, [ENDPOINT_PATHS.registration], ['POST']);
    allowCrossOrigin(scope, [CLIENT_PATH], ['GET', 'PUT', 'DELETE']);

    const config = { config: { responseKind: 'json' as const } };
    scope.post(ENDPOINT_PATHS.registration, config, async (request, reply) => {
      const response = await handleRegistration(
        { body: request.body, authorization: request.headers.authorization, clientIp: request.ip },
        context,
      );
      // RFC 7591 §3.2.1: 201 Created.
      return sendOAuthJson(reply, 201, response);
    });
    scope.get(CLIENT_PATH, config, async (request, reply) =>
      sendOAuthJson(
        reply,
        200,
        await handleReadRegistration(clientIdOf(request), request.headers.authorization, context),
      ),
    );
    scope.put(CLIENT_PATH, config, async (request, reply) =>
      sendOAuthJson(
        reply,
        200,
        await handleUpdateRegistration(clientIdOf(request), request.headers.authorization, request.body, context),
      ),
    );
    scope.delete(CLIENT_PATH, config, async (request, reply) => {
      await handleDeleteRegistration(clientIdOf(request), request.headers.authorization, context);
      // RFC 7592 §2.3: 204 No Content.
      return reply.code(204).header('cache-control', 'no-store').header('pragma', 'no-cache').send();
    });
  });
}
