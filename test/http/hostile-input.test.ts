/**
 * Hostile input on every endpoint: methods, content types, size caps, duplicate and empty
 * parameters, control characters and prototype pollution. Each test names the spec section.
 *
 * Run: node --import tsx --test test/http/hostile-input.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PARAM_LIMITS } from '../../src/core/params.js';
import { FORM_BODY_LIMIT } from '../../src/http/app.js';
import type { RunningGatehouse } from '../../src/server.js';
import { storedTokenKey } from '../../src/core/secrets.js';
import { ALICE, CONFIDENTIAL_CLIENT, useTestServer } from '../helpers/server.js';
import { UserAgent, hiddenInput, isConsentPage, type PageResponse } from '../helpers/user-agent.js';
import {
  assertErrorDescription,
  assertNoStore,
  authorizeParams,
  authorizeUrl,
  basicAuthorization,
  openLoginPage,
  postToken,
} from '../helpers/code-flow.js';
import { readAnswer, type Answer } from '../helpers/http-answer.js';

const FORM = 'application/x-www-form-urlencoded';
const BASIC = basicAuthorization(CONFIDENTIAL_CLIENT.client_id, CONFIDENTIAL_CLIENT.client_secret!);
const REDIRECT = CONFIDENTIAL_CLIENT.redirect_uris[0]!;

let gatehouse: RunningGatehouse;
useTestServer({}, (started) => (gatehouse = started));

async function send(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return readAnswer(
    await fetch(new URL(path, gatehouse.url), {
      method,
      redirect: 'manual',
      headers: init.headers ?? {},
      body: init.body,
    }),
  );
}

/**
 * A form-encoded POST of `body` to `path` (with the confidential client's Basic credentials
 * unless `basic` is false) is 400 invalid_request, its description matching `description`.
 */
async function assertFormRefused(
  path: string,
  body: string,
  description: RegExp,
  options: { basic?: boolean } = {},
): Promise<void> {
  const headers = { 'content-type': FORM, ...(options.basic === false ? {} : { authorization: BASIC }) };
  assertJsonError(await send('POST', path, { headers, body }), 400, 'invalid_request', description);
}

/** JSON endpoints: the RFC 6749 §5.2 error shape, no-store, a printable description. */
function assertJsonError(answer: Answer, status: number, error: string, describe?: RegExp): void {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(answer.json?.['error'], error, answer.text);
  assertNoStore(answer);
  assertErrorDescription(answer.json?.['error_description']);
  if (describe) assert.match(String(answer.json?.['error_description']), describe);
}

