/**
 * The authorization endpoint and the interaction pages, negative and edge cases, by spec section:
 * RFC 6749 §3.1 / §4.1.1 / §4.1.2.1, RFC 7636, RFC 8252, RFC 9207, RFC 9700, OpenID Connect
 * Core §3.1.2, and OAuth 2.0 Form Post Response Mode.
 *
 * Run: node --import tsx --test test/authorize/authorization-endpoint.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { s256Challenge } from '../../src/core/pkce.js';
import { sha256Base64Url } from '../../src/core/secrets.js';
import { escapeHtml } from '../../src/ui/html.js';
import {
  ALICE,
  CONFIDENTIAL_CLIENT,
  MACHINE_CLIENT,
  NO_PKCE_CLIENT,
  PUBLIC_CLIENT,
  useTestServer,
} from '../helpers/server.js';
import {
  UserAgent,
  formPostFields,
  hiddenInput,
  isConsentPage,
  isLoginPage,
  type PageResponse,
} from '../helpers/user-agent.js';
import {
  assertErrorPage,
  assertPageHeaders,
  assertRedirectError as assertRedirectErrorOf,
} from '../helpers/authorization-pages.js';
import {
  assertErrorDescription,
  authorizeParams,
  authorizeUrl,
  newVerifier,
  obtainCode,
  postToken,
} from '../helpers/code-flow.js';
import { preflight } from '../helpers/http-cors.js';

/** A native app listening on loopback, registered without a port (RFC 8252 §7.3). */
const NATIVE_CLIENT: ClientFixture = {
  client_id: 'native-app',
  client_name: 'Example Native App',
  redirect_uris: ['http://127.0.0.1/oauth/callback', 'http://[::1]/oauth/callback'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  scope: 'openid profile',
  require_pkce: true,
};

const HOSTILE_NAME = '<script>alert("name")</script>&\'';
/** A client whose display name is markup: it must be shown as text. */
const HOSTILE_CLIENT: ClientFixture = {
  client_id: 'hostile',
  client_name: HOSTILE_NAME,
  redirect_uris: ['http://127.0.0.1:9000/hostile'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  scope: 'openid profile',
  require_pkce: true,
};

const CONFIDENTIAL_REDIRECT = CONFIDENTIAL_CLIENT.redirect_uris[0]!;
const PUBLIC_REDIRECT = PUBLIC_CLIENT.redirect_uris[0]!;

let gatehouse: RunningGatehouse;
useTestServer(
  { clients: [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, NATIVE_CLIENT, NO_PKCE_CLIENT, HOSTILE_CLIENT, MACHINE_CLIENT] },
  (started) => (gatehouse = started),
);

/** A valid request of the confidential client, to be varied by each test. */
function validParams(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return authorizeParams(CONFIDENTIAL_CLIENT, overrides);
}

/** OAuth 2.0 Form Post Response Mode §2: an error as a form page (200, no redirect) with state xyz and iss (RFC 9207 §2). */
function assertFormPostError(page: PageResponse, error: string): void {
  assert.equal(page.status, 200);
  assert.equal(page.location, null);
  const fields = formPostFields(page.body);
  assert.equal(fields['error'], error);
  assert.equal(fields['state'], 'xyz');
  assert.equal(fields['iss'], gatehouse.url);
}

async function get(url: string, headers: Record<string, string> = {}): Promise<PageResponse> {
  const response = await fetch(url, { redirect: 'manual', headers });
  return {
    status: response.status,
    url,
    location: response.headers.get('location'),
    headers: response.headers,
    body: await response.text(),
  };
}

async function getAuthorize(
  params: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): Promise<PageResponse> {
  return get(authorizeUrl(gatehouse, params), headers);
}

/** The browser was sent on to the login page: the request was accepted. */
function assertAccepted(page: PageResponse): void {
  assert.equal(page.status, 303, page.body.slice(0, 500));
  assert.match(page.location ?? '', /^\/interaction\/[A-Za-z0-9_-]+$/);
}

/** RFC 6749 §4.1.2.1 + RFC 9207 §2: an error redirected to `redirectUri`, with this server's `iss`. */
function assertRedirectError(
  page: PageResponse,
  redirectUri: string,
  error: string,
  state: string | null,
): URLSearchParams {
  return assertRedirectErrorOf(page, gatehouse.url, redirectUri, error, state);
}

/** assertRedirectError for the confidential client's valid request varied by `overrides` (state xyz). */
async function assertRedirected(
  overrides: Record<string, string | undefined>,
  error: string,
): Promise<URLSearchParams> {
  return assertRedirectError(await getAuthorize(validParams(overrides)), CONFIDENTIAL_REDIRECT, error, 'xyz');
}

/** Signs ALICE in and consents in a new browser; returns the browser, which now has a session. */
async function signedInBrowser(scope = 'openid profile'): Promise<UserAgent> {
  const ua = new UserAgent(gatehouse.url);
  await obtainCode(gatehouse, CONFIDENTIAL_CLIENT, { ua, scope });
  assert.ok(ua.cookie('gh_session'));
  return ua;
}

/** Starts an interaction in a new browser and returns the login page. */
async function loginPage(
  params: Record<string, string | undefined> = validParams(),
): Promise<{ ua: UserAgent; page: PageResponse }> {
  const ua = new UserAgent(gatehouse.url);
  const page = await ua.navigate(authorizeUrl(gatehouse, params));
  assert.ok(isLoginPage(page), page.body.slice(0, 300));
  return { ua, page };
}

function formAction(page: PageResponse): string {
  const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(action, 'the page has a form');
  return new URL(action, page.url).href;
}

describe('RFC 6749 §4.1.2.1: an untrusted client or redirect_uri gets an error page, never a redirect', () => {
  it('RFC 6749 §4.1.2.1: a request without client_id gets a 400 error page', async () => {
    const page = await getAuthorize(validParams({ client_id: undefined }));
    assertErrorPage(page, 400, 'The request has no client_id parameter.');
  });

  it('RFC 6749 §4.1.2.1: an unknown client_id gets a 400 error page naming the received client_id', async () => {
    const page = await getAuthorize(validParams({ client_id: 'no-such-client' }));
    assertErrorPage(page, 400, 'Unknown application', 'no-such-client');
  });

  it('RFC 6749 §3.1: a client_id sent twice gets a 400 error page', async () => {
    const url = `${authorizeUrl(gatehouse, validParams())}&client_id=${PUBLIC_CLIENT.client_id}`;
    assertErrorPage(await get(url), 400);
  });

  it('RFC 9700 §4.1.3: an unregistered redirect_uri gets an error page showing received and registered values', async () => {
    const received = 'https://attacker.example/callback';
    const page = await getAuthorize(validParams({ redirect_uri: received }));
    assertErrorPage(page, 400, 'Invalid redirect_uri', received, CONFIDENTIAL_REDIRECT);
    assert.ok(!page.body.includes('href="https://attacker.example'), 'the page must not link to the received URI');
  });

  it('RFC 9700 §2.1: a redirect_uri differing by one character is refused (exact string match)', async () => {
    const received = 'http://127.0.0.1:9000/callbacK';
    const page = await getAuthorize(validParams({ redirect_uri: received }));
    assertErrorPage(page, 400, received, CONFIDENTIAL_REDIRECT);
  });

  it('RFC 9700 §2.1: a registered redirect_uri with a trailing slash added is refused', async () => {
    const received = `${CONFIDENTIAL_REDIRECT}/`;
    assertErrorPage(await getAuthorize(validParams({ redirect_uri: received })), 400, received, CONFIDENTIAL_REDIRECT);
  });

  it('RFC 9700 §2.1: a registered redirect_uri with an extra query component is refused', async () => {
    const received = `${CONFIDENTIAL_REDIRECT}?next=https://attacker.example`;
    assertErrorPage(await getAuthorize(validParams({ redirect_uri: received })), 400, received, CONFIDENTIAL_REDIRECT);
  });

  it('RFC 6749 §3.1.2: a redirect_uri with a fragment is refused', async () => {
    const received = `${CONFIDENTIAL_REDIRECT}#frag`;
    assertErrorPage(await getAuthorize(validParams({ redirect_uri: received })), 400, received, CONFIDENTIAL_REDIRECT);
  });

  it('RFC 6749 §3.1.2.3: an omitted redirect_uri is refused when several are registered, listing them', async () => {
    const page = await getAuthorize({
      response_type: 'code',
      client_id: PUBLIC_CLIENT.client_id,
      state: 'xyz',
      code_challenge: s256Challenge(newVerifier()),
      code_challenge_method: 'S256',
    });
    assertErrorPage(page, 400, 'Missing redirect_uri', ...PUBLIC_CLIENT.redirect_uris);
  });

  it('RFC 6749 §3.1.2.3: an omitted redirect_uri is accepted when exactly one is registered', async () => {
    assertAccepted(await getAuthorize(validParams({ redirect_uri: undefined })));
  });

  it('RFC 6749 §4.1.2.1: a client without redirect URIs (client_credentials only) gets an error page', async () => {
    const params = validParams({ client_id: MACHINE_CLIENT.client_id });
    assertErrorPage(await getAuthorize(params), 400, 'Invalid redirect_uri', CONFIDENTIAL_REDIRECT);
    assertErrorPage(await getAuthorize({ ...params, redirect_uri: undefined }), 400, 'Missing redirect_uri');
  });

  it('RFC 6749 §3.1: a redirect_uri sent twice gets an error page', async () => {
    const url = `${authorizeUrl(gatehouse, validParams())}&redirect_uri=${encodeURIComponent(CONFIDENTIAL_REDIRECT)}`;
    assertErrorPage(await get(url), 400, CONFIDENTIAL_REDIRECT);
  });

  it('RFC 6749 §4.1.2.1: errors found before the redirect_uri is validated are not redirected (bad redirect_uri + bad response_type)', async () => {
    const page = await getAuthorize(
      validParams({ redirect_uri: 'https://attacker.example/cb', response_type: 'token' }),
    );
    assertErrorPage(page, 400, 'https://attacker.example/cb');
  });
});

describe('RFC 8252 §7: native app redirect URIs', () => {
  const native = (redirectUri: string) =>
    authorizeParams(NATIVE_CLIENT, { redirect_uri: redirectUri, scope: undefined, state: 's' });
  /** A loopback redirect URI of the native client at `hostPort`. */
  const loopback = (hostPort: string) => `http://${hostPort}/oauth/callback`;
  const assertRefused = async (received: string) =>
    assertErrorPage(await getAuthorize(native(received)), 400, received);

  it('RFC 8252 §7.3: http://127.0.0.1 with any port is accepted when registered without a port', async () => {
    for (const port of ['1', '49152', '51234', '65535']) {
      assertAccepted(await getAuthorize(native(`http://127.0.0.1:${port}/oauth/callback`)));
    }
    assertAccepted(await getAuthorize(native('http://127.0.0.1/oauth/callback')));
  });

  it('RFC 8252 §7.3: http://[::1] with any port is accepted when registered without a port', async () => {
    assertAccepted(await getAuthorize(native('http://[::1]:51234/oauth/callback')));
    assertAccepted(await getAuthorize(native('http://[::1]/oauth/callback')));
  });

  it('RFC 8252 §7.3: a loopback redirect with a variable port delivers errors to that exact port', async () => {
    const redirectUri = 'http://127.0.0.1:50123/oauth/callback';
    const page = await getAuthorize({ ...native(redirectUri), response_type: 'token', state: 'st' });
    assertRedirectError(page, redirectUri, 'unsupported_response_type', 'st');
  });

  it('RFC 8252 §7.3: only the port may vary: another path on the loopback host is refused', async () => {
    await assertRefused('http://127.0.0.1:51234/oauth/callback2');
  });

  it('RFC 8252 §7.3: a port that is not a valid TCP port is refused with an error page', async () => {
    for (const received of ['127.0.0.1:99999', '127.0.0.1:65536', '[::1]:70000', '127.0.0.1:0'].map(loopback)) {
      await assertRefused(received);
      assertErrorPage(await getAuthorize({ ...native(received), response_type: 'token' }), 400, received);
    }
  });

  it('RFC 8252 §7.3: a loopback redirect with a variable port and an extra query or a fragment is refused', async () => {
    const variablePort = ['?x=1', '#x', '/'].map((suffix) => `${loopback('127.0.0.1:51234')}${suffix}`);
    for (const received of [...variablePort, `${loopback('[::1]:51234')}?`]) await assertRefused(received);
  });

  it('RFC 8252 §8.3: localhost gets no port exception', async () => {
    await assertRefused('http://localhost:51234/oauth/callback');
  });

  it('RFC 8252 §7.1: a private-use scheme redirect (com.example.app:/callback) is accepted for the public client', async () => {
    const redirectUri = 'com.example.app:/callback';
    const params = { ...native(redirectUri), client_id: PUBLIC_CLIENT.client_id, scope: 'openid' };
    assertAccepted(await getAuthorize(params));
    const error = await getAuthorize({ ...params, response_type: 'token' });
    assert.ok(error.location!.startsWith('com.example.app:/callback?'), error.location!);
    assertRedirectError(error, redirectUri, 'unsupported_response_type', 's');

    const { code } = await obtainCode(gatehouse, PUBLIC_CLIENT, { redirectUri });
    assert.ok(code);
  });
});

describe('RFC 6749 §4.1.2.1: after the redirect_uri is validated, errors are redirected with state and iss', () => {
  it('RFC 6749 §4.1.2: state with spaces, unicode, &, =, + and % comes back byte-for-byte (with RFC 9207 iss)', async () => {
    const states = [
      'a b  c',
      'ünïcødé 漢字 😀',
      'a&b=c+d%e',
      '%20%2B+%',
      '==&&++',
      ' leading and trailing ',
      '"\'<>\\`#?/',
    ];
    for (const state of states) {
      const page = await getAuthorize(validParams({ response_type: 'token', state }));
      assertRedirectError(page, CONFIDENTIAL_REDIRECT, 'unsupported_response_type', state);
    }
  });

  it('RFC 6749 §4.1.2: the state of a successful response also comes back byte-for-byte', async () => {
    const state = 'a b&c=d+e%f ü 😀';
    const verifier = newVerifier();
    const ua = new UserAgent(gatehouse.url);
    const final = await ua.authorize(
      authorizeUrl(gatehouse, validParams({ state, code_challenge: s256Challenge(verifier) })),
      ALICE,
    );
    assert.equal(final.status, 303);
    const location = new URL(final.location!);
    assert.equal(location.searchParams.get('state'), state);
    assert.equal(location.searchParams.get('iss'), gatehouse.url);
    assert.ok(location.searchParams.get('code'));
  });

  it('RFC 6749 §4.1.2.1: no state in the request means no state in the error response', async () => {
    const page = await getAuthorize(validParams({ response_type: 'token', state: undefined }));
    const params = assertRedirectError(page, CONFIDENTIAL_REDIRECT, 'unsupported_response_type', null);
    assert.equal(params.has('state'), false);
  });

  it('RFC 6749 §4.1.1: a missing response_type is invalid_request', async () => {
    await assertRedirected({ response_type: undefined }, 'invalid_request');
  });

  it('RFC 9700 §2.1.2: response_type=token (implicit) is unsupported_response_type', async () => {
    await assertRedirected({ response_type: 'token' }, 'unsupported_response_type');
  });

  it('RFC 9700 §2.1.2: response_type=code token (hybrid with a token) is unsupported_response_type', async () => {
    await assertRedirected({ response_type: 'code token' }, 'unsupported_response_type');
  });

  it('RFC 9700 §2.1.1: a public client without code_challenge is invalid_request', async () => {
    const page = await getAuthorize(
      validParams({
        client_id: PUBLIC_CLIENT.client_id,
        redirect_uri: PUBLIC_REDIRECT,
        code_challenge: undefined,
        code_challenge_method: undefined,
      }),
    );
    assertRedirectError(page, PUBLIC_REDIRECT, 'invalid_request', 'xyz');
  });

  it('RFC 9700 §2.1.1: a confidential client (PKCE required by default) without code_challenge is invalid_request', async () => {
    const params = await assertRedirected(
      { code_challenge: undefined, code_challenge_method: undefined },
      'invalid_request',
    );
    assert.match(params.get('error_description')!, /code_challenge/);
  });

  it('RFC 9700 §2.1.1: code_challenge_method=plain is invalid_request', async () => {
    const verifier = newVerifier();
    await assertRedirected({ code_challenge: verifier, code_challenge_method: 'plain' }, 'invalid_request');
  });

  it('RFC 7636 §4.3: a code_challenge without code_challenge_method (which would default to plain) is invalid_request', async () => {
    await assertRedirected({ code_challenge_method: undefined }, 'invalid_request');
  });

  it('RFC 7636 §4.3: code_challenge_method without code_challenge is invalid_request', async () => {
    await assertRedirected({ code_challenge: undefined }, 'invalid_request');
  });

  it('RFC 7636 §4.2: a malformed S256 code_challenge is invalid_request', async () => {
    const good = s256Challenge(newVerifier());
    for (const challenge of [good.slice(1), `${good}A`, `${good.slice(0, 42)}=`, `${good.slice(0, 42)}+`, 'short']) {
      await assertRedirected({ code_challenge: challenge }, 'invalid_request');
    }
  });

  it('RFC 6749 §3.3: a scope the client is not registered for is invalid_scope', async () => {
    await assertRedirected({ scope: 'openid admin' }, 'invalid_scope');
  });

  it('RFC 6749 §3.1: a parameter sent twice (scope) is invalid_request', async () => {
    const url = `${authorizeUrl(gatehouse, validParams())}&scope=email`;
    const params = assertRedirectError(await get(url), CONFIDENTIAL_REDIRECT, 'invalid_request', 'xyz');
    assert.match(params.get('error_description')!, /scope/);
  });

  it('RFC 6749 §3.1: parameters sent without a value are treated as omitted (empty scope = registered scope)', async () => {
    const url = `${authorizeUrl(gatehouse, validParams({ scope: undefined }))}&scope=&nonce=`;
    assertAccepted(await get(url));
  });

  it('RFC 9101 §6.2: an unsigned request object (alg none) is an error page with invalid_request_object, never a redirect', async () => {
    assertErrorPage(
      await getAuthorize({ client_id: CONFIDENTIAL_CLIENT.client_id, request: 'eyJhbGciOiJub25lIn0.e30.' }),
      400,
      'invalid_request_object',
    );
  });

  it('OpenID Connect Core §6.2: request_uri is request_uri_not_supported', async () => {
    await assertRedirected({ request_uri: 'https://client.example/request.jwt' }, 'request_uri_not_supported');
  });

  it('OpenID Connect Core §3.1.2.1: prompt=none without a session is login_required', async () => {
    await assertRedirected({ prompt: 'none' }, 'login_required');
  });

  it('OpenID Connect Core §3.1.2.1: prompt=none with a session but without consent for the scope is consent_required', async () => {
    const ua = await signedInBrowser('openid');
    const page = await ua.request(authorizeUrl(gatehouse, validParams({ prompt: 'none', scope: 'openid email' })));
    assertRedirectError(page, CONFIDENTIAL_REDIRECT, 'consent_required', 'xyz');
  });

  it('OpenID Connect Core §3.1.2.1: prompt=none with a session and consent returns a code at once', async () => {
    const ua = await signedInBrowser('openid profile');
    const page = await ua.request(authorizeUrl(gatehouse, validParams({ prompt: 'none' })));
    assert.equal(page.status, 303);
    const location = new URL(page.location!);
    assert.ok(location.searchParams.get('code'));
    assert.equal(location.searchParams.get('state'), 'xyz');
  });

  it('OpenID Connect Core §3.1.2.1: prompt=none combined with login is invalid_request', async () => {
    await assertRedirected({ prompt: 'none login' }, 'invalid_request');
  });

  it('OpenID Connect Core §3.1.2.1: an unknown prompt value is invalid_request', async () => {
    await assertRedirected({ prompt: 'sudo' }, 'invalid_request');
  });

  it('OAuth 2.0 Multiple Response Type Encoding Practices §2.1: an unsupported response_mode (fragment) is invalid_request, sent in the query', async () => {
    for (const mode of ['fragment', 'jwt', 'form_post.jwt']) {
      const page = await getAuthorize(validParams({ response_mode: mode }));
      assertRedirectError(page, CONFIDENTIAL_REDIRECT, 'invalid_request', 'xyz');
      assert.equal(new URL(page.location!).hash, '');
    }
  });

  it('OAuth 2.0 Form Post Response Mode §2: in form_post mode an error comes as an auto-submitting form with the error fields', async () => {
    const state = 'a b&c=d+e%f "<ü>"';
    const page = await getAuthorize(validParams({ response_mode: 'form_post', response_type: 'token', state }));
    assert.equal(page.status, 200);
    assert.equal(page.location, null);
    assertPageHeaders(page);
    const csp = page.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'sha256-/);
    assert.match(csp, /form-action 'self' http:\/\/127\.0\.0\.1:9000/);
    assert.match(page.body, /<form method="post" action="http:\/\/127\.0\.0\.1:9000\/callback">/);
    const fields = formPostFields(page.body);
    assert.equal(fields['error'], 'unsupported_response_type');
    assert.equal(fields['state'], state);
    assert.equal(fields['iss'], gatehouse.url);
    assert.equal(fields['code'], undefined);
    assertErrorDescription(fields['error_description']);
  });

  it('OAuth 2.0 Form Post Response Mode §2: prompt=none errors in form_post mode come as a form too', async () => {
    assertFormPostError(
      await getAuthorize(validParams({ response_mode: 'form_post', prompt: 'none' })),
      'login_required',
    );
  });

  it('RFC 9700 §2.1.1: a confidential client registered with require_pkce: false may omit PKCE', async () => {
    const obtained = await obtainCode(gatehouse, NO_PKCE_CLIENT, { pkce: false });
    assert.ok(obtained.code);
    const token = await postToken(
      gatehouse,
      { grant_type: 'authorization_code', code: obtained.code, redirect_uri: obtained.redirectUri },
      { basic: { id: NO_PKCE_CLIENT.client_id, secret: NO_PKCE_CLIENT.client_secret! } },
    );
    assert.equal(token.status, 200, token.text);
  });

  it('RFC 7636 §4.3: a require_pkce: false client that sends a code_challenge still gets it validated', async () => {
    const page = await getAuthorize(
      validParams({
        client_id: NO_PKCE_CLIENT.client_id,
        redirect_uri: NO_PKCE_CLIENT.redirect_uris[0],
        code_challenge_method: 'plain',
      }),
    );
    assertRedirectError(page, NO_PKCE_CLIENT.redirect_uris[0]!, 'invalid_request', 'xyz');
  });
});

describe('RFC 6749 §3.1: the authorization endpoint over HTTP', () => {
  it('RFC 6749 §3.1: the POST form of the authorization endpoint works like GET', async () => {
    const post = async (params: Record<string, string | undefined>) => {
      const body = new URLSearchParams(
        Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined),
      );
      const response = await fetch(new URL('/authorize', gatehouse.url), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      return {
        status: response.status,
        url: response.url,
        location: response.headers.get('location'),
        headers: response.headers,
        body: await response.text(),
      };
    };
    assertAccepted(await post(validParams()));
    assertRedirectError(
      await post(validParams({ response_type: 'token', state: 'a b&c' })),
      CONFIDENTIAL_REDIRECT,
      'unsupported_response_type',
      'a b&c',
    );
    assertErrorPage(
      await post(validParams({ redirect_uri: 'https://attacker.example/' })),
      400,
      'https://attacker.example/',
    );

    // The whole flow through POST: log in, consent, code.
    const verifier = newVerifier();
    const ua = new UserAgent(gatehouse.url);
    const started = await ua.request('/authorize', {
      form: validParams({ code_challenge: s256Challenge(verifier) }) as Record<string, string>,
    });
    assertAccepted(started);
    let page = await ua.navigate(started.location!);
    assert.ok(isLoginPage(page));
    page = await ua.submit(page, { username: ALICE.username, password: ALICE.password });
    if (isConsentPage(page)) page = await ua.submit(page, { decision: 'allow' });
    assert.equal(page.status, 303);
    const code = new URL(page.location!).searchParams.get('code')!;
    const token = await postToken(
      gatehouse,
      { grant_type: 'authorization_code', code, redirect_uri: CONFIDENTIAL_REDIRECT, code_verifier: verifier },
      { basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! } },
    );
    assert.equal(token.status, 200, token.text);
  });

  it('RFC 6749 §3.1: a POST to the authorization endpoint that is not form-encoded gets a 400 page, not a redirect', async () => {
    const response = await fetch(new URL('/authorize', gatehouse.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validParams()),
    });
    const page = {
      status: response.status,
      url: '',
      location: response.headers.get('location'),
      headers: response.headers,
      body: await response.text(),
    };
    assertErrorPage(page, 400);
  });

  it('RFC 6749 §3.1 (no CORS): the authorization endpoint sends no Access-Control-Allow-Origin, even when asked with Origin', async () => {
    const origin = { origin: 'https://client.example' };
    for (const page of [
      await getAuthorize(validParams(), origin),
      await getAuthorize(validParams({ response_type: 'token' }), origin),
      await getAuthorize(validParams({ client_id: 'unknown' }), origin),
    ]) {
      assert.ok([303, 400].includes(page.status));
      assert.equal(page.headers.get('access-control-allow-origin'), null);
      assert.equal(page.headers.get('access-control-allow-credentials'), null);
    }
    const asked = await preflight(authorizeUrl(gatehouse, validParams()), origin.origin, 'GET');
    assert.equal(asked.headers.get('access-control-allow-origin'), null);
  });
});

