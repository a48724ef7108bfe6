/**
 * Errors that explain themselves to the developer who caused them, without leaking to an
 * attacker: the redirect_uri error page (RFC 6749 §4.1.2.1, RFC 9700 §2.1) and the token
 * endpoint's error_description (RFC 6749 §5.2).
 *
 * The side-by-side comparison and the registered redirect URIs are shown only while errors are
 * explained (explain_errors, default auto: a loopback issuer, as in these test servers); in
 * production the page shows a request id and the log holds the comparison.
 *
 * Run: node --import tsx --test test/http/explained-errors.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import { explainsErrors } from '../../src/config/resolve-settings.js';
import { renderErrorPage } from '../../src/ui/pages.js';
import { CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, startTestServer, useTestServer } from '../helpers/server.js';
import {
  assertTokenError,
  authorizeParams,
  authorizeUrl,
  codeRequest,
  newVerifier,
  obtainCode,
  postToken,
} from '../helpers/code-flow.js';

const BASIC = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };
const REDIRECT = CONFIDENTIAL_CLIENT.redirect_uris[0]!;

let gatehouse: RunningGatehouse;
useTestServer({}, (started) => (gatehouse = started));

async function errorPageFor(redirectUri: string): Promise<string> {
  return (await errorResponseFor(gatehouse, redirectUri)).body;
}

async function errorResponseFor(
  server: RunningGatehouse,
  redirectUri: string | string[] | undefined,
): Promise<{ body: string; requestId: string }> {
  const url = authorizeUrl(
    server,
    authorizeParams(CONFIDENTIAL_CLIENT, {
      redirect_uri: typeof redirectUri === 'string' ? redirectUri : undefined,
      scope: 'openid',
      state: undefined,
    }),
  );
  const target = new URL(url);
  if (Array.isArray(redirectUri)) for (const uri of redirectUri) target.searchParams.append('redirect_uri', uri);
  const response = await fetch(target, { redirect: 'manual' });
  assert.equal(response.status, 400);
  assert.equal(response.headers.get('location'), null);
  return { body: await response.text(), requestId: response.headers.get('x-request-id') ?? '' };
}

describe('RFC 9700 §2.1: the redirect_uri error page compares received and registered values', () => {
  it('RFC 9700 §2.1: received and closest registered URI side by side, the first differing character of each marked', async () => {
    const body = await errorPageFor('http://127.0.0.1:9000/callbacK');
    assert.match(
      body,
      /<th scope="row">received<\/th><td><code>http:\/\/127\.0\.0\.1:9000\/callbac<mark title="first difference">K<\/mark><\/code><\/td>/,
    );
    assert.match(
      body,
      /<th scope="row">registered<\/th><td><code>http:\/\/127\.0\.0\.1:9000\/callbac<mark title="first difference">k<\/mark><\/code><\/td>/,
    );
    assert.match(body, /differ from character 30 on/);
    // Every registered value is listed in full as well.
    assert.ok(body.includes(`<dd>${REDIRECT}</dd>`));
  });

  it('RFC 9700 §2.1: a received URI longer than the registered one marks where the registered one ends; markup is escaped', async () => {
    const received = `${REDIRECT}"><img src=x onerror=alert(1)>`;
    const body = await errorPageFor(received);
    assert.ok(!body.includes('<img'), 'the received value is escaped');
    assert.match(
      body,
      /<code>http:\/\/127\.0\.0\.1:9000\/callback<mark title="first difference">&quot;<\/mark>&gt;&lt;img src=x onerror=alert\(1\)&gt;<\/code>/,
    );
    assert.match(body, /<code>http:\/\/127\.0\.0\.1:9000\/callback<mark class="end" title="ends here">/);
  });

  it('the comparison never splits a character outside the Basic Multilingual Plane', () => {
    const page = renderErrorPage({
      title: 'Invalid redirect_uri',
      message: 'x',
      comparison: {
        name: 'redirect_uri',
        received: 'https://app.example/\u{1F600}',
        expected: 'https://app.example/\u{1F601}',
        at: 20,
      },
    });
    assert.ok(page.includes('<mark title="first difference">\u{1F600}</mark>'));
    assert.ok(page.includes('<mark title="first difference">\u{1F601}</mark>'));
  });
});

/** A client with several redirect URIs, one of them an attacker would like to find. */
const MANY_URIS = {
  ...CONFIDENTIAL_CLIENT,
  redirect_uris: [REDIRECT, 'http://127.0.0.1:9000/forgotten-staging-callback'],
};

