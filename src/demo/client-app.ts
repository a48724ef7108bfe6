/**
 * The demo's client: a small confidential web app (server-rendered HTML, no script) using
 * openid-client, plus the static single-page app at /spa/ (a public client using oauth4webapi in
 * the browser).
 *
 * The web app's protocol steps are in client-flow.ts, its pages in client-pages.ts and its
 * per-browser state (in memory, keyed by a random HttpOnly cookie) in client-sessions.ts, signing
 * out (RP-initiated and back-channel logout) in client-logout.ts. Every
 * page says in plain sentences which channel the last step used and what travelled on it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { DEMO_SPA_CLIENT_ID, DEMO_WEB_CLIENT_ID, DEMO_WEB_CLIENT_SECRET, type DemoUrls } from './demo-config.js';
import { DEMO_CSS, clientPageCsp } from './demo-page.js';
import { registerWebClientRoutes, webClientDiscovery } from './client-flow.js';
import { registerLogoutRoutes } from './client-logout.js';
import { registerMistakeRoutes } from './client-mistakes.js';
import { homePage, seeOther, sendPage } from './client-pages.js';
import { clientSessions } from './client-sessions.js';
import { SPA_SCRIPT, spaCsp, spaPage } from './spa-assets.js';

export interface ClientAppOptions {
  urls: DemoUrls;
  clientId?: string;
  clientSecret?: string;
  spaClientId?: string;
  /** Show the demo user's credentials on the home page (default true). */
  showDemoCredentials?: boolean;
}

function oauth4webapiSource(): string {
  // The package's own ES module build, served as is to the browser.
  const path = createRequire(import.meta.url).resolve('oauth4webapi');
  return readFileSync(path, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
}

export function createClientApp(options: ClientAppOptions): FastifyInstance {
  const { urls } = options;
  const clientId = options.clientId ?? DEMO_WEB_CLIENT_ID;
  const clientSecret = options.clientSecret ?? DEMO_WEB_CLIENT_SECRET;
  const spaClientId = options.spaClientId ?? DEMO_SPA_CLIENT_ID;
  const showCredentials = options.showDemoCredentials ?? true;
  const sessions = clientSessions();
  const oauth4webapiJs = oauth4webapiSource();

  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string));
  });

  // --- the web app (confidential client) -----------------------------------------------------

  app.get('/assets/demo.css', async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'no-cache').send(DEMO_CSS),
  );

  app.get('/', async (request, reply) =>
    sendPage(reply, 200, homePage(sessions.find(request), { urls, showCredentials }), clientPageCsp(urls.issuer)),
  );

  const oidcConfig = webClientDiscovery(urls, clientId, clientSecret);
  registerWebClientRoutes(app, { urls, clientId, sessions, oidcConfig });
  registerLogoutRoutes(app, { urls, clientId, sessions, oidcConfig });
  registerMistakeRoutes(app, { urls, clientId, clientSecret, sessions, oidcConfig });

  // --- the single-page app (public client) --------------------------------------------------

  const spaHtml = spaPage({ urls, clientId: spaClientId, showCredentials });
  const sendSpa = (reply: FastifyReply): FastifyReply => sendPage(reply, 200, spaHtml, spaCsp(urls));
  app.get('/spa', async (_request, reply) => seeOther(reply, '/spa/'));
  app.get('/spa/', async (_request, reply) => sendSpa(reply));
  app.get('/spa/callback', async (_request, reply) => sendSpa(reply));
  app.get('/spa/app.js', async (_request, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(SPA_SCRIPT),
  );
  app.get('/spa/oauth4webapi.js', async (_request, reply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(oauth4webapiJs),
  );

  return app;
}