describe('the login and consent pages (RFC 6749 §10.12-10.14, RFC 9700 §4.7, §4.12, §4.16)', () => {
  it('RFC 6749 §10.13: the login page forbids framing (CSP frame-ancestors and X-Frame-Options) and is not cached', async () => {
    const { page } = await loginPage();
    assertPageHeaders(page);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  });

  it('RFC 6265 §4.1.2: cookies are HttpOnly and SameSite=Lax, and not Secure on an http issuer', async () => {
    const start = await getAuthorize(validParams());
    assertAccepted(start);
    const browserCookie = start.headers.getSetCookie().find((cookie) => cookie.startsWith('gh_browser='));
    assert.ok(browserCookie);
    const browserAttributes = browserCookie.split(';').map((part) => part.trim().toLowerCase());
    assert.ok(browserAttributes.includes('httponly'));
    assert.ok(browserAttributes.includes('samesite=lax'));
    assert.ok(!browserAttributes.includes('secure'));

    const { ua, page } = await loginPage();
    const login = await ua.request(formAction(page), {
      form: { csrf_token: hiddenInput(page.body, 'csrf_token')!, username: ALICE.username, password: ALICE.password },
    });
    assert.equal(login.status, 303);
    const sessionCookie = login.headers.getSetCookie().find((cookie) => cookie.startsWith('gh_session='));
    assert.ok(sessionCookie, 'the sign-in sets the session cookie');
    const attributes = sessionCookie.split(';').map((part) => part.trim().toLowerCase());
    assert.ok(attributes.includes('httponly'), sessionCookie);
    assert.ok(attributes.includes('samesite=lax'), sessionCookie);
    assert.ok(attributes.includes('path=/'), sessionCookie);
    assert.ok(!attributes.includes('secure'), 'no Secure attribute on an http issuer');
  });

  it('OWASP ASVS 3.2.1 (session fixation): the session cookie value changes at every sign-in, and the old session ends', async () => {
    const ua = await signedInBrowser();
    const first = ua.cookie('gh_session')!;
    const again = await ua.navigate(authorizeUrl(gatehouse, validParams({ prompt: 'login' })));
    assert.ok(isLoginPage(again), 'prompt=login asks for the password again');
    const final = await ua.submit(again, { username: ALICE.username, password: ALICE.password });
    assert.equal(final.status, 303);
    assert.ok(new URL(final.location!).searchParams.get('code'));
    const second = ua.cookie('gh_session')!;
    assert.notEqual(second, first);
    assert.equal(
      await gatehouse.store.sessions.get(sha256Base64Url(first), Date.now()),
      undefined,
      'the previous session is gone',
    );
    assert.ok(await gatehouse.store.sessions.get(sha256Base64Url(second), Date.now()));
  });

  it('OWASP ASVS 2.2.1 (no account enumeration): a wrong password and an unknown user get the same page', async () => {
    const { ua, page } = await loginPage();
    const action = formAction(page);
    const csrf = hiddenInput(page.body, 'csrf_token')!;
    const wrongPassword = await ua.request(action, {
      form: { csrf_token: csrf, username: ALICE.username, password: 'wrong password' },
    });
    const unknownUser = await ua.request(action, {
      form: { csrf_token: csrf, username: 'mallory', password: 'wrong password' },
    });
    assert.equal(wrongPassword.status, 303);
    assert.equal(unknownUser.status, 303);
    assert.equal(wrongPassword.location, unknownUser.location);
    assert.deepEqual(wrongPassword.headers.getSetCookie(), []);
    assert.deepEqual(unknownUser.headers.getSetCookie(), []);
    const pageA = await ua.navigate(wrongPassword.location!);
    const pageB = await ua.navigate(unknownUser.location!);
    assert.ok(isLoginPage(pageA));
    assert.match(pageA.body, /Incorrect username or password\./);
    assert.equal(pageA.body, pageB.body);
    assert.equal(ua.cookie('gh_session'), undefined);
  });

  it('a failed sign-in redirects (303) to the login page, which keeps the username as typed and marks the fields aria-invalid, never the password', async () => {
    const { ua, page } = await loginPage();
    const failed = await ua.request(formAction(page), {
      form: { csrf_token: hiddenInput(page.body, 'csrf_token')!, username: 'alice.typo', password: 'secret-typed' },
    });
    assert.equal(failed.status, 303);
    const again = await ua.navigate(failed.location!);
    assert.ok(isLoginPage(again));
    assert.match(again.body, /<input id="username" name="username"[^>]* value="alice\.typo"[^>]* aria-invalid="true"/);
    assert.match(again.body, /<input id="password" name="password"[^>]* aria-invalid="true"/);
    assert.doesNotMatch(again.body, /secret-typed/);
    // A fresh look at the same interaction (no failure in the URL) does not pre-fill it.
    const fresh = await ua.navigate(failed.location!.replace('?failed=1', ''));
    assert.doesNotMatch(fresh.body, /alice\.typo/);
  });

  it('RFC 6749 §10.12: a login POST without csrf_token, or with a wrong one, gets a 403 page', async () => {
    const { ua, page } = await loginPage();
    const action = formAction(page);
    const forms: Array<Record<string, string>> = [
      { username: ALICE.username, password: ALICE.password },
      { csrf_token: 'wrong-token', username: ALICE.username, password: ALICE.password },
      { csrf_token: `${hiddenInput(page.body, 'csrf_token')!}x`, username: ALICE.username, password: ALICE.password },
    ];
    for (const form of forms) {
      const response = await ua.request(action, { form });
      assertErrorPage(response, 403);
      assert.deepEqual(response.headers.getSetCookie(), [], 'no session without a valid form');
    }
    assert.equal(ua.cookie('gh_session'), undefined);
  });

  it('RFC 6749 §10.12: a consent POST without csrf_token, or with a wrong one, gets a 403 page', async () => {
    const { ua, page } = await loginPage(validParams({ prompt: 'consent' }));
    const consent = await ua.submit(page, { username: ALICE.username, password: ALICE.password });
    assert.ok(isConsentPage(consent), consent.body.slice(0, 300));
    const action = formAction(consent);
    assertErrorPage(await ua.request(action, { form: { decision: 'allow' } }), 403);
    assertErrorPage(await ua.request(action, { form: { csrf_token: 'nope', decision: 'allow' } }), 403);
    // The interaction is still usable with the right token.
    const done = await ua.submit(consent, { decision: 'allow' });
    assert.equal(done.status, 303);
    assert.ok(new URL(done.location!).searchParams.get('code'));
  });

  it('RFC 9700 §4.7: an interaction URL opened by another browser gets a 400 page, for GET and POST', async () => {
    const { page } = await loginPage();
    const other = new UserAgent(gatehouse.url);
    // A browser with cookies of its own (it started another authorization).
    await other.navigate(authorizeUrl(gatehouse, validParams()));
    assert.ok(other.cookie('gh_browser'));
    assertErrorPage(await other.request(page.url), 400);
    assertErrorPage(await new UserAgent(gatehouse.url).request(page.url), 400);
    const csrf = hiddenInput(page.body, 'csrf_token')!;
    const stolen = await other.request(formAction(page), {
      form: { csrf_token: csrf, username: ALICE.username, password: ALICE.password },
    });
    assertErrorPage(stolen, 400);
    assert.deepEqual(stolen.headers.getSetCookie(), []);
  });

  it('RFC 6749 §4.1.2.1: consent denied redirects with error=access_denied, the state and iss', async () => {
    const state = 'deny me & keep = this + %';
    const { ua, page } = await loginPage(validParams({ state, prompt: 'consent' }));
    const consent = await ua.submit(page, { username: ALICE.username, password: ALICE.password });
    assert.ok(isConsentPage(consent));
    const denied = await ua.request(formAction(consent), {
      form: { csrf_token: hiddenInput(consent.body, 'csrf_token')!, decision: 'deny' },
    });
    assertRedirectError(denied, CONFIDENTIAL_REDIRECT, 'access_denied', state);
    // The interaction is finished: the page cannot be used again.
    assertErrorPage(await ua.request(consent.url), 400);
  });

  it('RFC 9700 §4.12: every POST to the interaction answers 303 (failed login, login, consent allow, consent deny)', async () => {
    const { ua, page } = await loginPage(validParams({ prompt: 'consent' }));
    const action = formAction(page);
    const csrf = hiddenInput(page.body, 'csrf_token')!;
    const failed = await ua.request(action, { form: { csrf_token: csrf, username: ALICE.username, password: 'nope' } });
    assert.equal(failed.status, 303);
    const signedIn = await ua.request(action, {
      form: { csrf_token: csrf, username: ALICE.username, password: ALICE.password },
    });
    assert.equal(signedIn.status, 303);
    const consent = await ua.navigate(signedIn.location!);
    assert.ok(isConsentPage(consent));
    const allowed = await ua.request(formAction(consent), {
      form: { csrf_token: hiddenInput(consent.body, 'csrf_token')!, decision: 'allow' },
    });
    assert.equal(allowed.status, 303);
    assert.ok(new URL(allowed.location!).searchParams.get('code'));

    const second = await loginPage(validParams({ prompt: 'consent' }));
    const consent2 = await second.ua.submit(second.page, { username: ALICE.username, password: ALICE.password });
    assert.ok(isConsentPage(consent2));
    const deny = await second.ua.request(formAction(consent2), {
      form: { csrf_token: hiddenInput(consent2.body, 'csrf_token')!, decision: 'deny' },
    });
    assert.equal(deny.status, 303);
  });

  it('OAuth 2.0 Form Post Response Mode: a POST to the interaction in form_post mode answers with the form page (200)', async () => {
    const { ua, page } = await loginPage(validParams({ response_mode: 'form_post', prompt: 'consent' }));
    const consent = await ua.submit(page, { username: ALICE.username, password: ALICE.password });
    assert.ok(isConsentPage(consent));
    const result = await ua.request(formAction(consent), {
      form: { csrf_token: hiddenInput(consent.body, 'csrf_token')!, decision: 'deny' },
    });
    assertFormPostError(result, 'access_denied');
  });

  it('RFC 6749 §10.14 (XSS): a hostile client_name is HTML-escaped on the login and consent pages', async () => {
    const { ua, page } = await loginPage(authorizeParams(HOSTILE_CLIENT, { scope: 'openid', state: undefined }));
    assert.ok(!page.body.includes('<script>alert'), 'the name is not markup on the login page');
    assert.ok(page.body.includes(escapeHtml(HOSTILE_NAME)));
    const consent = await ua.submit(page, { username: ALICE.username, password: ALICE.password });
    assert.ok(isConsentPage(consent));
    assert.ok(!consent.body.includes('<script>alert'), 'the name is not markup on the consent page');
    assert.ok(consent.body.includes(escapeHtml(HOSTILE_NAME)));
  });

  it('RFC 6749 §10.14 (XSS): a hostile login_hint is HTML-escaped into the username field', async () => {
    const hint = '"><script>alert(1)</script><input value="';
    const { page } = await loginPage(validParams({ login_hint: hint }));
    assert.ok(!page.body.includes('<script>alert(1)'));
    assert.equal(hiddenInput(page.body, 'username'), hint);
  });

  it('RFC 6749 §10.14 (XSS): a hostile value reflected on an error page is HTML-escaped', async () => {
    const clientId = '<img src=x onerror=alert(1)>';
    const page = await getAuthorize(validParams({ client_id: clientId }));
    assertErrorPage(page, 400, clientId);
    assert.ok(!page.body.includes('<img src=x'));
  });
});
