/**
 * OpenID Connect RP-Initiated Logout 1.0 against a running Gatehouse: openid-client signs in
 * through the real pages and builds the logout request from discovery's end_session_endpoint.
 *
 * Run: node --import tsx --test test/oidc/rp-initiated-logout.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { ClientFixture } from '../../src/config/settings.js';
import { sha256Base64Url } from '../../src/core/secrets.js';
import type { RunningGatehouse } from '../../src/server.js';
import { buildCodeRequest, codeFlow, interopClient, type InteropClient } from '../helpers/interop-client.js';
import { CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, startTestServer } from '../helpers/server.js';
import { UserAgent, formPostFields, hiddenInput, isLoginPage, type PageResponse } from '../helpers/user-agent.js';

const SIGNED_OUT = 'http://127.0.0.1:9000/signed-out';

const WEB: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  post_logout_redirect_uris: [SIGNED_OUT, 'http://127.0.0.1:9000/bye?from=gatehouse'],
};
const OTHER: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  client_id: 'other-app',
  client_name: 'Other App',
  client_secret: 'other-app-secret-that-is-long-enough',
  post_logout_redirect_uris: ['http://127.0.0.1:9000/other-signed-out'],
};

let gatehouse: RunningGatehouse;
let web: InteropClient;

before(async () => {
  gatehouse = await startTestServer({
    clients: [WEB, OTHER, PUBLIC_CLIENT],
    // English only (languages: [en]): German and French are languages these pages lack.
    settings: { languages: ['en'] },
  });
  web = await interopClient(gatehouse, WEB);
});
after(async () => {
  await gatehouse.close();
});

/** Signs ALICE in with openid-client in `ua`'s browser; returns the token set. */
async function signIn(ua: UserAgent, ic: InteropClient = web) {
  return codeFlow(gatehouse, ic, { scope: 'openid profile', ua });
}

async function sessionOf(ua: UserAgent) {
  const cookie = ua.cookie('gh_session');
  if (cookie === undefined || cookie === '') return undefined;
  return gatehouse.store.sessions.get(sha256Base64Url(cookie), Date.now());
}