describe('RFC 9700 §4.1: outside development the redirect_uri error page does not list the registered URIs', () => {
  const lines: string[] = [];
  let production: RunningGatehouse;
  before(async () => {
    production = await startTestServer({
      clients: [MANY_URIS, PUBLIC_CLIENT],
      settings: { explainErrors: 'never' },
      logger: { write: (line: string) => void lines.push(line) },
    });
  });
  after(async () => {
    await production.close();
  });

  /** The JSON log lines of one request. */
  function logOf(requestId: string): Array<Record<string, unknown>> {
    return lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry['reqId'] === requestId);
  }

  it('RFC 9700 §4.1: a wrong redirect_uri gets "does not match" and a request id; the log line with that id has the full comparison', async () => {
    const received = 'http://127.0.0.1:9000/callbacK';
    const { body, requestId } = await errorResponseFor(production, received);
    assert.match(requestId, /^[0-9a-f-]{36}$/);
    assert.match(body, /does not exactly match any URI registered for this application/);
    assert.ok(body.includes(`<dt>request id</dt><dd>${requestId}</dd>`), 'the page shows the request id');
    assert.ok(body.includes(`<dd>${received}</dd>`), 'the value the browser sent is no secret');
    for (const uri of MANY_URIS.redirect_uris) assert.ok(!body.includes(uri), `the page leaks the registered ${uri}`);
    assert.ok(!body.includes('first difference'), 'no side-by-side comparison');
    assert.ok(!body.includes('class="compare"'), 'no side-by-side comparison');

    const refused = logOf(requestId).find((entry) => entry['refused'] !== undefined);
    assert.ok(refused, 'a log line with the request id explains the refusal');
    assert.equal(refused['level'], 30, 'logged at info');
    const explanation = refused['refused'] as {
      facts: Array<{ label: string; value: string }>;
      comparison: { received: string; expected: string; at: number };
    };
    assert.deepEqual(explanation.comparison, { name: 'redirect_uri', received, expected: REDIRECT, at: 29 });
    const registered = explanation.facts
      .filter((fact) => fact.label === 'registered redirect_uri')
      .map((fact) => fact.value);
    assert.deepEqual(registered, MANY_URIS.redirect_uris);
  });

  it('RFC 6749 §3.1.2.3: a missing or repeated redirect_uri does not list the registered URIs either', async () => {
    for (const redirectUri of [undefined, [REDIRECT, REDIRECT]]) {
      const { body, requestId } = await errorResponseFor(production, redirectUri);
      assert.ok(body.includes(`<dt>request id</dt><dd>${requestId}</dd>`));
      for (const uri of MANY_URIS.redirect_uris) assert.ok(!body.includes(uri), `the page leaks the registered ${uri}`);
      const refused = logOf(requestId).find((entry) => entry['refused'] !== undefined);
      assert.ok(refused, 'a log line with the request id lists the registered URIs');
      assert.ok(MANY_URIS.redirect_uris.every((uri) => JSON.stringify(refused).includes(uri)));
    }
  });

  it('explain_errors: auto explains on a loopback issuer only; always and never force it', () => {
    assert.equal(explainsErrors({ explainErrors: 'auto', issuer: 'http://127.0.0.1:9001' }), true);
    assert.equal(explainsErrors({ explainErrors: 'auto', issuer: 'http://localhost:9001' }), true);
    assert.equal(explainsErrors({ explainErrors: 'auto', issuer: 'https://login.example.com' }), false);
    assert.equal(explainsErrors({ explainErrors: 'always', issuer: 'https://login.example.com' }), true);
    assert.equal(explainsErrors({ explainErrors: 'never', issuer: 'http://127.0.0.1:9001' }), false);
  });
});