/** HTML endpoints: the error page with the page headers, never a redirect. */
function assertErrorPage(answer: Answer, status: number, text?: string): void {
  assert.equal(answer.status, status, answer.text.slice(0, 300));
  assert.equal(answer.headers.get('location'), null, 'an error page, not a redirect');
  assert.match(answer.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/);
  assert.match(answer.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(!/at \S+ \(|node:internal|Error: /.test(answer.text), 'no stack trace');
  if (text !== undefined) assert.ok(answer.text.includes(text), `the page should say ${JSON.stringify(text)}`);
}

function validAuthorizeParams(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return authorizeParams(CONFIDENTIAL_CLIENT, overrides);
}

function formAction(page: PageResponse): string {
  const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(action, 'the page has a form');
  return new URL(action, page.url).pathname;
}

/** A live interaction in a new browser: its login page (and, after logging in, the consent page), with the form's CSRF token and action. */
async function loginForm(): Promise<{ ua: UserAgent; page: PageResponse; csrf: string; action: string }> {
  const ua = new UserAgent(gatehouse.url);
  const page = await openLoginPage(gatehouse, ua, validAuthorizeParams());
  return { ua, page, csrf: hiddenInput(page.body, 'csrf_token')!, action: formAction(page) };
}

/** POSTs a raw form body with the browser's cookies. */
async function postRaw(ua: UserAgent, path: string, body: string, contentType: string | null = FORM): Promise<Answer> {
  const cookies = ['gh_browser', 'gh_session'].flatMap((name) =>
    ua.cookie(name) ? [`${name}=${ua.cookie(name)}`] : [],
  );
  return send('POST', path, {
    headers: { ...(contentType ? { 'content-type': contentType } : {}), cookie: cookies.join('; ') },
    body,
  });
}

/** Every endpoint with its documented methods, and whether it answers errors in JSON or as a page. */
const ENDPOINTS: Array<{ path: string; allow: string; kind: 'json' | 'html' }> = [
  { allow: 'GET, HEAD, POST', kind: 'html' as const, paths: ['/authorize', '/logout'] },
  { allow: 'POST', kind: 'json' as const, paths: ['/token', '/revoke', '/introspect'] },
  { allow: 'GET, HEAD, POST', kind: 'json' as const, paths: ['/userinfo'] },
  {
    allow: 'POST',
    kind: 'html' as const,
    paths: [
      '/logout/confirm',
      '/interaction/AAAAAAAAAAAAAAAAAAAAAA/login',
      '/interaction/AAAAAAAAAAAAAAAAAAAAAA/consent',
    ],
  },
  { allow: 'GET, HEAD', kind: 'html' as const, paths: ['/interaction/AAAAAAAAAAAAAAAAAAAAAA'] },
  {
    allow: 'GET, HEAD',
    kind: 'json' as const,
    paths: ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/jwks'],
  },
].flatMap(({ paths, ...answers }) => paths.map((path) => ({ path, ...answers })));

describe('RFC 9110 §15.5.6: methods', () => {
  for (const endpoint of ENDPOINTS) {
    it(`RFC 9110 §15.5.6: ${endpoint.path} answers every other method with 405 and Allow: ${endpoint.allow}`, async () => {
      const allowed = endpoint.allow.split(', ');
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((m) => !allowed.includes(m))) {
        const answer = await send(method, endpoint.path);
        assert.equal(answer.headers.get('allow'), endpoint.allow, `${method} ${endpoint.path}`);
        if (endpoint.kind === 'json') assertJsonError(answer, 405, 'invalid_request', /accepts only/);
        else assertErrorPage(answer, 405, 'Method not allowed');
      }
    });
  }

  it('RFC 9110 §9.3.2: HEAD is answered like GET without a body on GET endpoints, 405 on POST-only ones', async () => {
    const head = await send('HEAD', '/jwks');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const token = await send('HEAD', '/token');
    assert.equal(token.status, 405);
    assert.equal(token.headers.get('allow'), 'POST');
  });

  it('RFC 9110 §15.5.5: an unknown path is 404 JSON, not 405', async () => {
    assertJsonError(await send('GET', '/no-such-endpoint'), 404, 'not_found');
    assertJsonError(await send('PUT', '/interaction/AAAAAAAAAAAAAAAAAAAAAA/elsewhere'), 404, 'not_found');
  });
});

/** The POST endpoints that take a form body, and how they answer a refused one. */
const FORM_ENDPOINTS: Array<{ path: string; kind: 'json' | 'html'; headers?: Record<string, string> }> = [
  { path: '/token', kind: 'json', headers: { authorization: BASIC } },
  { path: '/revoke', kind: 'json', headers: { authorization: BASIC } },
  { path: '/introspect', kind: 'json', headers: { authorization: BASIC } },
  { path: '/userinfo', kind: 'json' },
  { path: '/authorize', kind: 'html' },
  { path: '/logout', kind: 'html' },
  { path: '/logout/confirm', kind: 'html' },
  { path: '/interaction/AAAAAAAAAAAAAAAAAAAAAA/login', kind: 'html' },
  { path: '/interaction/AAAAAAAAAAAAAAAAAAAAAA/consent', kind: 'html' },
];

function assertRefused(endpoint: { kind: 'json' | 'html' }, answer: Answer, describe?: RegExp): void {
  if (endpoint.kind === 'json') assertJsonError(answer, 400, 'invalid_request', describe);
  else {
    assertErrorPage(answer, 400);
    if (describe) assert.match(answer.text, describe);
  }
}

describe('RFC 6749 §3.2 and Appendix B: content types', () => {
  const WRONG_TYPES: Array<[string | null, string]> = [
    ['application/json', '{"grant_type":"authorization_code","token":"x","__proto__":{"polluted":true}}'],
    ['text/plain', 'grant_type=authorization_code&token=x'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="token"\r\n\r\nx\r\n--x--'],
    ['application/x-www-form-urlencoded-evil', 'token=x'],
    ['application/x-www-form-urlencoded; charset=iso-8859-1', 'token=caf%E9'],
    [null, 'token=x'],
  ];
  for (const endpoint of FORM_ENDPOINTS) {
    it(`RFC 6749 Appendix B: POST ${endpoint.path} takes only UTF-8 application/x-www-form-urlencoded; any other body is invalid_request 400`, async () => {
      for (const [type, body] of WRONG_TYPES) {
        const headers: Record<string, string> = { ...endpoint.headers };
        if (type !== null) headers['content-type'] = type;
        const answer = await send('POST', endpoint.path, { headers, body });
        assertRefused(endpoint, answer);
        if (endpoint.kind === 'json') {
          assert.match(
            String(answer.json?.['error_description']),
            type?.includes('charset') ? /UTF-8/ : /content type must be application\/x-www-form-urlencoded/,
            `${type}`,
          );
        }
      }
    });
  }

  it('RFC 6749 Appendix B: charset=UTF-8 (any case) is accepted', async () => {
    const answer = await send('POST', '/revoke', {
      headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: 'token=unknown',
    });
    assert.equal(answer.status, 200, answer.text);
  });

  it('OIDC Discovery §4 / RFC 7517 §5: discovery and the JWKS answer JSON', async () => {
    for (const path of ['/.well-known/openid-configuration', '/jwks']) {
      const answer = await send('GET', path);
      assert.equal(answer.status, 200);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/(jwk-set\+)?json/);
      assert.ok(answer.json);
    }
  });
});

describe('size caps: over the cap is invalid_request (or 431 for a URL), never a crash', () => {
  for (const endpoint of FORM_ENDPOINTS) {
    it(`POST ${endpoint.path}: a body over ${FORM_BODY_LIMIT} bytes is refused`, async () => {
      const answer = await send('POST', endpoint.path, {
        headers: { ...endpoint.headers, 'content-type': FORM },
        body: `token=${'a'.repeat(FORM_BODY_LIMIT + 1)}`,
      });
      assertRefused(endpoint, answer, /too large/);
    });
  }

  it(`RFC 6749 §3.2: a parameter value over ${PARAM_LIMITS.maxValueLength} characters is invalid_request`, async () => {
    const answer = await postToken(
      gatehouse,
      { grant_type: 'refresh_token', refresh_token: 'r'.repeat(PARAM_LIMITS.maxValueLength + 1) },
      { basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! } },
    );
    assertJsonError(
      { ...answer, json: answer.body },
      400,
      'invalid_request',
      /refresh_token is longer than 8192 characters/,
    );
  });

  it(`RFC 6749 §3.2: more than ${PARAM_LIMITS.maxParameters} parameters (empty ones included) are invalid_request`, async () => {
    const body = `grant_type=client_credentials&${Array.from({ length: PARAM_LIMITS.maxParameters }, (_, i) => `p${i}=`).join('&')}`;
    await assertFormRefused('/token', body, /more than 100 parameters/);
  });

  it('RFC 6749 §3.1: a parameter name over the cap on the authorization endpoint is an error page', async () => {
    const answer = await send('GET', `/authorize?${'n'.repeat(PARAM_LIMITS.maxNameLength + 1)}=1&client_id=web-app`);
    assertErrorPage(answer, 400, 'longer than 128 characters');
  });

  it('RFC 9110 §15.5.15: a URL longer than the header limit is refused with 431, and the server keeps answering', async () => {
    const answer = await send('GET', `/authorize?client_id=${'x'.repeat(20_000)}`);
    assert.equal(answer.status, 431);
    assert.equal((await send('GET', '/jwks')).status, 200);
  });
});

