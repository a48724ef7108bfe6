/**
 * The token endpoint with the authorization code grant, negative and edge cases, by spec
 * section: RFC 6749 §2.3, §3.2, §4.1.3, §5.1, §5.2 and Appendix B, RFC 7636 §4.5-4.6,
 * RFC 9700 §2.1.1 / §4.8.2, RFC 9110 §15.5.2; and, on SQLite and PostgreSQL, the order of
 * RFC 6749 §4.1.3 (client, redirect_uri and verifier checked before the code is consumed or its
 * grant revoked) with OAuth 2.1 §7.5.3 (no revocation on a replay with invalid parameters).
 *
 * Run: node --import tsx --test test/token/authorization-code.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { DEFAULT_SETTINGS, type ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import type { TimedEvent } from '../../src/core/events.js';
import { hashClientSecret, storedTokenKey } from '../../src/core/secrets.js';
import { postgresSkipMessage } from '../helpers/postgres.js';
import {
  CONFIDENTIAL_CLIENT,
  MACHINE_CLIENT,
  NO_PKCE_CLIENT,
  PUBLIC_CLIENT,
  STORE_TARGETS,
  startTestServer,
  useTestServer,
} from '../helpers/server.js';
import {
  assertErrorDescription,
  assertNoStore,
  assertTokenError,
  basicAuthorization,
  codeRequest,
  newVerifier,
  obtainCode,
  postForm,
  postToken,
  type TokenResponse,
} from '../helpers/code-flow.js';

/** A confidential client registered for client_secret_post. */
const POST_CLIENT: ClientFixture = {
  client_id: 'post-app',
  client_secret: 'post-app-secret-that-is-long-enough',
  redirect_uris: ['http://127.0.0.1:9000/post'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  scope: 'openid profile',
  require_pkce: true,
};

/**
 * RFC 6749 Appendix B: an id and secret with characters that form-urlencoding changes
 * (`:` must be encoded in Basic, `+` and `%` are special, space becomes `+`).
 */
const ENCODED_CLIENT: ClientFixture = {
  client_id: 'odd:client id+%/?&=',
  client_secret: 'se:cr et+with%25percent&amp=;/?#',
  redirect_uris: ['http://127.0.0.1:9000/odd'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'openid profile',
  require_pkce: true,
};

const CONFIDENTIAL_BASIC = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };

let gatehouse: RunningGatehouse;
useTestServer(
  { clients: [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, NO_PKCE_CLIENT, POST_CLIENT, MACHINE_CLIENT, ENCODED_CLIENT] },
  (started) => (gatehouse = started),
);

async function confidentialCode(options: Parameters<typeof obtainCode>[2] = {}) {
  return obtainCode(gatehouse, CONFIDENTIAL_CLIENT, options);
}

/**
 * RFC 6749 §4.1.3: redeems a fresh code of the confidential client (client_secret_basic) with
 * `changes` to the token request; the answer is the 400 `error` of RFC 6749 §5.2, and its
 * error_description matches `description` when given.
 */
/** The confidential client's code token request (RFC 6749 §4.1.3) for `code`, which it did not obtain. */
function codeRequestFor(code: string | undefined): Record<string, string | undefined> {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0],
    code_verifier: newVerifier(),
  };
}

/** A token request of the confidential client (Basic) with `form` is 400 `error` (RFC 6749 §5.2). */
async function assertConfidentialRefused(form: Record<string, string | undefined>, error: string): Promise<void> {
  assertTokenError(await postToken(gatehouse, form, { basic: CONFIDENTIAL_BASIC }), 400, error);
}

async function assertRedemptionRefused(
  changes: Record<string, string | undefined>,
  error: string,
  description?: RegExp,
): Promise<void> {
  const obtained = await confidentialCode();
  const response = await postToken(gatehouse, codeRequest(obtained, changes), { basic: CONFIDENTIAL_BASIC });
  assertTokenError(response, 400, error);
  if (description) assert.match(response.body['error_description'] as string, description);
}

/**
 * A copy of the registered client `template` put in the store directly as `clientId` with
 * `secret` (registration would refuse such values, RFC 6749 Appendix A.2); returns its fixture.
 */
async function storedCopy(template: ClientFixture, clientId: string, secret: string): Promise<ClientFixture> {
  const stored = await gatehouse.store.clients.get(template.client_id);
  assert.ok(stored);
  await gatehouse.store.clients.upsert({
    ...stored,
    clientId,
    clientSecretHash: await hashClientSecret(secret, false),
  });
  return { ...template, client_id: clientId, client_secret: secret };
}