function logoutUrl(params: Record<string, string>): string {
  const url = new URL('/logout', gatehouse.url);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

/** openid-client's RP-Initiated Logout URL (§2) with the id_token_hint of `tokens`. */
function endSessionUrl(tokens: { id_token?: string }, params: Record<string, string> = {}): string {
  return client.buildEndSessionUrl(web.config, { id_token_hint: tokens.id_token!, ...params }).href;
}

/** Error page: HTML, no redirect, the standard page headers. */
function assertErrorPage(page: PageResponse, status = 400): void {
  assert.equal(page.status, status, page.body.slice(0, 300));
  assert.equal(page.location, null, 'never a redirect');
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(page.headers.get('cache-control'), 'no-store');
  assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
}

function assertConfirmationPage(page: PageResponse): void {
  assert.equal(page.status, 200, page.body.slice(0, 300));
  assert.match(page.body, /<h1>Sign out of Gatehouse\?<\/h1>/);
  assert.match(page.body, /<form method="post" action="\/logout\/confirm">/);
  assert.ok(hiddenInput(page.body, 'csrf_token'), 'the form carries a CSRF token');
  assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
}

/** Submits the confirmation form with its hidden fields, optionally changed. */
function confirm(ua: UserAgent, page: PageResponse, changes: Record<string, string> = {}): Promise<PageResponse> {
  return ua.request('/logout/confirm', { form: { ...formPostFields(page.body), ...changes } });
}

describe('discovery', () => {
  it('RP-Initiated Logout 1.0 §2.1 / Back-Channel Logout 1.0 §2.1: end_session_endpoint and the logout capabilities', () => {
    const metadata = web.config.serverMetadata();
    assert.equal(metadata.end_session_endpoint, `${gatehouse.url}/logout`);
    assert.equal(metadata['backchannel_logout_supported'], true);
    assert.equal(metadata['backchannel_logout_session_supported'], true);
    assert.equal(metadata['frontchannel_logout_supported'], false);
  });
});

describe('RP-Initiated Logout with id_token_hint', () => {
  it('§2, §3: a hint for the current session signs out at once and redirects (303) to the registered post_logout_redirect_uri with state; the session is gone', async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(ua);
    const session = await sessionOf(ua);
    assert.ok(session, 'signed in');
    assert.equal(tokens.claims()!['sid'], session.sid, 'the ID token names the session (sid)');

    const state = client.randomState();
    const response = await ua.request(endSessionUrl(tokens, { post_logout_redirect_uri: SIGNED_OUT, state }));
    assert.equal(response.status, 303);
    const location = new URL(response.location!);
    assert.equal(`${location.origin}${location.pathname}`, SIGNED_OUT);
    assert.equal(location.searchParams.get('state'), state);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const cleared = response.headers.getSetCookie().find((cookie) => cookie.startsWith('gh_session='));
    assert.match(cleared ?? '', /^gh_session=;.*Max-Age=0/, 'the session cookie is cleared');

    assert.equal(await gatehouse.store.sessions.get(session.idHash, Date.now()), undefined, 'the session is deleted');
    // The next authorization needs a sign-in again.
    const next = await buildCodeRequest(web, { scope: 'openid profile' });
    assert.ok(isLoginPage(await ua.navigate(next.url.href)), 'the next authorization shows the login page');
  });

  it('§3: the post_logout_redirect_uri keeps its own query; state is added to it', async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(ua);
    const response = await ua.request(
      endSessionUrl(tokens, { post_logout_redirect_uri: 'http://127.0.0.1:9000/bye?from=gatehouse', state: 'xyz' }),
    );
    assert.equal(response.status, 303);
    assert.equal(response.location, 'http://127.0.0.1:9000/bye?from=gatehouse&state=xyz');
  });

  it('§2: the end_session_endpoint takes form POST too', async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(ua);
    const response = await ua.request('/logout', {
      form: { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SIGNED_OUT, state: 'posted' },
    });
    assert.equal(response.status, 303);
    assert.equal(response.location, `${SIGNED_OUT}?state=posted`);
    assert.equal(await sessionOf(ua), undefined);
  });

  it('§2: without post_logout_redirect_uri, the signed-out page is shown', async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(ua);
    const page = await ua.request(logoutUrl({ id_token_hint: tokens.id_token! }));
    assert.equal(page.status, 200);
    assert.match(page.body, /You are signed out/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(await sessionOf(ua), undefined);
  });

  it('§2 / §4: an expired id_token_hint is still accepted', async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(ua);
    const realNow = gatehouse.context.now;
    // Two hours later: the ID token (one hour) has expired, the session (eight hours) has not.
    gatehouse.context.now = () => realNow() + 2 * 3600_000;
    try {
      const response = await ua.request(endSessionUrl(tokens, { post_logout_redirect_uri: SIGNED_OUT }));
      assert.equal(response.status, 303);
      assert.equal(response.location, SIGNED_OUT);
    } finally {
      gatehouse.context.now = realNow;
    }
    assert.equal(await sessionOf(ua), undefined);
  });

  it('§3: an unregistered post_logout_redirect_uri gets an error page, never a redirect; the session stays', async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(ua);
    for (const uri of [
      'https://attacker.example/steal',
      `${SIGNED_OUT}/extra`,
      `${SIGNED_OUT}?x=1`,
      'http://127.0.0.1:9000/other-signed-out',
    ]) {
      const page = await ua.request(endSessionUrl(tokens, { post_logout_redirect_uri: uri, state: 's' }));
      assertErrorPage(page);
      assert.match(page.body, /not registered for this application/);
    }
    assert.ok(await sessionOf(ua), 'still signed in');
  });

  it('§2: an id_token_hint whose aud is not client_id gets an error page; the session stays', async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(ua);
    const page = await ua.request(
      logoutUrl({
        id_token_hint: tokens.id_token!,
        client_id: OTHER.client_id,
        post_logout_redirect_uri: OTHER.post_logout_redirect_uris![0]!,
      }),
    );
    assertErrorPage(page);
    assert.match(page.body, /not issued to the application named by client_id/);
    assert.ok(await sessionOf(ua), 'still signed in');
  });

  it('§2: an id_token_hint not signed by this server, or not an ID token, gets an error page', async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(ua);
    const [header, , signature] = tokens.id_token!.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...tokens.claims(), sub: 'mallory' })).toString('base64url')}.${signature}`;
    for (const hint of [forged, tokens.access_token, 'not-a-jwt']) {
      const page = await ua.request(logoutUrl({ id_token_hint: hint, post_logout_redirect_uri: SIGNED_OUT }));
      assertErrorPage(page);
      assert.match(page.body, /id_token_hint is not valid/);
    }
    assert.ok(await sessionOf(ua), 'still signed in');
  });

  it('§2: a post_logout_redirect_uri without client_id or id_token_hint gets an error page', async () => {
    const ua = new UserAgent(gatehouse.url);
    await signIn(ua);
    assertErrorPage(await ua.request(logoutUrl({ post_logout_redirect_uri: SIGNED_OUT })));
    assertErrorPage(await ua.request(logoutUrl({ client_id: 'no-such-client' })));
    assert.ok(await sessionOf(ua));
  });

  it("§2: a hint issued in another session needs confirmation (its sid is not this session's)", async () => {
    const alicesOtherBrowser = new UserAgent(gatehouse.url);
    const otherTokens = await signIn(alicesOtherBrowser);
    const ua = new UserAgent(gatehouse.url);
    await signIn(ua);
    const page = await ua.request(endSessionUrl(otherTokens, { post_logout_redirect_uri: SIGNED_OUT }));
    assertConfirmationPage(page);
    assert.ok(await sessionOf(ua), 'nothing ended yet');
    assert.ok(await sessionOf(alicesOtherBrowser), 'the other session is untouched');
  });

  it('§2: a logout_hint naming another user needs confirmation', async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(ua);
    const page = await ua.request(endSessionUrl(tokens, { logout_hint: 'bob' }));
    assertConfirmationPage(page);
    assert.ok(await sessionOf(ua));
  });

  it('§2: without a session, a valid request redirects at once', async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(ua);
    const stranger = new UserAgent(gatehouse.url);
    const response = await stranger.request(
      endSessionUrl(tokens, { post_logout_redirect_uri: SIGNED_OUT, state: 'a' }),
    );
    assert.equal(response.status, 303);
    assert.equal(response.location, `${SIGNED_OUT}?state=a`);
    assert.ok(await sessionOf(ua), 'the session of the browser that signed in is untouched');
  });
});

describe('RP-Initiated Logout without id_token_hint: confirmation', () => {
  it('§2, §6: no hint shows the confirmation page; confirming with its CSRF token signs out and redirects with state', async () => {
    const ua = new UserAgent(gatehouse.url);
    await signIn(ua);
    const page = await ua.request(
      logoutUrl({
        client_id: WEB.client_id,
        post_logout_redirect_uri: SIGNED_OUT,
        state: 'st8',
        ui_locales: 'fr en-GB',
      }),
    );
    assertConfirmationPage(page);
    assert.match(page.body, /<html lang="en-GB">/, '§2 ui_locales: the first supported language');
    assert.match(page.body, /Example Web App asked to sign you out/);
    assert.match(page.body, /Alice Example/);
    // form-action allows the redirect that answers the POST.
    assert.match(page.headers.get('content-security-policy') ?? '', /form-action 'self' http:\/\/127\.0\.0\.1:9000/);
    assert.ok(await sessionOf(ua), 'asking ends nothing');

    const response = await confirm(ua, page);
    assert.equal(response.status, 303);
    assert.equal(response.location, `${SIGNED_OUT}?state=st8`);
    assert.equal(await sessionOf(ua), undefined, 'signed out');
  });

  it('§2: a bare /logout asks, then shows the signed-out page', async () => {
    const ua = new UserAgent(gatehouse.url);
    await signIn(ua);
    const page = await ua.request('/logout?ui_locales=de');
    assertConfirmationPage(page);
    assert.match(page.body, /<html lang="en">/, 'no supported language asked for: English');
    assert.match(page.body, /Do you want to sign out\?/);
    const done = await confirm(ua, page, { ui_locales: 'en-US' });
    assert.equal(done.status, 200);
    assert.match(done.body, /You are signed out/);
    assert.match(done.body, /<html lang="en-US">/);
    assert.equal(await sessionOf(ua), undefined);
    const next = await buildCodeRequest(web, { scope: 'openid' });
    assert.ok(isLoginPage(await ua.navigate(next.url.href)));
  });

  it('§6: a wrong or missing CSRF token is refused with 403 and signs nobody out', async () => {
    const ua = new UserAgent(gatehouse.url);
    await signIn(ua);
    const page = await ua.request(logoutUrl({ client_id: WEB.client_id, post_logout_redirect_uri: SIGNED_OUT }));
    assertConfirmationPage(page);
    const token = hiddenInput(page.body, 'csrf_token')!;
    const [issued, mac] = token.split('.');
    const wrongMac = `${issued}.${mac!.startsWith('A') ? 'B' : 'A'}${mac!.slice(1)}`;
    assertErrorPage(await confirm(ua, page, { csrf_token: wrongMac }), 403);
    assertErrorPage(await confirm(ua, page, { csrf_token: 'garbage' }), 403);
    const fields = formPostFields(page.body);
    delete fields['csrf_token'];
    assertErrorPage(await ua.request('/logout/confirm', { form: fields }), 403);
    // The token covers the fields: it cannot be reused to send the browser elsewhere.
    assertErrorPage(
      await confirm(ua, page, { post_logout_redirect_uri: 'http://127.0.0.1:9000/bye?from=gatehouse' }),
      403,
    );
    assert.ok(await sessionOf(ua), 'still signed in');
  });

  it('§6: the confirmation is bound to the browser that was asked (another browser cookie gets 403)', async () => {
    const ua = new UserAgent(gatehouse.url);
    await signIn(ua);
    const page = await ua.request('/logout');
    assertConfirmationPage(page);
    const attacker = new UserAgent(gatehouse.url);
    attacker.setCookie('gh_browser', 'a'.repeat(43));
    attacker.setCookie('gh_session', ua.cookie('gh_session')!);
    assertErrorPage(await confirm(attacker, page), 403);
    assert.ok(await sessionOf(ua));
  });

  it('a browser without the binding cookie gets one with the confirmation page', async () => {
    const ua = new UserAgent(gatehouse.url);
    await signIn(ua);
    const fresh = new UserAgent(gatehouse.url);
    fresh.setCookie('gh_session', ua.cookie('gh_session')!);
    const page = await fresh.request('/logout');
    assertConfirmationPage(page);
    assert.ok(
      page.headers
        .getSetCookie()
        .some((cookie) => /^gh_browser=[A-Za-z0-9_-]{43};.*HttpOnly.*SameSite=Lax/.test(cookie)),
    );
    const done = await confirm(fresh, page);
    assert.equal(done.status, 200);
    assert.equal(await sessionOf(ua), undefined);
  });
});