describe('RFC 6749 §3.1, §3.2: duplicate parameters are refused', () => {
  it('RFC 6749 §3.2: token, revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) refuse a repeated parameter', async () => {
    await assertFormRefused(
      '/token',
      'grant_type=refresh_token&grant_type=refresh_token&refresh_token=x',
      /grant_type is included more than once/,
    );
    await assertFormRefused('/revoke', 'token=a&token=b', /token is included more than once/);
    await assertFormRefused('/introspect', 'token=a&token=b', /token is included more than once/);
  });

  it('RFC 6750 §2.2: UserInfo refuses access_token twice in the body', async () => {
    await assertFormRefused('/userinfo', 'access_token=a&access_token=b', /more than once/, { basic: false });
  });

  it('RFC 6749 §3.1: the authorization endpoint refuses a repeated client_id (error page) and a repeated scope (error redirect)', async () => {
    assertErrorPage(
      await send(
        'GET',
        `${new URL(authorizeUrl(gatehouse, validAuthorizeParams())).search.replace(/^/, '/authorize')}&client_id=web-app`,
      ),
      400,
    );
    const answer = await send(
      'GET',
      `${new URL(authorizeUrl(gatehouse, validAuthorizeParams())).search.replace(/^/, '/authorize')}&scope=email`,
    );
    assert.equal(answer.status, 303);
    const location = new URL(answer.headers.get('location')!);
    assert.equal(location.origin + location.pathname, REDIRECT);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
  });

  it('OIDC RP-Initiated Logout §2: the end_session_endpoint refuses a repeated parameter', async () => {
    assertErrorPage(await send('GET', '/logout?state=a&state=b'), 400, 'state was sent more than once');
  });

  it('the login form refuses a repeated field (and signs nobody in), as do the consent and logout confirmation forms', async () => {
    const { ua, page, csrf, action: login } = await loginForm();
    const body = new URLSearchParams([
      ['csrf_token', csrf],
      ['username', 'mallory'],
      ['username', ALICE.username],
      ['password', ALICE.password],
    ]).toString();
    assertErrorPage(await postRaw(ua, login, body), 400, 'username is included more than once');
    assert.equal(ua.cookie('gh_session'), undefined, 'no session was created');

    const consent = await ua.submit(await ua.navigate(page.url), {
      username: ALICE.username,
      password: ALICE.password,
    });
    assert.ok(isConsentPage(consent), consent.body.slice(0, 300));
    const consentCsrf = hiddenInput(consent.body, 'csrf_token')!;
    const consentBody = new URLSearchParams([
      ['csrf_token', consentCsrf],
      ['decision', 'deny'],
      ['decision', 'allow'],
    ]).toString();
    assertErrorPage(await postRaw(ua, formAction(consent), consentBody), 400, 'decision is included more than once');

    assertErrorPage(
      await postRaw(ua, '/logout/confirm', 'csrf_token=a&csrf_token=b'),
      400,
      'csrf_token is included more than once',
    );
  });
});