/** RFC 9110 §15.5.2 / RFC 6749 §5.2: a 401 invalid_client with a Basic challenge. */
function assertBasicChallenge(response: TokenResponse): void {
  assertTokenError(response, 401, 'invalid_client');
  assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="[^"]+"/);
}

describe('RFC 6749 §5.1: successful token response', () => {
  it('RFC 6749 §5.1: access_token, token_type Bearer, expires_in, scope and (OIDC) id_token, with no-store', async () => {
    const obtained = await confidentialCode({ scope: 'openid profile', nonce: 'n-0S6_WzA2Mj' });
    const response = await postToken(gatehouse, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC });
    assert.equal(response.status, 200, response.text);
    assertNoStore(response);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(typeof response.body['access_token'], 'string');
    assert.equal(response.body['token_type'], 'Bearer');
    assert.equal(response.body['expires_in'], 3600);
    assert.equal(response.body['scope'], 'openid profile');
    assert.equal(typeof response.body['id_token'], 'string');
    const idToken = decodeJwt(response.body['id_token'] as string);
    assert.equal(idToken.aud, CONFIDENTIAL_CLIENT.client_id);
    assert.equal(idToken['nonce'], 'n-0S6_WzA2Mj');
    assert.equal(response.body['error'], undefined);
  });

  it('OpenID Connect Core §3.1.3.3: no id_token without the openid scope', async () => {
    const obtained = await confidentialCode({ scope: 'profile' });
    const response = await postToken(gatehouse, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC });
    assert.equal(response.status, 200, response.text);
    assertNoStore(response);
    assert.equal(response.body['scope'], 'profile');
    assert.equal(response.body['id_token'], undefined);
  });

  it('RFC 6749 §4.1.3: redirect_uri may be omitted at the token endpoint when it was omitted in the authorization request', async () => {
    const obtained = await confidentialCode({ sendRedirectUri: false });
    const response = await postToken(gatehouse, codeRequest(obtained, { redirect_uri: undefined }), {
      basic: CONFIDENTIAL_BASIC,
    });
    assert.equal(response.status, 200, response.text);
  });

  it('RFC 6749 §2.3.1: a client registered for client_secret_post authenticates in the body', async () => {
    const obtained = await obtainCode(gatehouse, POST_CLIENT);
    const response = await postToken(
      gatehouse,
      codeRequest(obtained, { client_id: POST_CLIENT.client_id, client_secret: POST_CLIENT.client_secret }),
    );
    assert.equal(response.status, 200, response.text);
  });

  it('RFC 6749 §2.1: a public client authenticates with client_id only', async () => {
    const obtained = await obtainCode(gatehouse, PUBLIC_CLIENT);
    const response = await postToken(gatehouse, codeRequest(obtained, { client_id: PUBLIC_CLIENT.client_id }));
    assert.equal(response.status, 200, response.text);
    assertNoStore(response);
  });
});

