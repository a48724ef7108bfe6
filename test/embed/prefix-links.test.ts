/**
 * Gatehouse mounted under /auth of an app (issuer http://host/auth, RFC 8414 §3.1): the links of
 * its pages stay under the prefix. The logout confirmation's Cancel and the home page's links
 * (OpenID configuration under the issuer, Discovery §4.1; RFC 8414 metadata with the path after
 * the well-known suffix; the JWKS) all answer, and the theme stylesheet is served under the
 * prefix and allowed by that URL in the pages' CSP.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { createGatehouse, type Gatehouse } from '../../src/index.js';
import { ALICE, CONFIDENTIAL_CLIENT, STORE_TARGETS, TEST_SECRET, onStoreTarget } from '../helpers/server.js';
import { freePort } from '../helpers/installed-server.js';
import { authorizeUrl } from '../helpers/page-checks.js';
import { UserAgent, decodeEntities } from '../helpers/user-agent.js';

/** The href of every <a> of a page, entities decoded. */
function links(body: string): string[] {
  return [...body.matchAll(/<a [^>]*href="([^"]*)"/g)].map((match) => decodeEntities(match[1]!));
}

for (const target of STORE_TARGETS) {
  describe(`pages of Gatehouse under a path prefix (/auth) on ${target.name}`, () => {
    let gatehouse: Gatehouse | undefined;
    let app: FastifyInstance | undefined;
    const teardown = async () => {
      await app?.close();
      await gatehouse?.close();
      app = undefined;
      gatehouse = undefined;
    };

    it(
      'RFC 8414 §3.1: the logout Cancel link and the home page links point under the issuer path, and answer',
      onStoreTarget(
        target,
        async (database) => {
          const port = await freePort();
          const origin = `http://127.0.0.1:${port}`;
          const issuer = `${origin}/auth`;
          app = Fastify();
          app.get('/', async () => ({ app: 'root' }));
          gatehouse = await createGatehouse({
            config: {
              issuer,
              database,
              clients: [CONFIDENTIAL_CLIENT],
              users: [ALICE],
              branding: { product_name: 'Prefixed ID', colors: { primary: '#8a1538' } },
            },
            secret: TEST_SECRET,
          });
          await gatehouse.mount(app);
          await app.listen({ port, host: '127.0.0.1' });

          const ua = new UserAgent(origin);
          const client = {
            client_id: CONFIDENTIAL_CLIENT.client_id,
            redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0]!,
            scope: 'openid',
          };
          const done = await ua.authorize(authorizeUrl(issuer, client).href, ALICE);
          assert.equal(done.status, 303, done.body.slice(0, 200));
          assert.ok(done.location?.startsWith(CONFIDENTIAL_CLIENT.redirect_uris[0]!));

          // RP-Initiated Logout §2: the confirmation page; Cancel goes to the issuer's home page.
          const confirm = await ua.request(`${issuer}/logout`);
          assert.equal(confirm.status, 200);
          assert.match(confirm.body, /Sign out of Prefixed ID\?/);
          assert.deepEqual(links(confirm.body), ['/auth/']);

          const home = await ua.request(`${issuer}/`);
          assert.equal(home.status, 200);
          assert.match(home.body, /<h1>Prefixed ID<\/h1>/);
          const homeLinks = links(home.body);
          assert.deepEqual(homeLinks, [
            '/auth/.well-known/openid-configuration',
            '/.well-known/oauth-authorization-server/auth',
            '/auth/jwks',
            '/auth/account',
          ]);
          // The account page (docs/account.md), for the user signed in above: its forms post under the prefix too.
          const account = await ua.request(`${origin}/auth/account`);
          assert.equal(account.status, 200);
          assert.match(account.body, /action="\/auth\/account\/sessions\/sign-out-all"/);
          for (const link of homeLinks.filter((path) => path !== '/auth/account')) {
            const response = await fetch(new URL(link, origin));
            assert.equal(response.status, 200, link);
            const body = (await response.json()) as { issuer?: string; keys?: unknown[] };
            assert.ok(body.issuer === issuer || Array.isArray(body.keys), link);
          }

          // The theme under the prefix, allowed by exactly that URL.
          assert.match(home.body, /<link rel="stylesheet" href="\/auth\/branding\/theme\.css">/);
          assert.match(
            home.headers.get('content-security-policy') ?? '',
            new RegExp(`style-src 'sha256-[^ ;]+' ${issuer.replace(/\./g, '\\.')}/branding/theme\\.css;`),
          );
          const theme = await fetch(`${issuer}/branding/theme.css`);
          assert.equal(theme.status, 200);
          assert.match(await theme.text(), /--primary:#8a1538/);
          // The app's own root is left alone.
          assert.deepEqual(await (await fetch(`${origin}/`)).json(), { app: 'root' });
        },
        teardown,
      ),
    );
  });
}