describe('RFC 6749 §3.1, §3.2: empty parameters are treated as absent', () => {
  it('RFC 6749 §3.2: grant_type= and code= are reported as missing', async () => {
    await assertFormRefused('/token', 'grant_type=&code=x', /grant_type is required/);
    await assertFormRefused('/token', 'grant_type=authorization_code&code=&redirect_uri=', /code is required/);
    await assertFormRefused('/revoke', 'token=&token_type_hint=', /token is required/);
  });

  it('RFC 6749 §3.1: an empty state, nonce or prompt on the authorization endpoint is as if omitted; an empty value does not count as a repeat', async () => {
    const url = `${authorizeUrl(gatehouse, validAuthorizeParams({ state: undefined }))}&state=&nonce=&prompt=&client_id=`;
    const answer = await send('GET', new URL(url).pathname + new URL(url).search);
    assert.equal(answer.status, 303, answer.text.slice(0, 300));
    assert.match(answer.headers.get('location') ?? '', /^\/interaction\//);
  });
});

describe('control characters are refused where a value could be reflected or logged', () => {
  it('RFC 6749 Appendix A (VSCHAR): state with a newline gets an error page before anything is reflected', async () => {
    const answer = await send(
      'GET',
      new URL(authorizeUrl(gatehouse, validAuthorizeParams({ state: 'a\r\nSet-Cookie: x=y' }))).href.replace(
        gatehouse.url,
        '',
      ),
    );
    assertErrorPage(answer, 400, 'state contains control characters');
    assert.equal(answer.headers.get('set-cookie'), null);
  });

  it('RFC 6749 Appendix A: a NUL in a token request parameter is invalid_request', async () => {
    await assertFormRefused('/token', 'grant_type=authorization_code&code=ab%00cd', /code contains control characters/);
    await assertFormRefused('/introspect', 'token=a%1Bb', /token contains control characters/);
    await assertFormRefused('/revoke', 'token=a%E2%80%A8b', /token contains control characters/);
    assertJsonError(await send('GET', '/userinfo?x=%0A'), 400, 'invalid_request', /x contains control characters/);
  });

  it('RFC 6750 §3: UserInfo answers a control character in a parameter (and a malformed body) with a Bearer invalid_request challenge', async () => {
    for (const answer of [
      await send('GET', '/userinfo?x=%0A'),
      await send('POST', '/userinfo', { headers: { 'content-type': FORM }, body: 'access_token=a%00b' }),
      await send('POST', '/userinfo', { headers: { 'content-type': 'application/json' }, body: '{}' }),
    ]) {
      assert.equal(answer.status, 400);
      assert.equal(JSON.parse(answer.text).error, 'invalid_request');
      assert.match(
        answer.headers.get('www-authenticate') ?? '',
        /^Bearer realm="gatehouse", error="invalid_request", error_description="[^"]+"$/,
      );
    }
  });

  it('a control character in a parameter name is reported with the character replaced', async () => {
    await assertFormRefused(
      '/token',
      'gr%0Aant=1&grant_type=client_credentials',
      /parameter gr\?ant contains control characters/,
    );
  });

  it('OIDC RP-Initiated Logout §2: a line separator in state gets an error page', async () => {
    assertErrorPage(await send('GET', '/logout?state=a%E2%80%A8b'), 400, 'state contains control characters');
  });

  it('the login form refuses a control character in the username (shown again on the page) but takes any password', async () => {
    const { ua, csrf, action } = await loginForm();
    const badName = new URLSearchParams({ csrf_token: csrf, username: 'alice\n<b>', password: 'x' }).toString();
    assertErrorPage(await postRaw(ua, action, badName), 400, 'username contains control characters');
    // A password is never shown or logged: a tab in it is just a wrong password here.
    const tabPassword = new URLSearchParams({
      csrf_token: csrf,
      username: ALICE.username,
      password: 'pass\tword',
    }).toString();
    const answer = await postRaw(ua, action, tabPassword);
    assert.equal(answer.status, 303, answer.text.slice(0, 300));
    assert.match(answer.headers.get('location') ?? '', /\?failed=1$/);
  });
});

