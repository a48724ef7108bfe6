/**
 * Logs without secrets: the JSON log lines of a full flow (login with a password, authorization
 * code + PKCE, client_secret_basic and client_secret_post, refresh, introspection, revocation,
 * UserInfo, logout) are grepped for every secret value the flow used; none may appear.
 *
 * Run: node --import tsx --test test/http/logs.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientFixture } from '../../src/config/settings.js';
import Fastify from 'fastify';
import { REDACTED, loggingOptions, redactUrl } from '../../src/http/logging.js';
import type { RunningGatehouse } from '../../src/server.js';
import { ALICE, CONFIDENTIAL_CLIENT, POST_CLIENT, useTestServer } from '../helpers/server.js';
import { UserAgent, hiddenInput, isConsentPage, isLoginPage } from '../helpers/user-agent.js';
import { authorizeUrl, basicAuthorization, newVerifier, postToken } from '../helpers/code-flow.js';
import { s256Challenge } from '../../src/core/pkce.js';

const lines: string[] = [];
let gatehouse: RunningGatehouse;
useTestServer(
  { clients: [CONFIDENTIAL_CLIENT, POST_CLIENT], logger: { write: (line: string) => void lines.push(line) } },
  (started) => (gatehouse = started),
);

describe('structured logs carry request ids and no secrets', () => {
  it('redactUrl keeps the path and the allow-listed parameters, and redacts every other value and unknown name', () => {
    assert.equal(
      redactUrl('/authorize?client_id=web&state=s3cret&code_challenge=abc&scope=openid%20profile&x-secret=1'),
      `/authorize?client_id=web&${REDACTED}=${REDACTED}&${REDACTED}=${REDACTED}&scope=openid%20profile&${REDACTED}=${REDACTED}`,
    );
    assert.equal(redactUrl('/userinfo?access_token=eyJhbGciOi'), `/userinfo?${REDACTED}=${REDACTED}`);
    assert.equal(redactUrl('/jwks'), '/jwks');
  });

  it('credential headers are redacted wherever a header object is logged, by any case of their names', async () => {
    const written: string[] = [];
    const app = Fastify(loggingOptions({ write: (line: string) => void written.push(line) }));
    app.get('/', (request, reply) => {
      request.log.info({ headers: request.headers }, 'the request headers');
      request.log.info({ req: request, res: { headers: { 'set-cookie': 'gh_session=s3' } } }, 'req and res');
      return reply.send('ok');
    });
    try {
      const response = await app.inject({
        url: '/',
        headers: {
          Authorization: 'Bearer secret-at',
          'Proxy-Authorization': 'Basic pw',
          Cookie: 'gh=s1',
          accept: 'x/y',
        },
      });
      assert.equal(response.statusCode, 200);
    } finally {
      await app.close();
    }
    const logged = written.join('\n');
    for (const secret of ['secret-at', 'Basic pw', 'gh=s1', 'gh_session=s3'])
      assert.ok(!logged.includes(secret), secret);
    const headersLine = JSON.parse(written.find((line) => line.includes('the request headers'))!) as {
      headers: Record<string, string>;
    };
    assert.equal(headersLine.headers['authorization'], REDACTED);
    assert.equal(headersLine.headers['proxy-authorization'], REDACTED);
    assert.equal(headersLine.headers['cookie'], REDACTED);
    assert.equal(headersLine.headers['accept'], 'x/y');
    const reqLine = JSON.parse(written.find((line) => line.includes('req and res'))!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(reqLine['req'] as object).sort(), ['method', 'remoteAddress', 'url']);
    // `res` is serialized to its status code alone (this object has none): no headers.
    assert.deepEqual(reqLine['res'], {});
  });

  it('a full flow leaves no password, secret, code, verifier, token, cookie or CSRF token in the logs', async () => {
    const secrets = new Map<string, string>();
    const remember = (name: string, value: string | undefined | null) => {
      assert.ok(value, `the flow produced ${name}`);
      secrets.set(name, value);
    };
    remember('password', ALICE.password);
    remember('client secret (basic)', CONFIDENTIAL_CLIENT.client_secret);
    remember('client secret (post)', POST_CLIENT.client_secret);

    async function authorize(client: ClientFixture, label: string) {
      const verifier = newVerifier();
      const state = `state-${label}-${newVerifier().slice(0, 12)}`;
      const nonce = `nonce-${label}-${newVerifier().slice(0, 12)}`;
      remember(`code_verifier (${label})`, verifier);
      remember(`state (${label})`, state);
      remember(`nonce (${label})`, nonce);
      const ua = new UserAgent(gatehouse.url);
      const url = authorizeUrl(gatehouse, {
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: client.redirect_uris[0],
        scope: 'openid profile offline_access',
        state,
        nonce,
        code_challenge: s256Challenge(verifier),
        code_challenge_method: 'S256',
      });
      let page = await ua.navigate(url);
      assert.ok(isLoginPage(page));
      remember(`login CSRF token (${label})`, hiddenInput(page.body, 'csrf_token'));
      // A failed attempt first: the wrong password must not be logged either.
      const wrongPassword = `wrong-${newVerifier().slice(0, 16)}`;
      remember(`wrong password (${label})`, wrongPassword);
      page = await ua.submit(page, { username: ALICE.username, password: wrongPassword });
      assert.ok(isLoginPage(page));
      page = await ua.submit(page, { username: ALICE.username, password: ALICE.password });
      assert.ok(isConsentPage(page));
      remember(`session cookie (${label})`, ua.cookie('gh_session'));
      remember(`browser cookie (${label})`, ua.cookie('gh_browser'));
      remember(`consent CSRF token (${label})`, hiddenInput(page.body, 'csrf_token'));
      page = await ua.submit(page, { decision: 'allow' });
      const code = new URL(page.location!).searchParams.get('code');
      remember(`code (${label})`, code);
      return { ua, code: code!, verifier };
    }

    // Authorization code + PKCE with client_secret_basic.
    const basic = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };
    const first = await authorize(CONFIDENTIAL_CLIENT, 'basic');
    const tokens = await postToken(
      gatehouse,
      {
        grant_type: 'authorization_code',
        code: first.code,
        redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0],
        code_verifier: first.verifier,
      },
      { basic },
    );
    assert.equal(tokens.status, 200, tokens.text);
    remember('access token', tokens.body['access_token'] as string);
    remember('refresh token', tokens.body['refresh_token'] as string);
    remember('id token', tokens.body['id_token'] as string);
    // A wrong client secret, refused.
    const wrongSecret = `wrong-secret-${newVerifier()}`;
    remember('wrong client secret', wrongSecret);
    assert.equal(
      (
        await postToken(
          gatehouse,
          { grant_type: 'refresh_token', refresh_token: tokens.body['refresh_token'] as string },
          { basic: { id: basic.id, secret: wrongSecret } },
        )
      ).status,
      401,
    );

    // Refresh (rotation), introspection, UserInfo (header, body, and the refused query form).
    const refreshed = await postToken(
      gatehouse,
      { grant_type: 'refresh_token', refresh_token: tokens.body['refresh_token'] as string },
      { basic },
    );
    assert.equal(refreshed.status, 200, refreshed.text);
    remember('refreshed access token', refreshed.body['access_token'] as string);
    remember('rotated refresh token', refreshed.body['refresh_token'] as string);
    const accessToken = refreshed.body['access_token'] as string;
    const form = {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basicAuthorization(basic.id, basic.secret),
    };
    const introspection = await fetch(new URL('/introspect', gatehouse.url), {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ token: accessToken }),
    });
    assert.equal(((await introspection.json()) as { active: boolean }).active, true);
    assert.equal(
      (await fetch(new URL('/userinfo', gatehouse.url), { headers: { authorization: `Bearer ${accessToken}` } }))
        .status,
      200,
    );
    assert.equal(
      (
        await fetch(new URL('/userinfo', gatehouse.url), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ access_token: accessToken }),
        })
      ).status,
      200,
    );
    assert.equal((await fetch(new URL(`/userinfo?access_token=${accessToken}`, gatehouse.url))).status, 400);

    // client_secret_post, then revocation with it.
    const second = await authorize(POST_CLIENT, 'post');
    const postTokens = await postToken(gatehouse, {
      grant_type: 'authorization_code',
      code: second.code,
      redirect_uri: POST_CLIENT.redirect_uris[0],
      code_verifier: second.verifier,
      client_id: POST_CLIENT.client_id,
      client_secret: POST_CLIENT.client_secret,
    });
    assert.equal(postTokens.status, 200, postTokens.text);
    remember('access token (post)', postTokens.body['access_token'] as string);
    remember('refresh token (post)', postTokens.body['refresh_token'] as string);
    remember('id token (post)', postTokens.body['id_token'] as string);
    const revoke = await fetch(new URL('/revoke', gatehouse.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: postTokens.body['refresh_token'] as string,
        client_id: POST_CLIENT.client_id,
        client_secret: POST_CLIENT.client_secret!,
      }),
    });
    assert.equal(revoke.status, 200);

    // RP-initiated logout with the ID token as a hint in the query.
    const logout = await first.ua.request(
      `/logout?id_token_hint=${tokens.body['id_token'] as string}&client_id=${CONFIDENTIAL_CLIENT.client_id}`,
    );
    assert.ok(logout.status === 200 || logout.status === 303, `logout: ${logout.status}`);

    const log = lines.join('');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = entries.filter((entry) => entry['req'] !== undefined);
    assert.ok(requests.length >= 20, `every request is logged (${requests.length})`);
    for (const entry of requests)
      assert.match(String(entry['reqId']), /^[0-9a-f-]{36}$/, 'a request id on every request line');
    assert.ok(
      entries.some((entry) => entry['msg'] === 'token.issued'),
      'the protocol events are logged too',
    );
    for (const [name, value] of secrets) {
      assert.ok(!log.includes(value), `the logs contain the ${name}`);
      // Also not percent-encoded, as a URL would carry it.
      assert.ok(!log.includes(encodeURIComponent(value)), `the logs contain the ${name} (URL-encoded)`);
    }
  });
});
