/**
 * RFC 8414 §3 metadata (and OpenID Connect Discovery 1.0 §4), and the JWKS (RFC 7517 §5).
 */
import type { FastifyInstance } from 'fastify';
import { ENDPOINT_PATHS, type ProviderContext } from '../../core/context.js';
import { serverMetadata } from '../../core/oidc/server-metadata.js';
import { renderHomePage } from '../../ui/pages.js';
import { sendHtml } from '../html-response.js';
import { pageContext } from '../page-context.js';
import { THEME_PATH } from '../../ui/branding.js';
import { pageKitFor } from '../../ui/page-kit.js';

export function registerDiscoveryRoutes(app: FastifyInstance, context: ProviderContext): void {
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    registerMetadataRoute(app, context, path);
  }
  app.get(ENDPOINT_PATHS.jwks, async (_request, reply) =>
    reply
      .header('cache-control', 'public, max-age=300')
      .header('content-type', 'application/jwk-set+json')
      .send(JSON.stringify(context.keys.jwks(context.now()))),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/', { config: { responseKind: 'html' as const } }, async (request, reply) => {
    const page = pageContext(request, context);
    return sendHtml(reply, 200, renderHomePage({ issuer: context.settings.issuer, lang: page.lang }, page.kit));
  });
  // The theme (src/ui/branding.ts): same-origin, so the pages' CSP can allow it by its URL.
  const { themeCss } = pageKitFor(context.settings);
  if (themeCss !== null) {
    app.get(THEME_PATH, async (_request, reply) =>
      reply
        .header('content-type', 'text/css; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(themeCss),
    );
  }
}

/**
 * The metadata at `path`. RFC 8414 §3.1: for an issuer with a path (Gatehouse mounted under a
 * prefix of an app, src/embed.ts), the well-known suffix goes between the host and the path:
 * `/.well-known/oauth-authorization-server/auth`, registered on the app's root.
 */
export function registerMetadataRoute(app: FastifyInstance, context: ProviderContext, path: string): void {
  app.get(path, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(serverMetadata(context.settings)),
  );
}
