/**
 * The minimal relying party of docs/guides/web-app.md (examples/login-with-gatehouse.ts) works against
 * a running Gatehouse: discovery, PKCE, state, nonce, code exchange, ID token validation and
 * UserInfo, all done by openid-client.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { loginWithGatehouse } from '../../examples/login-with-gatehouse.js';
import { ALICE, CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

it('OpenID Connect Core §3.1: the relying-party snippet of docs/guides/web-app.md signs a user in and reads UserInfo', async () => {
  const gatehouse = await startTestServer();
  try {
    const ua = new UserAgent(gatehouse.url);
    const { claims, profile } = await loginWithGatehouse({
      issuer: gatehouse.url,
      clientId: CONFIDENTIAL_CLIENT.client_id,
      clientSecret: CONFIDENTIAL_CLIENT.client_secret!,
      redirectUri: CONFIDENTIAL_CLIENT.redirect_uris[0]!,
      browser: async (url) => new URL((await ua.authorize(url.href, ALICE)).location!),
    });
    assert.equal(claims.iss, gatehouse.url);
    assert.equal(profile.sub, claims.sub);
    assert.equal(profile.email, ALICE.email);
    assert.equal(profile.name, ALICE.name);
  } finally {
    await gatehouse.close();
  }
});
