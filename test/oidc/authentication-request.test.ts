/**
 * OpenID Connect Core 1.0 §3.1.2.1 authentication request parameters (prompt, max_age,
 * login_hint, id_token_hint, ui_locales, nonce, claims) and the ID token of §2 / §3.1.3.7
 * (auth_time, acr, amr, sid, the client's id_token_signed_response_alg), with openid-client as
 * the relying party: it builds the requests, reads the authorization responses (and their
 * errors), redeems the codes and validates every ID token itself.
 *
 * Run: node --import tsx --test test/oidc/authentication-request.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { SignJWT, createRemoteJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify } from 'jose';
import type { ClientFixture, UserFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { sha256Base64Url } from '../../src/core/secrets.js';
import { ownIdToken } from '../helpers/id-tokens.js';
import { SESSION_COOKIE } from '../../src/http/cookies.js';
import { ALICE, CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import { sleep } from '../helpers/interop-client.js';
import { UserAgent, isConsentPage, isLoginPage, type PageResponse } from '../helpers/user-agent.js';

const APP: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  client_id: 'oidc-app',
  scope: 'openid profile email phone offline_access',
};
/** OpenID Connect Dynamic Client Registration §2: this client wants RS256 ID tokens. */
const RS256_APP: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  client_id: 'rs256-app',
  id_token_signed_response_alg: 'RS256',
};
const BOB: UserFixture = { username: 'bob', password: 'bob password that is long enough' };

type Checks = client.AuthorizationCodeGrantChecks;

interface AuthRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string | undefined;
}

async function configure(
  gatehouse: RunningGatehouse,
  fixture: ClientFixture,
  metadata?: Partial<client.ClientMetadata>,
): Promise<client.Configuration> {
  return client.discovery(
    new URL(gatehouse.url),
    fixture.client_id,
    metadata,
    client.ClientSecretBasic(fixture.client_secret!),
    {
      execute: [client.allowInsecureRequests],
    },
  );
}

/** An authentication request with PKCE, state and (unless `nonce: null`) a nonce, plus `extra` parameters. */
async function authRequest(
  config: client.Configuration,
  extra: Record<string, string> = {},
  options: { scope?: string; nonce?: null } = {},
): Promise<AuthRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = options.nonce === null ? undefined : client.randomNonce();
  const params: Record<string, string> = {
    redirect_uri: APP.redirect_uris[0]!,
    scope: options.scope ?? 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(nonce !== undefined ? { nonce } : {}),
    ...extra,
  };
  return { url: client.buildAuthorizationUrl(config, params), verifier, state, nonce };
}

/** openid-client processes the authorization response, redeems the code and validates the ID token. */
/** The code flow as ALICE in `ua` (login and consent where asked), with the request authRequest builds: its tokens. */
async function codeFlowTokens(
  ua: UserAgent,
  config: client.Configuration,
  ...request: [extra?: Record<string, string>, options?: { scope?: string; nonce?: null }]
) {
  const built = await authRequest(config, ...request);
  return redeem(config, await ua.authorize(built.url.href, ALICE), built);
}

async function redeem(
  config: client.Configuration,
  final: PageResponse,
  request: AuthRequest,
  checks: Partial<Checks> = {},
) {
  assert.equal(
    final.status,
    303,
    `expected a redirect to the client, got ${final.status}: ${final.body.slice(0, 300)}`,
  );
  return client.authorizationCodeGrant(config, new URL(final.location!), {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    ...(request.nonce !== undefined ? { expectedNonce: request.nonce } : { idTokenExpected: true }),
    ...checks,
  });
}

/** The authorization response is an error (RFC 6749 §4.1.2.1 / OIDC Core §3.1.2.6), as openid-client reports it. */
async function assertAuthorizationError(
  config: client.Configuration,
  final: PageResponse,
  request: AuthRequest,
  error: string,
): Promise<void> {
  assert.equal(
    final.status,
    303,
    `expected a redirect to the client, got ${final.status}: ${final.body.slice(0, 300)}`,
  );
  await assert.rejects(
    client.authorizationCodeGrant(config, new URL(final.location!), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
    }),
    (thrown: unknown) => {
      assert.ok(thrown instanceof client.AuthorizationResponseError, String(thrown));
      assert.equal(thrown.error, error, thrown.error_description ?? '');
      return true;
    },
  );
}

