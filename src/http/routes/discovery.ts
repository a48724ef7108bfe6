/**
 * RFC 8414 §3 metadata (and OpenID Connect Discovery 1.0 §4), and the JWKS (RFC 7517 §5).
 */
import type { FastifyInstance } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { serverMetadata } from '../../core/oidc/server-metadata.js';
import { renderHomePage } from '../../ui/pages.js';
import { sendHtml } from '../html-response.js';

export function registerDiscoveryRoutes(app: FastifyInstance, context: ProviderContext): void {
  const metadata = () => serverMetadata(context.settings);
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(metadata()));
  }
  app.get(ENDPOINT_PATHS.jwks, async (_request, reply) =>
    reply
      .header('cache-control', 'public, max-age=300')
      .header('content-type', 'application/jwk-set+json')
      .send(JSON.stringify(context.keys.jwks(context.now()))),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/', { config: { responseKind: 'html' as const } }, async (_request, reply) =>
    sendHtml(reply, 200, renderHomePage({ issuer: context.settings.issuer })),
  );
}
