/**
 * The authorization endpoint with a pushed request, RFC 9126 §4 (with RFC 9101 §5, which it
 * builds on): `client_id` and `request_uri` only, the pushed parameters alone apply, the
 * request_uri is used once, expires, and belongs to the client that pushed it; a request_uri
 * that cannot be used is an error page, never a redirect. On SQLite and PostgreSQL (two
 * instances sharing the database for the parallel uses).
 *
 * Run: node scripts/run-tests.mjs test/par/pushed-request-use
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { s256Challenge } from '../../src/core/pkce.js';
import type { RunningGatehouse } from '../../src/server.js';
import {
  ALICE,
  CONFIDENTIAL_CLIENT,
  OTHER_CLIENT,
  PUBLIC_CLIENT,
  STORE_TARGETS,
  startClockedServer,
  startTestServer,
} from '../helpers/server.js';
import { postgresSkipMessage } from '../helpers/postgres.js';
import { authorizeParams, authorizeUrl, newVerifier, postToken } from '../helpers/code-flow.js';
import { assertErrorPage, assertRedirectError } from '../helpers/authorization-pages.js';
import { pushedAuthorizeUrl, pushedRequestUri } from '../helpers/par.js';
import { UserAgent, isLoginPage, type PageResponse } from '../helpers/user-agent.js';

const BASIC = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };
const CANNOT_USE = 'Authorization request cannot be used';
const PARALLEL = 20;

/** The browser was sent on to the login page: the request was accepted. */
function assertAccepted(page: PageResponse): void {
  assert.equal(page.status, 303, page.body.slice(0, 500));
  assert.match(page.location ?? '', /^\/interaction\/[A-Za-z0-9_-]+$/);
}