/** Signs in on the login page (which must be showing) and consents if asked. */
async function signIn(
  ua: UserAgent,
  page: PageResponse,
  user: { username: string; password: string } = ALICE,
): Promise<PageResponse> {
  assert.ok(isLoginPage(page), `expected the login page, got ${page.status}: ${page.body.slice(0, 200)}`);
  let next = await ua.submit(page, { username: user.username, password: user.password });
  if (isConsentPage(next)) next = await ua.submit(next, { decision: 'allow' });
  return next;
}

/** openid-client's ClientError, caused by an oauth4webapi processing error whose message matches `reason`. */
function clientErrorBecause(reason: RegExp): (thrown: unknown) => boolean {
  return (thrown) => {
    assert.ok(thrown instanceof client.ClientError, String(thrown));
    assert.match((thrown.cause as Error | undefined)?.message ?? '', reason);
    return true;
  };
}

function usernameField(page: PageResponse): string | undefined {
  return /<input id="username"[^>]*value="([^"]*)"/.exec(page.body)?.[1];
}

function htmlLang(page: PageResponse): string | undefined {
  return /<html lang="([^"]*)"/.exec(page.body)?.[1];
}

describe('OpenID Connect Core 1.0 §3.1.2.1 authentication requests and the §2 ID token', () => {
  let gatehouse: RunningGatehouse;
  let config: client.Configuration;

  before(async () => {
    gatehouse = await startTestServer({
      clients: [APP, RS256_APP],
      users: [ALICE, BOB],
      // English only (languages: [en]): German and French are languages these pages lack.
      settings: { languages: ['en'] },
    });
    config = await configure(gatehouse, APP);
  });
  after(() => gatehouse.close());

  /** A browser signed in as ALICE (single sign-on session), with consent to `openid profile`. */
  async function signedInBrowser(): Promise<{ ua: UserAgent; tokens: Awaited<ReturnType<typeof redeem>> }> {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await codeFlowTokens(ua, config);
    return { ua, tokens };
  }

  async function userId(username: string): Promise<string> {
    const user = await gatehouse.store.users.getByUsername(username);
    assert.ok(user);
    return user.id;
  }

  describe('OpenID Connect Discovery 1.0 §3: what the provider metadata says about these parameters', () => {
    it('lists the ID token algorithms, prompt values, acr, ui_locales, and claims_parameter_supported: false', () => {
      const metadata = config.serverMetadata();
      assert.deepEqual(metadata.id_token_signing_alg_values_supported, ['ES256', 'RS256']);
      assert.deepEqual(metadata.prompt_values_supported, ['none', 'login', 'consent', 'select_account']);
      assert.deepEqual(metadata.acr_values_supported, ['urn:gatehouse:pwd']);
      assert.deepEqual(metadata.ui_locales_supported, ['en']);
      assert.equal(metadata.claims_parameter_supported, false);
      // RFC 9101 §10.5: signed request objects by value are supported (test/jar).
      assert.equal(metadata.request_parameter_supported, true);
    });
  });

  describe('§3.1.2.1 prompt', () => {
    it('prompt=none without a session: login_required (§3.1.2.6), never a login page', async () => {
      const ua = new UserAgent(gatehouse.url);
      const request = await authRequest(config, { prompt: 'none' });
      await assertAuthorizationError(config, await ua.navigate(request.url.href), request, 'login_required');
    });

    it('prompt=none with a session and consent: a code at once, the same auth_time', async () => {
      const { ua, tokens } = await signedInBrowser();
      const request = await authRequest(config, { prompt: 'none' });
      const again = await redeem(config, await ua.navigate(request.url.href), request);
      assert.equal(again.claims()!.sub, tokens.claims()!.sub);
      assert.equal(again.claims()!.auth_time, tokens.claims()!.auth_time);
    });

    it('prompt=none with a session but without consent to the scope: consent_required (§3.1.2.6)', async () => {
      const { ua } = await signedInBrowser();
      const request = await authRequest(config, { prompt: 'none' }, { scope: 'openid phone' });
      await assertAuthorizationError(config, await ua.navigate(request.url.href), request, 'consent_required');
    });

    it('prompt=login: the login page although a session exists, and a new auth_time', async () => {
      const { ua, tokens } = await signedInBrowser();
      await sleep(1100); // auth_time has a resolution of one second
      const request = await authRequest(config, { prompt: 'login' });
      const page = await ua.navigate(request.url.href);
      assert.ok(isLoginPage(page), 'prompt=login shows the login page');
      const again = await redeem(config, await signIn(ua, page), request);
      assert.equal(again.claims()!.sub, tokens.claims()!.sub);
      assert.ok(again.claims()!.auth_time! > tokens.claims()!.auth_time!, 'auth_time moves to the new sign-in');
    });

    it('prompt=consent: the consent page again, although consent was given', async () => {
      const { ua } = await signedInBrowser();
      const request = await authRequest(config, { prompt: 'consent' });
      const page = await ua.navigate(request.url.href);
      assert.ok(isConsentPage(page), 'prompt=consent shows the consent page');
      assert.equal(isLoginPage(page), false);
      await redeem(config, await ua.submit(page, { decision: 'allow' }), request);
    });

    it('prompt=none combined with login: invalid_request', async () => {
      const { ua } = await signedInBrowser();
      const request = await authRequest(config, { prompt: 'none login' });
      await assertAuthorizationError(config, await ua.navigate(request.url.href), request, 'invalid_request');
    });
  });

  describe('§3.1.2.1 max_age', () => {
    it('max_age=1 two seconds after signing in: the login page again, and a new auth_time that openid-client checks', async () => {
      const { ua, tokens } = await signedInBrowser();
      await sleep(2000);
      const request = await authRequest(config, { max_age: '1' });
      const page = await ua.navigate(request.url.href);
      assert.ok(isLoginPage(page), 'the session is older than max_age');
      const again = await redeem(config, await signIn(ua, page), request, { maxAge: 1 });
      assert.ok(again.claims()!.auth_time! > tokens.claims()!.auth_time!);
    });

    it('a max_age the session satisfies needs no sign-in, and auth_time is present (§2)', async () => {
      const { ua, tokens } = await signedInBrowser();
      const request = await authRequest(config, { max_age: '3600' });
      const again = await redeem(config, await ua.navigate(request.url.href), request, { maxAge: 3600 });
      assert.equal(again.claims()!.auth_time, tokens.claims()!.auth_time);
    });

    it('max_age exceeded with prompt=none: login_required', async () => {
      const { ua } = await signedInBrowser();
      await sleep(1100);
      const request = await authRequest(config, { max_age: '0', prompt: 'none' });
      await assertAuthorizationError(config, await ua.navigate(request.url.href), request, 'login_required');
    });

    it('a negative or non-integer max_age: invalid_request, redirected to the client', async () => {
      for (const maxAge of ['-1', '1.5', 'soon']) {
        const ua = new UserAgent(gatehouse.url);
        const request = await authRequest(config, { max_age: maxAge });
        await assertAuthorizationError(config, await ua.navigate(request.url.href), request, 'invalid_request');
      }
    });
  });

  describe('§3.1.2.1 nonce', () => {
    it('a nonce that does not match the one sent is detected by openid-client', async () => {
      const ua = new UserAgent(gatehouse.url);
      const request = await authRequest(config);
      const final = await ua.authorize(request.url.href, ALICE);
      await assert.rejects(
        redeem(config, final, request, { expectedNonce: client.randomNonce() }),
        clientErrorBecause(/unexpected ID Token "nonce" claim value/),
      );
    });

    it('nonce is optional in the code flow: the ID token then has none', async () => {
      const ua = new UserAgent(gatehouse.url);
      const tokens = await codeFlowTokens(ua, config, {}, { nonce: null });
      assert.equal(tokens.claims()!.nonce, undefined);
    });
  });

  describe('§3.1.2.1 login_hint, ui_locales and claims', () => {
    it('login_hint pre-fills the username on the login page', async () => {
      const ua = new UserAgent(gatehouse.url);
      const request = await authRequest(config, { login_hint: 'alice' });
      const page = await ua.navigate(request.url.href);
      assert.ok(isLoginPage(page));
      assert.equal(usernameField(page), 'alice');
      await redeem(config, await signIn(ua, page), request);
    });

    it('ui_locales: the pages take the first supported (English) tag as their lang, else stay en', async () => {
      const ua = new UserAgent(gatehouse.url);
      // prompt=consent: the consent page shows although alice consented before.
      const request = await authRequest(config, { ui_locales: 'fr-CA en-GB en', prompt: 'consent' });
      const login = await ua.navigate(request.url.href);
      assert.equal(htmlLang(login), 'en-GB');
      const consent = await ua.submit(login, { username: ALICE.username, password: ALICE.password });
      assert.ok(isConsentPage(consent));
      assert.equal(htmlLang(consent), 'en-GB');

      const other = await authRequest(config, { ui_locales: 'de-CH fr' });
      assert.equal(htmlLang(await new UserAgent(gatehouse.url).navigate(other.url.href)), 'en');
    });

    it('the claims parameter (§5.5) is not supported, so it is ignored: the ID token carries the claims of the granted scopes only', async () => {
      const ua = new UserAgent(gatehouse.url);
      const claims = JSON.stringify({ id_token: { name: { essential: true } }, userinfo: { name: null } });
      const tokens = await codeFlowTokens(ua, config, { claims }, { scope: 'openid email' });
      assert.equal(tokens.claims()!.name, undefined);
      assert.equal(tokens.claims()!.email, ALICE.email);
    });
  });

  describe('§3.1.2.1 id_token_hint', () => {
    it('an ID token we issued for the signed-in user: prompt=none succeeds for that user', async () => {
      const { ua, tokens } = await signedInBrowser();
      const request = await authRequest(config, { prompt: 'none', id_token_hint: tokens.id_token! });
      const again = await redeem(config, await ua.navigate(request.url.href), request);
      assert.equal(again.claims()!.sub, tokens.claims()!.sub);
    });

    it('an expired ID token we issued is still a valid hint', async () => {
      const { ua, tokens } = await signedInBrowser();
      const past = Date.now() - 2 * 3600 * 1000;
      const expired = await ownIdToken(gatehouse, APP.client_id, await userId('alice'), past);
      const request = await authRequest(config, { prompt: 'none', id_token_hint: expired });
      const again = await redeem(config, await ua.navigate(request.url.href), request);
      assert.equal(again.claims()!.sub, tokens.claims()!.sub);
    });

    it('a hint naming another user than the session’s: login_required with prompt=none, else the login page for that user', async () => {
      const bobUa = new UserAgent(gatehouse.url);
      const bobRequest = await authRequest(config);
      const bobTokens = await redeem(config, await bobUa.authorize(bobRequest.url.href, BOB), bobRequest);
      const { ua, tokens } = await signedInBrowser();

      const silent = await authRequest(config, { prompt: 'none', id_token_hint: bobTokens.id_token! });
      await assertAuthorizationError(config, await ua.navigate(silent.url.href), silent, 'login_required');

      const request = await authRequest(config, { id_token_hint: bobTokens.id_token! });
      const page = await ua.navigate(request.url.href);
      assert.ok(isLoginPage(page), 'asked to sign in as the hinted user');
      assert.equal(usernameField(page), 'bob', 'pre-filled with the hinted user');
      const asBob = await redeem(config, await signIn(ua, page, BOB), request);
      assert.equal(asBob.claims()!.sub, bobTokens.claims()!.sub);
      assert.notEqual(asBob.claims()!.sub, tokens.claims()!.sub);
    });

    it('an invalid hint (not a JWT, another signer, another issuer, another client, an access token): invalid_request', async () => {
      const { ua, tokens } = await signedInBrowser();
      const now = Date.now();
      const alice = await userId('alice');
      const { privateKey } = await generateKeyPair('ES256');
      const foreign = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'foreign' })
        .setIssuer(gatehouse.url)
        .setSubject(alice)
        .setAudience(APP.client_id)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey);
      const ownKey = gatehouse.context.keys.active(now, 'ES256');
      const otherIssuer = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: ownKey.kid })
        .setIssuer('https://other.example')
        .setSubject(alice)
        .setAudience(APP.client_id)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(ownKey.privateKey);
      const otherClient = await ownIdToken(gatehouse, RS256_APP.client_id, alice, now);
      const hints: Record<string, string> = {
        garbage: 'not-a-jwt',
        foreign,
        otherIssuer,
        otherClient,
        accessToken: tokens.access_token,
      };
      for (const [name, hint] of Object.entries(hints)) {
        const request = await authRequest(config, { id_token_hint: hint });
        const final = await ua.navigate(request.url.href);
        assert.equal(new URL(final.location!).searchParams.get('error'), 'invalid_request', name);
        await assertAuthorizationError(config, final, request, 'invalid_request');
      }
    });
  });

  describe('§2 ID token claims: acr, amr, sid', () => {
    it('sid is the session’s public id: the same for every ID token of the session (also refreshed ones, §12.2 and re-authentication of the same user), new when another user signs in', async () => {
      const ua = new UserAgent(gatehouse.url);
      const tokens = await codeFlowTokens(ua, config, {}, { scope: 'openid profile offline_access' });
      const claims = tokens.claims()!;
      assert.equal(typeof claims.sid, 'string');
      const session = await gatehouse.store.sessions.get(sha256Base64Url(ua.cookie(SESSION_COOKIE)!), Date.now());
      assert.equal(claims.sid, session?.sid);
      assert.notEqual(claims.sid, session?.idHash, 'not derived from the cookie');
      assert.equal(claims.acr, 'urn:gatehouse:pwd');
      assert.deepEqual(claims.amr, ['pwd']);

      const sso = await authRequest(config);
      assert.equal((await redeem(config, await ua.navigate(sso.url.href), sso)).claims()!.sid, claims.sid);

      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      assert.equal(refreshed.claims()!.sid, claims.sid);

      // Re-authentication of the same user (prompt=login): a new session cookie value (no
      // fixation) and a new auth_time, but the same OP session, so clients signed in under this
      // sid still receive its back-channel logout.
      const cookieBefore = ua.cookie(SESSION_COOKIE);
      const relogin = await authRequest(config, { prompt: 'login' });
      const fresh = await redeem(config, await signIn(ua, await ua.navigate(relogin.url.href)), relogin);
      assert.notEqual(ua.cookie(SESSION_COOKIE), cookieBefore, 'the session cookie changes at every sign-in');
      assert.equal(fresh.claims()!.sid, claims.sid, 're-authentication keeps the session');
      assert.ok((fresh.claims()!.auth_time as number) >= (claims.auth_time as number));

      // Another user signing in in this browser starts a new session.
      const switchUser = await authRequest(config, { prompt: 'login' });
      const bob = await redeem(config, await signIn(ua, await ua.navigate(switchUser.url.href), BOB), switchUser);
      assert.equal(typeof bob.claims()!.sid, 'string');
      assert.notEqual(bob.claims()!.sid, claims.sid, 'another user is another session');
    });
  });

  describe('OpenID Connect Dynamic Client Registration §2 id_token_signed_response_alg', () => {
    it('a client registered with RS256 gets RS256 ID tokens, validated by openid-client configured for RS256; access tokens stay ES256', async () => {
      const rsConfig = await configure(gatehouse, RS256_APP, { id_token_signed_response_alg: 'RS256' });
      const ua = new UserAgent(gatehouse.url);
      const tokens = await codeFlowTokens(ua, rsConfig);
      const header = decodeProtectedHeader(tokens.id_token!);
      assert.equal(header.alg, 'RS256');
      assert.equal(decodeProtectedHeader(tokens.access_token).alg, 'ES256');
      const jwks = createRemoteJWKSet(new URL(`${gatehouse.url}/jwks`));
      const { payload } = await jwtVerify(tokens.id_token!, jwks, {
        issuer: gatehouse.url,
        audience: RS256_APP.client_id,
        algorithms: ['RS256'],
      });
      assert.equal(typeof payload.sid, 'string');
    });

    it('a client without one gets the §2 default (RS256), which openid-client accepts when it expects RS256 and refuses when it expects ES256', async () => {
      const ua = new UserAgent(gatehouse.url);
      const tokens = await codeFlowTokens(ua, config);
      assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');

      const expectsRs256 = await configure(gatehouse, APP, { id_token_signed_response_alg: 'RS256' });
      const second = await authRequest(expectsRs256);
      assert.equal(
        decodeProtectedHeader((await redeem(expectsRs256, await ua.navigate(second.url.href), second)).id_token!).alg,
        'RS256',
      );

      const expectsEs256 = await configure(gatehouse, APP, { id_token_signed_response_alg: 'ES256' });
      const third = await authRequest(expectsEs256);
      await assert.rejects(
        redeem(expectsEs256, await ua.navigate(third.url.href), third),
        clientErrorBecause(/unexpected JWT "alg" header parameter/),
      );
    });

    it('on an EdDSA server, discovery adds EdDSA and it can be the default (id_token_signed_response_alg_default); RS256 clients still get RS256', async () => {
      const eddsa = await startTestServer({
        clients: [APP, RS256_APP],
        users: [ALICE],
        settings: { signingAlg: 'EdDSA', idTokenSignedResponseAlgDefault: 'EdDSA' },
      });
      try {
        const edConfig = await configure(eddsa, APP);
        assert.deepEqual(edConfig.serverMetadata().id_token_signing_alg_values_supported, ['ES256', 'RS256', 'EdDSA']);
        const ua = new UserAgent(eddsa.url);
        const tokens = await codeFlowTokens(ua, edConfig);
        assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'EdDSA');

        const rsConfig = await configure(eddsa, RS256_APP, { id_token_signed_response_alg: 'RS256' });
        const rsTokens = await codeFlowTokens(ua, rsConfig);
        assert.equal(decodeProtectedHeader(rsTokens.id_token!).alg, 'RS256');
      } finally {
        await eddsa.close();
      }
    });
  });
});