describe('prototype pollution: parameter names are never object keys', () => {
  const HOSTILE_NAMES = [
    '__proto__',
    '__proto__[polluted]',
    'constructor',
    'constructor[prototype][polluted]',
    'prototype',
    'hasOwnProperty',
    'toString',
  ];
  const query = HOSTILE_NAMES.map((name) => `${encodeURIComponent(name)}=yes`).join('&');

  it('requests full of __proto__, constructor and prototype names get ordinary answers on every endpoint, and no prototype changes', async () => {
    for (const endpoint of ENDPOINTS) {
      const get = await send('GET', `${endpoint.path}?${query}`);
      assert.ok(get.status < 500, `GET ${endpoint.path}: ${get.status}`);
    }
    for (const endpoint of FORM_ENDPOINTS) {
      const post = await send('POST', `${endpoint.path}?${query}`, {
        headers: { ...endpoint.headers, 'content-type': FORM },
        body: query,
      });
      assert.ok(post.status < 500, `POST ${endpoint.path}: ${post.status} ${post.text.slice(0, 200)}`);
    }
    const probe: Record<string, unknown> = {};
    assert.equal(probe['polluted'], undefined);
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
    assert.equal(typeof probe.hasOwnProperty, 'function');
    assert.equal(typeof probe.toString, 'function');
  });

  it('RFC 6749 §3.2: grant_type[] and client_id[] are unknown names, not array syntax for grant_type and client_id', async () => {
    await assertFormRefused('/token', 'grant_type[]=client_credentials&client_id[]=web-app', /grant_type is required/, {
      basic: false,
    });
  });

  it('RFC 6749 §3.3: scope[]=email does not request the email scope', async () => {
    const ua = new UserAgent(gatehouse.url);
    const url = `${authorizeUrl(gatehouse, validAuthorizeParams({ scope: 'openid' }))}&${encodeURIComponent('scope[]')}=email`;
    const consent = await ua.authorize(url, ALICE, 'allow');
    const code = new URL(consent.location!).searchParams.get('code')!;
    const stored = await gatehouse.store.codes.consume(storedTokenKey(code), Date.now());
    assert.equal(stored.status, 'consumed');
    if (stored.status === 'consumed') assert.deepEqual(stored.code.scope, ['openid']);
  });
});
