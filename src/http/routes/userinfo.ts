/**
 * The UserInfo endpoint, OpenID Connect Core 1.0 §5.3: GET and POST (§5.3.1: "The Client
 * SHOULD send the UserInfo Request using either HTTP GET or HTTP POST"). JSON responses,
 * `Cache-Control: no-store`; RFC 6750 challenges on errors. CORS is allowed (src/http/app.ts):
 * the bearer token, not a cookie, authenticates the request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { USERINFO_REALM, handleUserInfoRequest } from '../../core/oidc/userinfo-endpoint.js';
import { sendOAuthJson } from '../error-responses.js';
import { optionalFormParams, queryParams } from '../request-input.js';

export function registerUserInfoRoutes(app: FastifyInstance, context: ProviderContext): void {
  async function userinfo(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const response = await handleUserInfoRequest(
      {
        authorization: request.headers.authorization,
        // Only form bodies are parsed (src/http/app.ts); a POST without a body has none.
        body: optionalFormParams(request),
        query: queryParams(request),
        // RFC 9449 §7.1: the proof's htu is UserInfo as published in discovery.
        dpop: {
          header: request.headers.dpop,
          method: request.method,
          url: context.settings.issuer + ENDPOINT_PATHS.userinfo,
        },
      },
      context,
    );
    if (response.status === 200) return sendOAuthJson(reply, 200, response.body);
    reply.header('www-authenticate', response.wwwAuthenticate);
    if (response.dpopNonce !== undefined) reply.header('dpop-nonce', response.dpopNonce);
    if (response.body !== null) return sendOAuthJson(reply, response.status, response.body);
    return reply.code(response.status).header('cache-control', 'no-store').header('pragma', 'no-cache').send();
  }

  app.get(ENDPOINT_PATHS.userinfo, { config: { responseKind: 'json', bearerRealm: USERINFO_REALM } }, userinfo);
  app.post(ENDPOINT_PATHS.userinfo, { config: { responseKind: 'json', bearerRealm: USERINFO_REALM } }, userinfo);
}
