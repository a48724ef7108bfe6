/**
 * CORS: browser-based clients may call discovery, /jwks, /token and /revoke from any origin
 * (no ambient credentials are involved); the authorization endpoint and the pages never answer
 * with CORS headers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import { startTestServer } from '../helpers/server.js';
import { preflight } from '../helpers/http-cors.js';

describe('CORS', () => {
  let gatehouse: RunningGatehouse;
  before(async () => {
    gatehouse = await startTestServer();
  });
  after(() => gatehouse.close());

  for (const path of ['/token', '/revoke']) {
    it(`a preflight for POST ${path} from another origin is allowed, without credentials`, async () => {
      const response = await preflight(gatehouse.url + path, 'http://localhost:9000', 'POST', 'content-type');
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      assert.match(response.headers.get('access-control-allow-methods')!, /POST/);
      assert.match(response.headers.get('access-control-allow-headers')!, /Content-Type/i);
      assert.equal(response.headers.get('access-control-allow-credentials'), null);
    });
  }

  it('token endpoint errors carry Access-Control-Allow-Origin so the SPA can read them', async () => {
    const response = await fetch(`${gatehouse.url}/token`, {
      method: 'POST',
      headers: { origin: 'http://localhost:9000', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&client_id=spa&code=nope',
    });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
  });

  it('discovery and the JWKS are readable cross-origin', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/jwks']) {
      const response = await fetch(gatehouse.url + path, { headers: { origin: 'http://localhost:9000' } });
      assert.equal(response.headers.get('access-control-allow-origin'), '*', path);
    }
  });

  it('the authorization endpoint and the interaction pages never send CORS headers', async () => {
    const authorize = await fetch(`${gatehouse.url}/authorize?client_id=web-app&response_type=code`, {
      headers: { origin: 'http://evil.example' },
      redirect: 'manual',
    });
    assert.equal(authorize.headers.get('access-control-allow-origin'), null);
    const asked = await preflight(`${gatehouse.url}/authorize`, 'http://evil.example', 'POST');
    assert.equal(asked.headers.get('access-control-allow-origin'), null);
  });
});
