/**
 * CORS for the endpoints a browser-based client (an SPA, a public client) calls with fetch:
 * discovery, the JWKS, the token endpoint and the revocation endpoint. They rely on no cookie or
 * other ambient credential (the client authenticates in the request itself, or proves
 * possession with PKCE), so any origin may call them: `Access-Control-Allow-Origin: *` without
 * credentials. The authorization endpoint and the login and consent pages are navigated to,
 * never fetched, and get no CORS headers at all.
 */
import type { FastifyInstance } from 'fastify';

export function allowCrossOrigin(app: FastifyInstance, paths: readonly string[], methods: readonly string[]): void {
  const allowed = new Set(paths);
  app.addHook('onRequest', (request, reply, done) => {
    if (allowed.has(request.routeOptions.url ?? '')) {
      // WWW-Authenticate is not a CORS-safelisted response header: exposed so that a browser
      // client can read RFC 6750 challenges (UserInfo) and RFC 6749 §5.2 ones (token endpoint);
      // DPoP-Nonce neither, and a browser client needs it for its next proof (RFC 9449 §8).
      reply
        .header('access-control-allow-origin', '*')
        .header('access-control-expose-headers', 'WWW-Authenticate, DPoP-Nonce');
    }
    done();
  });
  for (const path of paths) {
    app.options(path, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', methods.join(', '))
        .header('access-control-allow-headers', 'Authorization, Content-Type, DPoP')
        .header('access-control-max-age', '600')
        .send(),
    );
  }
}