for (const target of STORE_TARGETS) {
  describe(`RFC 9126 §4: the authorization endpoint uses a pushed request once (${target.name})`, () => {
    let url: string | undefined;
    let gatehouse: RunningGatehouse;
    /** A second instance on the same database (PostgreSQL): uses may reach either. */
    let peer: RunningGatehouse | undefined;
    let clock: { now: number };

    before(async () => {
      url = await target.url();
      if (url === undefined) return;
      const options = { databaseUrl: url, clients: [CONFIDENTIAL_CLIENT, OTHER_CLIENT, PUBLIC_CLIENT] };
      ({ server: gatehouse, clock } = await startClockedServer(options, Date.now()));
      if (target.name === 'postgres') {
        peer = await startTestServer(options);
        peer.context.now = () => clock.now;
      }
    });
    after(async () => {
      if (url === undefined) return;
      await peer?.close();
      await gatehouse?.close();
      await target.cleanup(url);
    });

    /** A test that needs the target's database (skipped without PostgreSQL outside CI). */
    function test(name: string, body: () => Promise<void>): void {
      it(name, async (t: TestContext) => {
        if (url === undefined) return t.skip(postgresSkipMessage());
        await body();
      });
    }

    /** Pushes a request of the confidential client (`overrides` vary it) and returns its request_uri. */
    function push(overrides: Record<string, string | undefined> = {}): Promise<string> {
      return pushedRequestUri(gatehouse, authorizeParams(CONFIDENTIAL_CLIENT, overrides), { basic: BASIC });
    }

    function open(clientId: string | undefined, requestUri: string, extra: Record<string, string> = {}) {
      return new UserAgent(gatehouse.url).request(pushedAuthorizeUrl(gatehouse, clientId, requestUri, extra));
    }

    test('RFC 9126 §4: a full code flow with a pushed request: sign-in and consent after the request_uri was used, then the code is redeemed', async () => {
      const verifier = newVerifier();
      const requestUri = await push({
        scope: 'openid profile',
        state: 'pushed-state',
        nonce: 'pushed-nonce',
        code_challenge: s256Challenge(verifier),
      });
      const ua = new UserAgent(gatehouse.url);
      const final = await ua.authorize(pushedAuthorizeUrl(gatehouse, CONFIDENTIAL_CLIENT.client_id, requestUri), ALICE);
      assert.equal(final.status, 303, final.body.slice(0, 300));
      const location = new URL(final.location!);
      assert.equal(`${location.origin}${location.pathname}`, CONFIDENTIAL_CLIENT.redirect_uris[0]);
      assert.equal(location.searchParams.get('state'), 'pushed-state');
      assert.equal(location.searchParams.get('iss'), gatehouse.url);
      const token = await postToken(
        gatehouse,
        {
          grant_type: 'authorization_code',
          code: location.searchParams.get('code')!,
          redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0],
          code_verifier: verifier,
        },
        { basic: BASIC },
      );
      assert.equal(token.status, 200, token.text);
      assert.equal(token.body['scope'], 'openid profile');
      const idToken = JSON.parse(Buffer.from(String(token.body['id_token']).split('.')[1]!, 'base64url').toString());
      assert.equal(idToken.nonce, 'pushed-nonce');
    });

    test('RFC 9126 §4 (RFC 9101 §5): only the pushed parameters apply; those sent beside request_uri are ignored', async () => {
      const requestUri = await push({ scope: 'openid', state: 'pushed-state' });
      const ua = new UserAgent(gatehouse.url);
      const final = await ua.authorize(
        pushedAuthorizeUrl(gatehouse, CONFIDENTIAL_CLIENT.client_id, requestUri, {
          state: 'front-state',
          scope: 'openid profile email',
          redirect_uri: 'https://evil.example/cb',
          response_type: 'token',
          response_mode: 'form_post',
        }),
        ALICE,
      );
      assert.equal(final.status, 303, final.body.slice(0, 300));
      const location = new URL(final.location!);
      assert.equal(`${location.origin}${location.pathname}`, CONFIDENTIAL_CLIENT.redirect_uris[0]);
      assert.equal(location.searchParams.get('state'), 'pushed-state');
      assert.ok(location.searchParams.get('code'));
    });

    test('RFC 9126 §4: a request_uri used a second time is an error page, not a redirect', async () => {
      const requestUri = await push();
      assertAccepted(await open(CONFIDENTIAL_CLIENT.client_id, requestUri));
      const again = await open(CONFIDENTIAL_CLIENT.client_id, requestUri);
      assertErrorPage(again, 400, CANNOT_USE, 'invalid_request_uri', 'already used');
    });

    test('RFC 9126 §4: "An expired request_uri MUST be rejected as invalid": an error page', async () => {
      const requestUri = await push();
      clock.now += 60_000;
      try {
        assertErrorPage(await open(CONFIDENTIAL_CLIENT.client_id, requestUri), 400, CANNOT_USE, 'expired');
      } finally {
        clock.now -= 60_000;
      }
    });

    test('RFC 9126 §2.2: a request_uri presented with another client_id is an error page, and stays usable by its client', async () => {
      const requestUri = await push();
      const stolen = await open(OTHER_CLIENT.client_id, requestUri);
      assertErrorPage(stolen, 400, CANNOT_USE, 'another application', OTHER_CLIENT.client_id);
      assertAccepted(await open(CONFIDENTIAL_CLIENT.client_id, requestUri));
    });

    test('RFC 9126 §4: without client_id, or with an unknown one, the request is an error page', async () => {
      const requestUri = await push();
      assertErrorPage(await open(undefined, requestUri), 400, 'Invalid request', 'no client_id');
      assertErrorPage(await open('no-such-client', requestUri), 400, 'Unknown application');
      assertAccepted(await open(CONFIDENTIAL_CLIENT.client_id, requestUri));
    });

    test('RFC 9126 §4: a request_uri of the PAR form that was never issued is an error page', async () => {
      const page = await open(CONFIDENTIAL_CLIENT.client_id, 'urn:ietf:params:oauth:request_uri:never-issued');
      assertErrorPage(page, 400, CANNOT_USE, 'invalid_request_uri', 'unknown');
    });

    test('RFC 9101 §7 / OIDC Core §6.2: a request_uri that is not a pushed one is still refused (request_uri_not_supported)', async () => {
      const page = await new UserAgent(gatehouse.url).request(
        pushedAuthorizeUrl(gatehouse, CONFIDENTIAL_CLIENT.client_id, 'https://client.example/request.jwt', {
          ...(authorizeParams(CONFIDENTIAL_CLIENT) as Record<string, string>),
        }),
      );
      assertRedirectError(
        page,
        gatehouse.url,
        CONFIDENTIAL_CLIENT.redirect_uris[0]!,
        'request_uri_not_supported',
        'xyz',
      );
    });

    test(`RFC 9126 §4: ${PARALLEL} parallel uses of one request_uri${target.name === 'postgres' ? ' on two instances' : ''}: exactly one is accepted`, async () => {
      const requestUri = await push();
      const instances = [gatehouse, peer ?? gatehouse];
      const pages = await Promise.all(
        Array.from({ length: PARALLEL }, (_, i) => {
          const instance = instances[i % 2]!;
          return new UserAgent(instance.url).request(
            pushedAuthorizeUrl(instance, CONFIDENTIAL_CLIENT.client_id, requestUri),
          );
        }),
      );
      const accepted = pages.filter((page) => page.status === 303);
      assert.equal(accepted.length, 1, pages.map((page) => page.status).join(' '));
      assertAccepted(accepted[0]!);
      for (const page of pages.filter((candidate) => candidate.status !== 303))
        assertErrorPage(page, 400, CANNOT_USE, 'already used');
    });
  });
}

