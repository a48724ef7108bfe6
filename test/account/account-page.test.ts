/**
 * The End-User's account page, `/account`, over HTTP against a running Gatehouse on SQLite and
 * PostgreSQL, with openid-client as the applications: signing in to the page, the applications
 * listed and taken back (RFC 7009 §2.1: the refresh token then fails, and Back-Channel Logout 1.0
 * tells the application), the browsers signed in and signing them out, the password change
 * under the brute-force limits, and the CSRF defence of every form.
 *
 * Run: node scripts/run-tests.mjs test/account/account-page
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { postgresSkipMessage } from '../helpers/postgres.js';
import { assertOAuthError, codeFlow, interopClient, sleep } from '../helpers/interop-client.js';
import { ALICE, CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, startTestServer, STORE_TARGETS } from '../helpers/server.js';
import {
  decodeEntities,
  hiddenInput,
  isConsentPage,
  isLoginPage,
  UserAgent,
  type PageResponse,
} from '../helpers/user-agent.js';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';

/** A client's back-channel logout endpoint: records the logout tokens POSTed to it. */
class LogoutReceiver {
  readonly tokens: string[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token');
        if (token) this.tokens.push(token);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/logout`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((done) => this.server.close(done));
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A browser with its own User-Agent header. */
function browser(gatehouse: RunningGatehouse, userAgent: string): UserAgent {
  const ua = new UserAgent(gatehouse.url);
  ua.extraHeaders['user-agent'] = userAgent;
  return ua;
}

/** Signs `ua` in on the account page and returns the page. */
async function signInToAccount(ua: UserAgent, password = ALICE.password): Promise<PageResponse> {
  const login = await ua.navigate('/account');
  assert.equal(login.status, 200);
  assert.ok(isLoginPage(login), 'the account page asks a signed-out browser to sign in');
  return ua.submit(login, { username: ALICE.username, password });
}

/** The fields of the form on `page` whose action ends with `action` and that holds `marker`. */
function formFields(
  page: PageResponse,
  action: string,
  marker = '',
): { action: string; fields: Record<string, string> } {
  const forms = page.body.match(/<form[\s\S]*?<\/form>/g) ?? [];
  const form = forms.find((found) => found.includes(`${action}"`) && found.includes(marker));
  assert.ok(form, `no form for ${action} ${marker} on the page:\n${page.body}`);
  const fields: Record<string, string> = {};
  for (const [, name, value] of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[name!] = decodeEntities(value!);
  }
  return { action: decodeEntities(/action="([^"]+)"/.exec(form)![1]!), fields };
}

async function post(
  ua: UserAgent,
  page: PageResponse,
  action: string,
  marker: string,
  extra: Record<string, string> = {},
): Promise<PageResponse> {
  const form = formFields(page, action, marker);
  const answer = await ua.request(form.action, { form: { ...form.fields, ...extra } });
  assert.equal(answer.status, 303, `${action}: ${answer.status} ${answer.body.slice(0, 300)}`);
  return ua.navigate(answer.location!);
}

for (const target of STORE_TARGETS) {
  describe(`the account page (${target.name})`, () => {
    const receiver = new LogoutReceiver();
    let gatehouse: RunningGatehouse | undefined;
    let rp: ClientFixture;
    let url: string | undefined;

    before(async () => {
      await receiver.start();
      url = await target.url();
      if (!url) return;
      rp = {
        ...CONFIDENTIAL_CLIENT,
        backchannel_logout_uri: receiver.url,
        backchannel_logout_session_required: false,
      };
      gatehouse = await startTestServer({
        databaseUrl: url,
        clients: [rp, PUBLIC_CLIENT],
        // The receiver is on 127.0.0.1, which outbound requests refuse unless allowed.
        settings: { outboundAllowPrivateAddresses: true },
      });
    });
    after(async () => {
      await gatehouse?.close();
      await receiver.stop();
      if (url) await target.cleanup(url);
    });

    it('a signed-out browser gets the sign-in form; a wrong password says so; signing in shows the account', async (t) => {
      if (!gatehouse) return t.skip(postgresSkipMessage());
      const ua = browser(gatehouse, FIREFOX);
      const login = await ua.navigate('/account');
      assert.ok(isLoginPage(login));
      assert.equal(login.headers.get('cache-control'), 'no-store');
      assert.match(login.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      const failed = await ua.submit(login, { username: ALICE.username, password: 'not the password' });
      assert.ok(isLoginPage(failed));
      assert.match(failed.body, /Incorrect username or password/);
      const page = await ua.submit(failed, { username: ALICE.username, password: ALICE.password });
      assert.equal(page.status, 200);
      assert.match(page.body, /<h1>Your account<\/h1>/);
      assert.match(page.body, /Alice Example/);
      assert.match(page.body, /Firefox on Windows<\/strong><span class="tag">This browser/);
    });

    it('RFC 7009 §2.1: removing an application revokes its refresh token and access token, asks for consent again and sends a back-channel logout', async (t) => {
      if (!gatehouse) return t.skip(postgresSkipMessage());
      const ua = browser(gatehouse, FIREFOX);
      const app = await interopClient(gatehouse, rp);
      const tokens = await codeFlow(gatehouse, app, { scope: 'openid profile offline_access', ua });
      assert.ok(tokens.refresh_token);
      const sub = tokens.claims()!.sub;

      let page = await ua.navigate('/account');
      assert.match(page.body, /Example Web App/);
      assert.match(page.body, /Stay connected when you are not using the app/);
      assert.match(page.body, /last used <time datetime="/);

      const tokensBefore = receiver.tokens.length;
      page = await post(ua, page, '/account/apps/revoke', `value="${rp.client_id}"`);
      assert.match(page.body, /Access removed/);
      assert.doesNotMatch(page.body, /Example Web App/);

      // RFC 6749 §10.4 / RFC 7009 §2.1: the refresh token is refused, the access token inactive.
      await assertOAuthError(client.refreshTokenGrant(app.config, tokens.refresh_token!), 400, 'invalid_grant');
      const introspected = await client.tokenIntrospection(app.config, tokens.access_token);
      assert.equal(introspected.active, false);

      // Back-Channel Logout 1.0 §2.4: sub without sid, "all sessions of the End-User" at the RP.
      await until(() => receiver.tokens.length > tokensBefore, 'the logout token');
      const logoutClaims = decodeJwt(receiver.tokens.at(-1)!);
      assert.equal(logoutClaims.sub, sub);
      assert.equal(logoutClaims.aud, rp.client_id);
      assert.equal(logoutClaims.sid, undefined);

      // OIDC Core §3.1.2.4: the consent is gone, so the next authorization asks again.
      const request = new URL(`${gatehouse.url}/authorize`);
      for (const [name, value] of Object.entries({
        response_type: 'code',
        client_id: rp.client_id,
        redirect_uri: rp.redirect_uris[0]!,
        scope: 'openid',
        state: 'again',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }))
        request.searchParams.set(name, value);
      const consent = await ua.navigate(request.href);
      assert.ok(isConsentPage(consent), 'consent is asked again');
      assert.match(consent.body, /href="\/account"/, 'the consent page links to the account page');
    });

    it('lists every browser signed in, signs one out, then every one ("sign out everywhere")', async (t) => {
      if (!gatehouse) return t.skip(postgresSkipMessage());
      const laptop = browser(gatehouse, FIREFOX);
      const phone = browser(gatehouse, SAFARI_IPHONE);
      await signInToAccount(phone);
      let page = await signInToAccount(laptop);
      assert.match(page.body, /Safari on iOS/);
      const phoneSid = formFields(page, '/account/sessions/sign-out', 'Safari on iOS').fields.sid;
      assert.ok(phoneSid);

      page = await post(laptop, page, '/account/sessions/sign-out', `value="${phoneSid}"`);
      assert.match(page.body, /That browser was signed out/);
      assert.doesNotMatch(page.body, /Safari on iOS/);
      assert.ok(isLoginPage(await phone.navigate('/account')), 'the phone is signed out');

      await signInToAccount(phone);
      page = await laptop.navigate('/account');
      const signedOut = await post(laptop, page, '/account/sessions/sign-out-all', '');
      assert.ok(isLoginPage(signedOut), 'this browser is signed out too');
      assert.ok(isLoginPage(await phone.navigate('/account')), 'and every other one');
    });

    it('NIST SP 800-63B §6.1.2.3: the password change needs the current password, checks the new one, and signs the other browsers out', async (t) => {
      if (!gatehouse) return t.skip(postgresSkipMessage());
      const laptop = browser(gatehouse, FIREFOX);
      const phone = browser(gatehouse, SAFARI_IPHONE);
      await signInToAccount(phone);
      const page = await signInToAccount(laptop);
      const change = async (fields: Record<string, string>) => {
        const form = formFields(await laptop.navigate('/account'), '/account/password');
        return laptop.request(form.action, { form: { ...form.fields, sign_out_others: '1', ...fields } });
      };
      const newPassword = 'a new and longer passphrase';

      let refused = await change({
        current_password: 'wrong',
        new_password: newPassword,
        confirm_password: newPassword,
      });
      assert.equal(refused.status, 400);
      assert.match(refused.body, /The current password is not correct/);
      assert.match(refused.body, /id="current_password"[^>]*aria-invalid="true"/);
      refused = await change({ current_password: ALICE.password, new_password: 'short', confirm_password: 'short' });
      assert.equal(refused.status, 400);
      assert.match(refused.body, /at least 8/);
      assert.match(refused.body, /id="new_password"[^>]*aria-invalid="true"/);
      refused = await change({
        current_password: ALICE.password,
        new_password: newPassword,
        confirm_password: `${newPassword}!`,
      });
      assert.equal(refused.status, 400);
      assert.match(refused.body, /not the same/);
      assert.doesNotMatch(refused.body, new RegExp(newPassword), 'passwords are never shown again');
      assert.ok(page);

      const changed = await change({
        current_password: ALICE.password,
        new_password: newPassword,
        confirm_password: newPassword,
      });
      assert.equal(changed.status, 303);
      const after = await laptop.navigate(changed.location!);
      assert.match(after.body, /Your password was changed, and your other browsers were signed out/);
      assert.ok(isLoginPage(await phone.navigate('/account')), 'the other browser is signed out');

      // The old password no longer signs in; the new one does. Then it is put back.
      const fresh = browser(gatehouse, FIREFOX);
      assert.ok(isLoginPage(await signInToAccount(fresh)));
      const signedIn = await signInToAccount(fresh, newPassword);
      assert.match(signedIn.body, /Your account/);
      const form = formFields(signedIn, '/account/password');
      const back = await fresh.request(form.action, {
        form: {
          ...form.fields,
          current_password: newPassword,
          new_password: ALICE.password,
          confirm_password: ALICE.password,
        },
      });
      assert.equal(back.status, 303);
    });

    it('RFC 6585 §4: wrong current passwords count against the sign-in limits: 429 with Retry-After', async (t) => {
      if (!gatehouse) return t.skip(postgresSkipMessage());
      const ua = browser(gatehouse, FIREFOX);
      await signInToAccount(ua);
      let last: PageResponse | undefined;
      for (let attempt = 0; attempt < 12; attempt++) {
        const form = formFields(await ua.navigate('/account'), '/account/password');
        last = await ua.request(form.action, {
          form: {
            ...form.fields,
            current_password: `guess ${attempt}`,
            new_password: 'long enough guess',
            confirm_password: 'long enough guess',
          },
        });
        if (last.status === 429) break;
        assert.equal(last.status, 400);
      }
      assert.equal(last?.status, 429, 'the limit was reached');
      assert.match(last!.headers.get('retry-after') ?? '', /^\d+$/);
      assert.match(last!.body, /Too many attempts/);
    });

    it("CSRF: a form POST without the page token, or with another browser's, is refused with 403 and changes nothing", async (t) => {
      if (!gatehouse) return t.skip(postgresSkipMessage());
      const alice = browser(gatehouse, FIREFOX);
      const page = await signInToAccount(alice);
      const everywhere = formFields(page, '/account/sessions/sign-out-all');
      const without = await alice.request(everywhere.action, { method: 'POST', form: {} });
      assert.equal(without.status, 403);
      const attacker = browser(gatehouse, FIREFOX);
      await attacker.navigate('/account');
      const stolen = hiddenInput(page.body, 'csrf_token')!;
      const forged = await alice.request(everywhere.action, { form: { csrf_token: `${stolen}x` } });
      assert.equal(forged.status, 403);
      const attackerAnswer = await attacker.request(everywhere.action, { form: { csrf_token: stolen } });
      assert.equal(attackerAnswer.status, 303, 'a signed-out browser is sent to sign in');
      assert.match((await alice.navigate('/account')).body, /Your account/, 'still signed in');
    });
  });
}

describe('the account page, not signed in', () => {
  it('every action of a signed-out browser is sent to the sign-in form, and ?done= shows only fixed texts', async () => {
    const gatehouse = await startTestServer();
    try {
      const ua = new UserAgent(gatehouse.url);
      for (const path of [
        '/account/apps/revoke',
        '/account/sessions/sign-out',
        '/account/sessions/sign-out-all',
        '/account/password',
      ]) {
        const answer = await ua.request(path, { form: { csrf_token: 'x' } });
        assert.equal(answer.status, 303, path);
        assert.equal(answer.location, '/account');
      }
      const page = await signInToAccount(ua);
      assert.ok(page);
      const spoofed = await ua.navigate('/account?done=%3Cscript%3Ealert(1)%3C%2Fscript%3E');
      assert.doesNotMatch(spoofed.body, /<script>|alert\(1\)/);
      const home = await ua.navigate('/');
      assert.match(home.body, /href="\/account"/, 'the home page links to the account page');
    } finally {
      await gatehouse.close();
    }
  });
});