describe('RFC 6749 §4.1.3 / §5.2: invalid authorization code requests', () => {
  it('RFC 6749 §4.1.3: a redirect_uri differing from the authorization request is invalid_grant', async () => {
    const obtained = await confidentialCode();
    for (const redirectUri of [
      `${obtained.redirectUri}/`,
      'http://127.0.0.1:9000/Callback',
      `${obtained.redirectUri}?x=1`,
    ]) {
      const again = await confidentialCode();
      const response = await postToken(gatehouse, codeRequest(again, { redirect_uri: redirectUri }), {
        basic: CONFIDENTIAL_BASIC,
      });
      assertTokenError(response, 400, 'invalid_grant');
    }
  });

  it('RFC 6749 §4.1.3: a missing redirect_uri is invalid_request when the authorization request included it', async () => {
    await assertRedemptionRefused({ redirect_uri: undefined }, 'invalid_request', /redirect_uri/);
  });

  it('RFC 6749 §4.1.3: a code issued to another client is invalid_grant', async () => {
    const obtained = await obtainCode(gatehouse, PUBLIC_CLIENT);
    await assertConfidentialRefused(codeRequest(obtained, { redirect_uri: obtained.redirectUri }), 'invalid_grant');
  });

  it('RFC 6749 §4.1.2 / RFC 9700 §4.2.1: an expired code is invalid_grant', async () => {
    const shortLived = await startTestServer({ settings: { codeTtlSeconds: 1 } });
    try {
      const obtained = await obtainCode(shortLived, CONFIDENTIAL_CLIENT);
      await sleep(1100);
      const response = await postToken(shortLived, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC });
      assertTokenError(response, 400, 'invalid_grant');
      assert.match(response.body['error_description'] as string, /expired/);
    } finally {
      await shortLived.close();
    }
  });

  it('RFC 6749 §4.1.2: a replayed code is invalid_grant and the access token from the first redemption is revoked', async () => {
    const obtained = await confidentialCode();
    const first = await postToken(gatehouse, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC });
    assert.equal(first.status, 200, first.text);
    const jti = decodeJwt(first.body['access_token'] as string).jti!;
    const before = await gatehouse.store.accessTokens.get(jti);
    assert.ok(before);
    assert.equal(before.revokedAt, null);

    const replay = await postToken(gatehouse, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC });
    assertTokenError(replay, 400, 'invalid_grant');
    const afterReplay = await gatehouse.store.accessTokens.get(jti);
    assert.notEqual(afterReplay?.revokedAt ?? null, null, 'the token issued from the code is revoked');
    const grant = await gatehouse.store.grants.get(before.grantId!);
    assert.notEqual(grant?.revokedAt ?? null, null, 'the grant is revoked');

    // And a third attempt is refused the same way.
    assertTokenError(
      await postToken(gatehouse, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC }),
      400,
      'invalid_grant',
    );
  });

  it('RFC 7636 §4.6: a wrong code_verifier is invalid_grant naming code_verifier', async () => {
    await assertRedemptionRefused({ code_verifier: newVerifier() }, 'invalid_grant', /code_verifier/);
  });

  it('RFC 9700 §4.8.2: a code_verifier for a code issued without code_challenge is invalid_grant (PKCE downgrade)', async () => {
    const obtained = await obtainCode(gatehouse, NO_PKCE_CLIENT, { pkce: false });
    const response = await postToken(gatehouse, codeRequest(obtained, { code_verifier: newVerifier() }), {
      basic: { id: NO_PKCE_CLIENT.client_id, secret: NO_PKCE_CLIENT.client_secret! },
    });
    assertTokenError(response, 400, 'invalid_grant');
    assert.match(response.body['error_description'] as string, /code_verifier/);
  });

  it('RFC 7636 §4.6: a missing code_verifier when a code_challenge was sent is invalid_grant', async () => {
    await assertRedemptionRefused({ code_verifier: undefined }, 'invalid_grant', /code_verifier/);
  });

  it('RFC 7636 §4.1: a code_verifier shorter than 43 characters (or malformed) is invalid_grant', async () => {
    for (const verifier of ['a'.repeat(42), 'x', 'a'.repeat(129), `${'a'.repeat(42)} `, `${'a'.repeat(42)}+`]) {
      const obtained = await obtainCode(gatehouse, PUBLIC_CLIENT);
      const response = await postToken(
        gatehouse,
        codeRequest(obtained, { client_id: PUBLIC_CLIENT.client_id, code_verifier: verifier }),
      );
      assertTokenError(response, 400, 'invalid_grant');
      assert.match(response.body['error_description'] as string, /code_verifier/);
    }
  });

  it('RFC 6749 §5.2: an unknown code is invalid_grant', async () => {
    await assertConfidentialRefused(codeRequestFor('not-a-code'), 'invalid_grant');
  });

  it('RFC 6749 §4.1.3: a missing code is invalid_request', async () => {
    await assertConfidentialRefused(codeRequestFor(undefined), 'invalid_request');
  });

  it('RFC 6749 §4.1.3: a missing grant_type is invalid_request', async () => {
    await assertRedemptionRefused({ grant_type: undefined }, 'invalid_request');
  });

  it('RFC 6749 §5.2 / RFC 9700 §2.4: grant_type=password, implicit or unknown is unsupported_grant_type', async () => {
    for (const grantType of ['password', 'implicit', 'urn:example:unknown', 'AUTHORIZATION_CODE']) {
      await assertConfidentialRefused(
        { grant_type: grantType, username: 'alice', password: 'x', code: 'x' },
        'unsupported_grant_type',
      );
    }
  });

  it('RFC 6749 §5.2: a client not registered for the grant is unauthorized_client', async () => {
    const response = await postToken(
      gatehouse,
      { grant_type: 'authorization_code', code: 'whatever', redirect_uri: 'http://127.0.0.1:9000/callback' },
      {
        basic: { id: MACHINE_CLIENT.client_id, secret: MACHINE_CLIENT.client_secret! },
      },
    );
    assertTokenError(response, 400, 'unauthorized_client');
    const refresh = await postToken(
      gatehouse,
      { grant_type: 'refresh_token', refresh_token: 'whatever' },
      {
        basic: { id: NO_PKCE_CLIENT.client_id, secret: NO_PKCE_CLIENT.client_secret! },
      },
    );
    assertTokenError(refresh, 400, 'unauthorized_client');
  });

  it('RFC 6749 §3.2: a parameter included more than once is invalid_request', async () => {
    const obtained = await confidentialCode();
    const body = new URLSearchParams(codeRequest(obtained) as Record<string, string>);
    for (const [name, value] of [
      ['code', obtained.code],
      ['code', 'other'],
      ['grant_type', 'authorization_code'],
      ['code_verifier', obtained.verifier!],
      ['redirect_uri', obtained.redirectUri],
    ] as const) {
      const duplicated = new URLSearchParams(body);
      duplicated.append(name, value);
      const response = await postToken(gatehouse, duplicated.toString(), { basic: CONFIDENTIAL_BASIC });
      assertTokenError(response, 400, 'invalid_request');
      assert.match(response.body['error_description'] as string, new RegExp(name));
    }
    // The duplicates did not consume the code.
    const response = await postToken(gatehouse, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC });
    assert.equal(response.status, 200, response.text);
  });

  it('RFC 6749 §3.2: a JSON body, a body without content type, or an empty body is invalid_request in JSON', async () => {
    const obtained = await confidentialCode();
    const json = await postToken(gatehouse, JSON.stringify(codeRequest(obtained)), {
      basic: CONFIDENTIAL_BASIC,
      contentType: 'application/json',
    });
    assertTokenError(json, 400, 'invalid_request');
    const none = await postToken(
      gatehouse,
      new URLSearchParams(codeRequest(obtained) as Record<string, string>).toString(),
      { basic: CONFIDENTIAL_BASIC, contentType: null },
    );
    assertTokenError(none, 400, 'invalid_request');
    const text = await postToken(
      gatehouse,
      new URLSearchParams(codeRequest(obtained) as Record<string, string>).toString(),
      { basic: CONFIDENTIAL_BASIC, contentType: 'text/plain' },
    );
    assertTokenError(text, 400, 'invalid_request');
    const empty = await postToken(gatehouse, '', { basic: CONFIDENTIAL_BASIC, contentType: null });
    assertTokenError(empty, 400, 'invalid_request');
    // None of them consumed the code.
    assert.equal((await postToken(gatehouse, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC })).status, 200);
  });

  it('RFC 6749 §3.2: GET /token is 405 with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await fetch(new URL('/token?grant_type=authorization_code&code=x', gatehouse.url), { method });
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), 'POST');
      assertNoStore(response);
      assert.equal(body['error'], 'invalid_request');
      assertErrorDescription(body['error_description']);
    }
  });
});

