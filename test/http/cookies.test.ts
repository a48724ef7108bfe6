/**
 * Cookie names and attributes: `__Host-` prefixed names on an https issuer (RFC 6265bis
 * §4.1.3.2), plain names on a loopback http issuer, and the prefixed names read back.
 *
 * The https issuer is served as plain http on loopback (as behind a TLS-terminating proxy);
 * the scripted browser talks to the socket address, the issuer only names the cookies.
 *
 * Run: node --import tsx --test test/http/cookies.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BROWSER_COOKIE,
  SESSION_COOKIE,
  cookieName,
  parseCookies,
  readCookie,
  serializeCookie,
} from '../../src/http/cookies.js';
import { startGatehouse } from '../../src/server.js';
import { authorizeParams, authorizeUrl } from '../helpers/code-flow.js';
import { ALICE, CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import { proxiedIssuerSettings } from '../helpers/settings.js';
import { UserAgent } from '../helpers/user-agent.js';

/** An authorization request of the confidential client at `origin`, varied by `extra`. */
function authorizeAt(origin: string, extra: Record<string, string> = {}): string {
  return authorizeUrl(
    { url: origin },
    authorizeParams(CONFIDENTIAL_CLIENT, { scope: 'openid', state: undefined, ...extra }),
  );
}

/** Every Set-Cookie header the flow received, in order. */
function recordingAgent(origin: string): { ua: UserAgent; setCookies: string[] } {
  const ua = new UserAgent(origin);
  const setCookies: string[] = [];
  const request = ua.request.bind(ua);
  ua.request = async (url, init) => {
    const response = await request(url, init);
    setCookies.push(...response.headers.getSetCookie());
    return response;
  };
  return { ua, setCookies };
}

describe('cookies', () => {
  it('RFC 6265bis §4.1.3.2: on an https issuer every cookie is __Host- prefixed, Secure, Path=/ and without Domain; the prefixed session is read back', async () => {
    const gatehouse = await startGatehouse(proxiedIssuerSettings({ clients: [CONFIDENTIAL_CLIENT], users: [ALICE] }), {
      logger: false,
    });
    try {
      const origin = `http://127.0.0.1:${(gatehouse.app.server.address() as { port: number }).port}`;
      const { ua, setCookies } = recordingAgent(origin);
      const done = await ua.authorize(authorizeAt(origin), ALICE);
      assert.match(done.location ?? '', /[?&]code=/);
      const names = setCookies.map((cookie) => cookie.slice(0, cookie.indexOf('=')));
      assert.deepEqual([...new Set(names)].sort(), ['__Host-gh_browser', '__Host-gh_device', '__Host-gh_session']);
      for (const cookie of setCookies) {
        assert.match(cookie, /; Secure(;|$)/, cookie);
        assert.match(cookie, /; Path=\/(;|$)/, cookie);
        assert.doesNotMatch(cookie, /Domain=/i, cookie);
      }
      // The prefixed session cookie is the one read: prompt=none finds the session.
      const silent = await ua.navigate(authorizeAt(origin, { prompt: 'none' }));
      assert.match(silent.location ?? '', /[?&]code=/, silent.location ?? String(silent.status));
      // An unprefixed cookie (settable by any sibling host) is not read on https.
      const planted = new UserAgent(origin);
      planted.setCookie(SESSION_COOKIE, ua.cookie(`__Host-${SESSION_COOKIE}`)!);
      planted.setCookie(BROWSER_COOKIE, ua.cookie(`__Host-${BROWSER_COOKIE}`)!);
      const refused = await planted.navigate(authorizeAt(origin, { prompt: 'none' }));
      assert.match(refused.location ?? '', /[?&]error=login_required/);
    } finally {
      await gatehouse.close();
    }
  });

  it('RFC 6265 §4.1: a loopback http issuer keeps the plain names, without Secure (no __Host- prefix possible)', async () => {
    const gatehouse = await startTestServer();
    try {
      const { ua, setCookies } = recordingAgent(gatehouse.url);
      await ua.authorize(authorizeAt(gatehouse.url), ALICE);
      const names = setCookies.map((cookie) => cookie.slice(0, cookie.indexOf('=')));
      assert.deepEqual([...new Set(names)].sort(), ['gh_browser', 'gh_device', 'gh_session']);
      for (const cookie of setCookies) assert.doesNotMatch(cookie, /Secure/);
    } finally {
      await gatehouse.close();
    }
  });

  it('RFC 6265bis §4.1.3.2: every name goes through one rule, for setting and for reading', () => {
    assert.equal(cookieName('gh_device', true), '__Host-gh_device');
    assert.equal(cookieName('gh_device', false), 'gh_device');
    assert.match(
      serializeCookie('gh_device', 'abc', { secure: true, maxAgeSeconds: 5 }),
      /^__Host-gh_device=abc; Path=\/; .*Secure$/,
    );
    const cookies = parseCookies('gh_session=plain; __Host-gh_session=prefixed');
    assert.equal(readCookie(cookies, SESSION_COOKIE, true), 'prefixed');
    assert.equal(readCookie(cookies, SESSION_COOKIE, false), 'plain');
  });
});