/** RFC 9126 §4 with §5 and §6: where PAR is required, front-channel requests are refused with invalid_request. */
describe('RFC 9126 §5, §6: require_pushed_authorization_requests', () => {
  const PAR_CLIENT = {
    ...OTHER_CLIENT,
    client_id: 'par-only-app',
    redirect_uris: ['http://127.0.0.1:9000/par-callback'],
    require_pushed_authorization_requests: true,
  };

  it('RFC 9126 §6: a client registered with require_pushed_authorization_requests is refused invalid_request at its redirect_uri without a pushed request; others are not', async () => {
    const gatehouse = await startTestServer({ clients: [CONFIDENTIAL_CLIENT, PAR_CLIENT] });
    try {
      const page = await new UserAgent(gatehouse.url).request(authorizeUrl(gatehouse, authorizeParams(PAR_CLIENT)));
      const error = assertRedirectError(page, gatehouse.url, PAR_CLIENT.redirect_uris[0]!, 'invalid_request', 'xyz');
      assert.match(error.get('error_description') ?? '', /pushed authorization request/);

      const requestUri = await pushedRequestUri(gatehouse, authorizeParams(PAR_CLIENT), {
        basic: { id: PAR_CLIENT.client_id, secret: PAR_CLIENT.client_secret! },
      });
      const pushed = await new UserAgent(gatehouse.url).navigate(
        pushedAuthorizeUrl(gatehouse, PAR_CLIENT.client_id, requestUri),
      );
      assert.ok(isLoginPage(pushed), pushed.body.slice(0, 300));

      const other = await new UserAgent(gatehouse.url).navigate(
        authorizeUrl(gatehouse, authorizeParams(CONFIDENTIAL_CLIENT)),
      );
      assert.ok(isLoginPage(other), other.body.slice(0, 300));
    } finally {
      await gatehouse.close();
    }
  });

  it('RFC 9126 §5: require_pushed_authorization_requests in the config refuses every front-channel request and is published in discovery', async () => {
    const gatehouse = await startTestServer({ settings: { requirePushedAuthorizationRequests: true } });
    try {
      const metadata = (await (
        await fetch(new URL('/.well-known/openid-configuration', gatehouse.url))
      ).json()) as Record<string, unknown>;
      assert.equal(metadata['require_pushed_authorization_requests'], true);
      for (const client of [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT]) {
        const page = await new UserAgent(gatehouse.url).request(authorizeUrl(gatehouse, authorizeParams(client)));
        assertRedirectError(page, gatehouse.url, client.redirect_uris[0]!, 'invalid_request', 'xyz');
      }
      const requestUri = await pushedRequestUri(gatehouse, authorizeParams(PUBLIC_CLIENT));
      const pushed = await new UserAgent(gatehouse.url).navigate(
        pushedAuthorizeUrl(gatehouse, PUBLIC_CLIENT.client_id, requestUri),
      );
      assert.ok(isLoginPage(pushed), pushed.body.slice(0, 300));
    } finally {
      await gatehouse.close();
    }
  });
});