describe('RFC 6749 §2.3: client authentication at the token endpoint', () => {
  it('RFC 6749 §5.2: Basic with a wrong secret is 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const obtained = await confidentialCode();
    const response = await postToken(gatehouse, codeRequest(obtained), {
      basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: 'wrong-secret' },
    });
    assertBasicChallenge(response);
    // The failed authentication did not consume the code.
    assert.equal((await postToken(gatehouse, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC })).status, 200);
  });

  it('RFC 6749 §5.2: Basic with an unknown client is 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const response = await postToken(
      gatehouse,
      { grant_type: 'authorization_code', code: 'x', code_verifier: newVerifier() },
      { basic: { id: 'nobody', secret: 'whatever' } },
    );
    assertBasicChallenge(response);
  });

  it('RFC 6749 §5.2: a malformed Basic header is 401 invalid_client with WWW-Authenticate: Basic', async () => {
    for (const authorization of [
      'Basic',
      'Basic !!!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from('%zz:secret').toString('base64')}`,
    ]) {
      const response = await postToken(gatehouse, { grant_type: 'authorization_code', code: 'x' }, { authorization });
      assertBasicChallenge(response);
    }
  });

  it('RFC 6749 §2.3.1: client_secret_post by a client registered for client_secret_basic is invalid_client', async () => {
    const obtained = await confidentialCode();
    const response = await postToken(
      gatehouse,
      codeRequest(obtained, {
        client_id: CONFIDENTIAL_CLIENT.client_id,
        client_secret: CONFIDENTIAL_CLIENT.client_secret,
      }),
    );
    // RFC 6749 §5.2: no Authorization header was used, so 400 without a challenge.
    assertTokenError(response, 400, 'invalid_client');
    assert.equal(response.headers.get('www-authenticate'), null);
  });

  it('RFC 6749 §2.3.1: Basic by a client registered for client_secret_post is invalid_client', async () => {
    const obtained = await obtainCode(gatehouse, POST_CLIENT);
    const response = await postToken(gatehouse, codeRequest(obtained), {
      basic: { id: POST_CLIENT.client_id, secret: POST_CLIENT.client_secret! },
    });
    assertBasicChallenge(response);
  });

  it('RFC 6749 §2.3: Basic together with client_secret in the body is invalid_request (one method per request)', async () => {
    await assertRedemptionRefused({ client_secret: CONFIDENTIAL_CLIENT.client_secret }, 'invalid_request');
  });

  it('RFC 6749 §2.3.1: a client_id in the body that differs from the Basic one is invalid_request', async () => {
    await assertRedemptionRefused({ client_id: PUBLIC_CLIENT.client_id }, 'invalid_request');
  });

  it('RFC 6749 §2.1: a public client sending a client_secret is invalid_client', async () => {
    const obtained = await obtainCode(gatehouse, PUBLIC_CLIENT);
    const response = await postToken(
      gatehouse,
      codeRequest(obtained, { client_id: PUBLIC_CLIENT.client_id, client_secret: 'anything' }),
    );
    assertTokenError(response, 400, 'invalid_client');
  });

  it('RFC 6749 §2.3: a confidential client sending no credentials is invalid_client', async () => {
    const obtained = await confidentialCode();
    const response = await postToken(gatehouse, codeRequest(obtained, { client_id: CONFIDENTIAL_CLIENT.client_id }));
    assertTokenError(response, 400, 'invalid_client');
    const anonymous = await postToken(gatehouse, codeRequest(obtained));
    assertTokenError(anonymous, 400, 'invalid_client');
  });

  it('RFC 6749 Appendix B: an id and secret with :, +, %, space and & authenticate when form-urlencoded in Basic', async () => {
    const basic = { id: ENCODED_CLIENT.client_id, secret: ENCODED_CLIENT.client_secret! };
    const obtained = await obtainCode(gatehouse, ENCODED_CLIENT);
    const encoded = basicAuthorization(basic.id, basic.secret);
    // The encoding really changes the values (else this test would prove nothing).
    assert.match(
      Buffer.from(encoded.slice(6), 'base64').toString(),
      /^odd%3Aclient\+id%2B%25%2F%3F%26%3D:se%3Acr\+et%2Bwith%2525percent/,
    );
    const response = await postToken(gatehouse, codeRequest(obtained), { basic });
    assert.equal(response.status, 200, response.text);

    // Without the Appendix B encoding the secret does not match (the raw ":" in the id splits it wrongly).
    const again = await obtainCode(gatehouse, ENCODED_CLIENT);
    const raw = `Basic ${Buffer.from(`${basic.id}:${basic.secret}`).toString('base64')}`;
    assertBasicChallenge(await postToken(gatehouse, codeRequest(again), { authorization: raw }));
  });

  it('RFC 6749 Appendix B: a secret with non-ASCII characters is UTF-8 form-urlencoded in Basic', async () => {
    // Registration refuses non-VSCHAR secrets (Appendix A.2), so this client is put in the store directly.
    const clientId = 'unicode:client +%';
    const secret = 'pässwörd: €+% 漢字 😀';
    const obtained = await obtainCode(gatehouse, await storedCopy(ENCODED_CLIENT, clientId, secret));
    const authorization = basicAuthorization(clientId, secret);
    assert.ok(Buffer.from(authorization.slice(6), 'base64').toString().includes('p%C3%A4ssw%C3%B6rd%3A+%E2%82%AC'));
    const response = await postToken(gatehouse, codeRequest(obtained), { authorization });
    assert.equal(response.status, 200, response.text);
  });

  it('RFC 6749 §2.3.1: the same characters work with client_secret_post (form body encoding)', async () => {
    const clientId = 'post:odd client+%';
    const secret = 'se:cr et+with%25percent&amp=;/?#';
    const obtained = await obtainCode(gatehouse, await storedCopy(POST_CLIENT, clientId, secret));
    const response = await postToken(gatehouse, codeRequest(obtained, { client_id: clientId, client_secret: secret }));
    assert.equal(response.status, 200, response.text);
  });
});