describe('RFC 6749 §5.2: token endpoint error_description says which check failed', () => {
  /** The description must not echo any secret of the request. */
  function assertNoSecrets(description: unknown, secrets: Array<string | null>): void {
    for (const secret of secrets)
      if (secret) assert.ok(!String(description).includes(secret), `the description leaks ${secret}`);
  }

  it('RFC 7636 §4.6: a wrong code_verifier: "code_verifier does not match code_challenge"', async () => {
    const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
    const wrong = newVerifier();
    const response = await postToken(gatehouse, codeRequest(obtained, { code_verifier: wrong }), { basic: BASIC });
    assertTokenError(response, 400, 'invalid_grant');
    assert.equal(response.body['error_description'], 'code_verifier does not match code_challenge');
    assertNoSecrets(response.body['error_description'], [obtained.code, obtained.verifier, wrong, BASIC.secret]);
  });

  it('RFC 7636 §4.6: a missing or malformed code_verifier is named as such', async () => {
    const missing = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
    const response = await postToken(
      gatehouse,
      { ...codeRequest(missing), code_verifier: undefined },
      { basic: BASIC },
    );
    assertTokenError(response, 400, 'invalid_grant');
    assert.equal(response.body['error_description'], 'code_verifier is required for this code');
    const short = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
    const malformed = await postToken(gatehouse, codeRequest(short, { code_verifier: 'too-short' }), { basic: BASIC });
    assert.equal(malformed.body['error_description'], 'code_verifier is not 43 to 128 unreserved characters');
  });

  it('RFC 6749 §4.1.3: "redirect_uri differs from the authorization request", and a missing one is required', async () => {
    const obtained = await obtainCode(gatehouse, PUBLIC_CLIENT);
    const response = await postToken(
      gatehouse,
      codeRequest(obtained, { client_id: PUBLIC_CLIENT.client_id, redirect_uri: PUBLIC_CLIENT.redirect_uris[1] }),
    );
    assertTokenError(response, 400, 'invalid_grant');
    assert.equal(response.body['error_description'], 'redirect_uri differs from the authorization request');
    const second = await obtainCode(gatehouse, PUBLIC_CLIENT);
    const missing = await postToken(
      gatehouse,
      codeRequest(second, { client_id: PUBLIC_CLIENT.client_id, redirect_uri: undefined }),
    );
    assertTokenError(missing, 400, 'invalid_request');
    assert.equal(
      missing.body['error_description'],
      'redirect_uri is required because the authorization request included it',
    );
  });

  it('RFC 6749 §4.1.2, §4.1.3: replayed, foreign and unknown codes share one description (nothing confirms a code to another client), without echoing the code', async () => {
    const unredeemable = 'code is invalid, expired, already used, or was issued to another client';
    const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
    assert.equal((await postToken(gatehouse, codeRequest(obtained), { basic: BASIC })).status, 200);
    const replay = await postToken(gatehouse, codeRequest(obtained), { basic: BASIC });
    assert.equal(replay.body['error_description'], unredeemable);

    const foreign = await obtainCode(gatehouse, PUBLIC_CLIENT);
    const stolen = await postToken(gatehouse, { ...codeRequest(foreign), redirect_uri: undefined }, { basic: BASIC });
    assertTokenError(stolen, 400, 'invalid_grant');
    assert.equal(stolen.body['error_description'], unredeemable);

    const unknownCode = 'made-up-code-that-was-never-issued';
    const unknown = await postToken(
      gatehouse,
      { grant_type: 'authorization_code', code: unknownCode, redirect_uri: REDIRECT, code_verifier: newVerifier() },
      { basic: BASIC },
    );
    assertTokenError(unknown, 400, 'invalid_grant');
    assert.equal(unknown.body['error_description'], unredeemable);
    assertNoSecrets(unknown.body['error_description'], [unknownCode, obtained.code, foreign.code]);
  });

  it('RFC 6749 §6: a refresh token of another client reads like an unknown one (no probing), without echoing it', async () => {
    const token = 'not-a-refresh-token-of-this-client';
    const response = await postToken(
      gatehouse,
      { grant_type: 'refresh_token', refresh_token: token },
      { basic: BASIC },
    );
    assertTokenError(response, 400, 'invalid_grant');
    assert.equal(response.body['error_description'], 'refresh token is unknown or was not issued to this client');
  });

  it('RFC 6749 §2.3.1: a wrong client secret never appears in the description', async () => {
    const wrongSecret = 'wrong-secret-value-1234567890';
    const response = await postToken(
      gatehouse,
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { basic: { id: BASIC.id, secret: wrongSecret } },
    );
    assertTokenError(response, 401, 'invalid_client');
    assertNoSecrets(response.body['error_description'], [wrongSecret, BASIC.secret]);
  });
});