describe('RFC 6749 §5.2: error_description syntax', () => {
  it('RFC 6749 §5.2: error_description is printable ASCII without " or \\ in every error response, even when echoing input', async () => {
    const hostile = 'ü"\\\u0000\n\u007f😀<>';
    const responses = [
      await postToken(gatehouse, { grant_type: `x${hostile}` }, { basic: CONFIDENTIAL_BASIC }),
      await postToken(
        gatehouse,
        { grant_type: 'authorization_code', code: hostile, code_verifier: hostile },
        { basic: CONFIDENTIAL_BASIC },
      ),
      await postToken(
        gatehouse,
        { grant_type: 'authorization_code', code: 'x' },
        { basic: { id: hostile, secret: hostile } },
      ),
      await postToken(gatehouse, { grant_type: 'authorization_code', code: 'x', client_id: hostile }),
      await postToken(gatehouse, {
        grant_type: 'authorization_code',
        code: 'x',
        client_id: hostile,
        client_secret: hostile,
      }),
      await postToken(gatehouse, `grant_type=${encodeURIComponent(hostile)}&grant_type=x`, {
        basic: CONFIDENTIAL_BASIC,
      }),
      await postToken(gatehouse, '%', { basic: CONFIDENTIAL_BASIC }),
      await postToken(gatehouse, 'grant_type=authorization_code', {
        basic: CONFIDENTIAL_BASIC,
        contentType: 'application/json; charset=ü',
      }),
    ];
    for (const response of responses) {
      assert.ok(response.status === 400 || response.status === 401, `${response.status}: ${response.text}`);
      assert.equal(typeof response.body['error'], 'string', response.text);
      assert.match(response.body['error'] as string, /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
      assertNoStore(response);
      assertErrorDescription(response.body['error_description']);
    }
  });
});

/** A second public client: "any public client_id" an attacker may name (RFC 6749 §2.1). */
const OTHER_PUBLIC_CLIENT: ClientFixture = {
  ...PUBLIC_CLIENT,
  client_id: 'other-spa',
  redirect_uris: ['http://127.0.0.1:9000/other-spa'],
};

/** The one error_description of a code the presenting client may not redeem, whatever the reason. */
const UNREDEEMABLE = 'code is invalid, expired, already used, or was issued to another client';

for (const target of STORE_TARGETS) {
  describe(`RFC 6749 §4.1.3 / OAuth 2.1 §7.5.3: the client and the code's parameters are checked before the code is consumed, on ${target.name}`, () => {
    let server: RunningGatehouse;
    let databaseUrl: string | undefined;
    const events: TimedEvent[] = [];

    before(async () => {
      databaseUrl = await target.url();
      // PostgreSQL must really run here (see test/helpers/postgres.ts); fail rather than skip.
      if (databaseUrl === undefined) throw new Error(postgresSkipMessage());
      server = await startTestServer({
        databaseUrl,
        clients: [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, OTHER_PUBLIC_CLIENT],
      });
      assert.equal(server.store.dialect, target.name);
      server.context.events.onAny((event) => events.push(event));
    });
    after(async () => {
      if (databaseUrl === undefined) return;
      await server?.close();
      await target.cleanup(databaseUrl);
    });

    const OFFLINE = 'openid profile offline_access';
    const publicRequest = (
      obtained: Awaited<ReturnType<typeof obtainCode>>,
      extra: Record<string, string | undefined> = {},
    ) => codeRequest(obtained, { client_id: PUBLIC_CLIENT.client_id, ...extra });

    /** The confidential client's code, redeemed: its access and refresh tokens. */
    async function redeemedConfidential() {
      const obtained = await obtainCode(server, CONFIDENTIAL_CLIENT, { scope: OFFLINE });
      const first = await postToken(server, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC });
      assert.equal(first.status, 200, first.text);
      return {
        obtained,
        accessToken: first.body['access_token'] as string,
        refreshToken: first.body['refresh_token'] as string,
      };
    }

    /** RFC 7662 §2.2: whether the confidential client's introspection says the token is active. */
    async function introspectActive(token: string): Promise<boolean> {
      const response = await postForm(server, '/introspect', { token }, { basic: CONFIDENTIAL_BASIC });
      assert.equal(response.status, 200);
      return response.body['active'] === true;
    }

    /** RFC 6749 §6: the confidential client refreshes `refreshToken`. */
    function refresh(refreshToken: string) {
      return postToken(
        server,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        { basic: CONFIDENTIAL_BASIC },
      );
    }

    async function grantRevoked(accessToken: string): Promise<boolean> {
      const record = await server.store.accessTokens.get(decodeJwt(accessToken).jti!);
      assert.ok(record?.grantId);
      return (await server.store.grants.get(record.grantId))?.revokedAt != null;
    }

    function refusals(since: number) {
      return events.slice(since).filter((event) => event.type === 'code.refused' || event.type === 'code.replayed');
    }

    it('OAuth 2.1 §7.5.3: a used code presented by another public client with a made-up verifier is invalid_grant and revokes nothing', async () => {
      const { obtained, accessToken, refreshToken } = await redeemedConfidential();
      const seen = events.length;
      for (const attacker of [PUBLIC_CLIENT, OTHER_PUBLIC_CLIENT]) {
        const response = await postToken(
          server,
          codeRequest(obtained, { client_id: attacker.client_id, code_verifier: newVerifier() }),
        );
        assertTokenError(response, 400, 'invalid_grant');
        assert.equal(response.body['error_description'], UNREDEEMABLE);
      }
      assert.deepEqual(
        refusals(seen).map((event) => event.type === 'code.refused' && [event.reason, event.clientId]),
        [
          ['issued_to_another_client', PUBLIC_CLIENT.client_id],
          ['issued_to_another_client', OTHER_PUBLIC_CLIENT.client_id],
        ],
      );
      // The rightful client's tokens still work: the access token is active, the refresh token refreshes.
      assert.equal(await grantRevoked(accessToken), false);
      assert.equal(await introspectActive(accessToken), true);
      const refreshed = await refresh(refreshToken);
      assert.equal(refreshed.status, 200, refreshed.text);
    });

    it('OAuth 2.1 §7.5.3: a used public-client code presented under its own client_id with a made-up verifier or another redirect_uri revokes nothing', async () => {
      const obtained = await obtainCode(server, PUBLIC_CLIENT, { scope: OFFLINE });
      const first = await postToken(server, publicRequest(obtained));
      assert.equal(first.status, 200, first.text);
      const seen = events.length;
      // A public client is identified, not authenticated (RFC 6749 §2.1): anyone can send its client_id.
      for (const extra of [
        { code_verifier: newVerifier() },
        { code_verifier: undefined },
        { redirect_uri: PUBLIC_CLIENT.redirect_uris[1] },
      ]) {
        const response = await postToken(server, publicRequest(obtained, extra));
        assertTokenError(response, 400, 'invalid_grant');
        assert.equal(response.body['error_description'], UNREDEEMABLE);
      }
      assert.deepEqual(
        refusals(seen).map((event) => event.type === 'code.refused' && event.reason),
        ['already_used', 'already_used', 'already_used'],
      );
      assert.equal(await grantRevoked(first.body['access_token'] as string), false);
      const refreshed = await postToken(server, {
        grant_type: 'refresh_token',
        refresh_token: first.body['refresh_token'] as string,
        client_id: PUBLIC_CLIENT.client_id,
      });
      assert.equal(refreshed.status, 200, refreshed.text);
    });

    it('RFC 6749 §4.1.3: an unused code presented by another client is a generic invalid_grant, and the rightful client then redeems it', async () => {
      const obtained = await obtainCode(server, CONFIDENTIAL_CLIENT);
      const seen = events.length;
      const foreign = await postToken(server, codeRequest(obtained, { client_id: PUBLIC_CLIENT.client_id }));
      assertTokenError(foreign, 400, 'invalid_grant');
      assert.equal(foreign.body['error_description'], UNREDEEMABLE);
      const stored = await server.store.codes.get(storedTokenKey(obtained.code));
      assert.equal(stored?.consumedAt, null, 'the code is not consumed');
      assert.deepEqual(
        refusals(seen).map((event) => event.type === 'code.refused' && event.reason),
        ['issued_to_another_client'],
      );

      const rightful = await postToken(server, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC });
      assert.equal(rightful.status, 200, rightful.text);
    });

    it('RFC 7636 §4.6: a wrong verifier or redirect_uri from the rightful client is invalid_grant and leaves the code redeemable', async () => {
      // RFC 7636 does not ask for the code to be burnt; burning it would let anyone who saw the
      // code (and can send a public client's client_id) break the rightful client's sign-in.
      const obtained = await obtainCode(server, PUBLIC_CLIENT);
      const wrongVerifier = await postToken(server, publicRequest(obtained, { code_verifier: newVerifier() }));
      assertTokenError(wrongVerifier, 400, 'invalid_grant');
      assert.equal(wrongVerifier.body['error_description'], 'code_verifier does not match code_challenge');
      const wrongRedirect = await postToken(
        server,
        publicRequest(obtained, { redirect_uri: PUBLIC_CLIENT.redirect_uris[1] }),
      );
      assertTokenError(wrongRedirect, 400, 'invalid_grant');
      assert.equal((await server.store.codes.get(storedTokenKey(obtained.code)))?.consumedAt, null);

      const rightful = await postToken(server, publicRequest(obtained));
      assert.equal(rightful.status, 200, rightful.text);
    });

    it('RFC 6749 §4.1.2: a replay by the rightful client with valid parameters still revokes the tokens issued from the code', async () => {
      const { obtained, accessToken, refreshToken } = await redeemedConfidential();
      const seen = events.length;
      const replay = await postToken(server, codeRequest(obtained), { basic: CONFIDENTIAL_BASIC });
      assertTokenError(replay, 400, 'invalid_grant');
      assert.equal(replay.body['error_description'], UNREDEEMABLE);
      assert.deepEqual(
        refusals(seen).map((event) => event.type),
        ['code.replayed'],
      );
      assert.equal(await grantRevoked(accessToken), true);
      assert.equal(await introspectActive(accessToken), false);
      const refreshed = await refresh(refreshToken);
      assertTokenError(refreshed, 400, 'invalid_grant');
    });

    it('RFC 6749 §4.1.3: unknown, foreign, expired and used codes all get the same error_description, which does not say whether the code exists', async () => {
      const descriptions = new Map<string, unknown>();
      const unknown = await postToken(server, {
        grant_type: 'authorization_code',
        code: 'made-up-code-that-was-never-issued',
        redirect_uri: PUBLIC_CLIENT.redirect_uris[0],
        code_verifier: newVerifier(),
        client_id: PUBLIC_CLIENT.client_id,
      });
      descriptions.set('unknown', unknown.body['error_description']);

      const foreignUnused = await obtainCode(server, CONFIDENTIAL_CLIENT);
      descriptions.set(
        'foreign unused',
        (await postToken(server, publicRequest(foreignUnused, { redirect_uri: PUBLIC_CLIENT.redirect_uris[0] }))).body[
          'error_description'
        ],
      );
      const { obtained: foreignUsed } = await redeemedConfidential();
      descriptions.set(
        'foreign used',
        (await postToken(server, publicRequest(foreignUsed, { redirect_uri: PUBLIC_CLIENT.redirect_uris[0] }))).body[
          'error_description'
        ],
      );

      const expiring = await obtainCode(server, PUBLIC_CLIENT);
      const now = server.context.now;
      server.context.now = () => now() + (DEFAULT_SETTINGS.codeTtlSeconds + 1) * 1000;
      try {
        descriptions.set('expired', (await postToken(server, publicRequest(expiring))).body['error_description']);
      } finally {
        server.context.now = now;
      }

      const used = await obtainCode(server, PUBLIC_CLIENT);
      assert.equal((await postToken(server, publicRequest(used))).status, 200);
      descriptions.set(
        'used, made-up verifier',
        (await postToken(server, publicRequest(used, { code_verifier: newVerifier() }))).body['error_description'],
      );
      descriptions.set('used, replayed', (await postToken(server, publicRequest(used))).body['error_description']);

      for (const [kind, description] of descriptions) assert.equal(description, UNREDEEMABLE, kind);
      // The foreign unused code was not consumed by the probe.
      assert.equal((await postToken(server, codeRequest(foreignUnused), { basic: CONFIDENTIAL_BASIC })).status, 200);
    });
  });
}
