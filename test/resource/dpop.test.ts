/**
 * `gatehouse-resource` with DPoP-bound tokens from a running Gatehouse, RFC 9449 §7, in JWT and
 * introspection mode: a DPoP-bound refresh and resource call made by oauth4webapi (its DPoP
 * handle signs every proof), bound tokens refused as bearer tokens (§7.2), and each refusal of
 * the proof with its `WWW-Authenticate: DPoP` challenge (§7.1).
 *
 * Run: node --import tsx --test test/resource/dpop.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { accessTokenHash } from '../../src/core/dpop/dpop-proof-jwt.js';
import { createVerifier } from '../../src/resource/resource.js';
import type { ResourceVerifier } from '../../src/resource/types.js';
import { BearerError } from '../../src/resource/verifier.js';
import type { RunningGatehouse } from '../../src/server.js';
import { bearerError } from '../helpers/bearer-error.js';
import { MACHINE_CLIENT, startTestServer } from '../helpers/server.js';

const INTROSPECTOR = {
  ...MACHINE_CLIENT,
  client_id: 'notes-introspector',
  client_secret: 'notes-introspector-secret-0123456789',
};

describe('RFC 9449 §7: gatehouse-resource verifies DPoP-bound tokens', () => {
  let gatehouse: RunningGatehouse;
  let api: Server;
  let apiUrl: string;
  let verifier: ResourceVerifier;
  let introspecting: ResourceVerifier;
  let as: oauth.AuthorizationServer;
  const machine: oauth.Client = { client_id: MACHINE_CLIENT.client_id! };
  const auth = oauth.ClientSecretBasic(MACHINE_CLIENT.client_secret!);

  before(async () => {
    // The API listens first, so its URL (the resource indicator and the proofs' htu) is known.
    api = createServer();
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/notes`;
    gatehouse = await startTestServer({
      clients: [MACHINE_CLIENT, INTROSPECTOR],
      resources: [{ resource: apiUrl, scopes: ['api'], introspection_client_ids: [INTROSPECTOR.client_id] }],
    });
    verifier = createVerifier({ issuer: gatehouse.url, audience: apiUrl });
    introspecting = createVerifier({
      issuer: gatehouse.url,
      audience: apiUrl,
      mode: 'introspection',
      introspection: { clientId: INTROSPECTOR.client_id, clientSecret: INTROSPECTOR.client_secret },
    });
    // The API answers with the verified claims, or the verifier's error and challenge.
    api.on('request', (request, response) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers))
        if (typeof value === 'string') headers.set(name, value);
      const which = request.headers['x-mode'] === 'introspection' ? introspecting : verifier;
      which
        .verify(new Request(`http://${request.headers.host}${request.url}`, { method: request.method!, headers }), [
          'api',
        ])
        .then(
          (claims) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(claims)),
          (error: unknown) => {
            if (!(error instanceof BearerError)) return response.writeHead(500).end(String(error));
            response
              .writeHead(error.status, {
                'content-type': 'application/json',
                'www-authenticate': error.wwwAuthenticate,
              })
              .end(JSON.stringify(error.toJSON()));
          },
        );
    });
    const issuer = new URL(gatehouse.url);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }),
    );
  });
  after(async () => {
    await new Promise((resolve) => api.close(resolve));
    await gatehouse?.close();
  });

  async function boundToken(DPoP: oauth.DPoPHandle): Promise<string> {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      machine,
      auth,
      new URLSearchParams({ scope: 'api', resource: apiUrl }),
      { DPoP, [oauth.allowInsecureRequests]: true },
    );
    const result = await oauth.processClientCredentialsResponse(as, machine, response);
    assert.equal(result.token_type, 'dpop');
    return result.access_token;
  }

  for (const mode of ['jwt', 'introspection'] as const) {
    it(`RFC 9449 §7.1 (${mode} mode): oauth4webapi calls the API with its DPoP-bound token and proof`, async () => {
      const DPoP = oauth.DPoP(machine, await oauth.generateKeyPair('ES256'));
      const token = await boundToken(DPoP);
      const response = await oauth.protectedResourceRequest(
        token,
        'GET',
        new URL(apiUrl),
        new Headers({ 'x-mode': mode }),
        null,
        {
          DPoP,
          [oauth.allowInsecureRequests]: true,
        },
      );
      assert.equal(response.status, 200, await response.clone().text());
      const claims = (await response.json()) as { client_id: string; cnf: { jkt: string } };
      assert.equal(claims.client_id, MACHINE_CLIENT.client_id);
      assert.ok(claims.cnf.jkt);
    });
  }

  it('RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is 401 invalid_token with a DPoP challenge', async () => {
    const token = await boundToken(oauth.DPoP(machine, await oauth.generateKeyPair('ES256')));
    const error = await bearerError(
      verifier.verify(new Request(apiUrl, { headers: { authorization: `Bearer ${token}` } }), ['api']),
    );
    assert.equal(error.status, 401);
    assert.equal(error.error, 'invalid_token');
    assert.match(error.wwwAuthenticate, /^DPoP realm="[^"]+", algs="[^"]*ES256[^"]*", error="invalid_token"/);
  });

  it('RFC 9449 §7.2: verifyToken (no request, so no proof) refuses a DPoP-bound token', async () => {
    const token = await boundToken(oauth.DPoP(machine, await oauth.generateKeyPair('ES256')));
    assert.equal((await bearerError(verifier.verifyToken(token, ['api']))).error, 'invalid_token');
  });

  describe('RFC 9449 §7.1: a wrong proof is 401 invalid_dpop_proof with a DPoP challenge', () => {
    let token: string;
    let keys: CryptoKeyPair;
    before(async () => {
      keys = await oauth.generateKeyPair('ES256', { extractable: true });
      token = await boundToken(oauth.DPoP(machine, keys));
    });

    async function proofBy(pair: CryptoKeyPair, claims: Record<string, unknown> = {}): Promise<string> {
      return new SignJWT({
        jti: randomUUID(),
        htm: 'GET',
        htu: apiUrl,
        iat: Math.floor(Date.now() / 1000),
        ath: accessTokenHash(token),
        ...claims,
      })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(pair.publicKey) })
        .sign(pair.privateKey);
    }

    async function call(dpop: string | undefined) {
      const headers: Record<string, string> = { authorization: `DPoP ${token}` };
      if (dpop !== undefined) headers['dpop'] = dpop;
      return bearerError(verifier.verify(new Request(apiUrl, { headers }), ['api']));
    }

    const cases: Array<[string, () => Promise<string | undefined>, RegExp]> = [
      ['no proof', async () => undefined, /a DPoP proof is required/],
      ['a proof by another key', async () => proofBy(await generateKeyPair('ES256')), /another key/],
      ['a proof over another token (ath)', async () => proofBy(keys, { ath: accessTokenHash('other') }), /ath/],
      ['a proof for another URL (htu)', async () => proofBy(keys, { htu: `${apiUrl}/other` }), /htu/],
      ['a proof for another method (htm)', async () => proofBy(keys, { htm: 'POST' }), /htm/],
      ['an old proof (iat)', async () => proofBy(keys, { iat: Math.floor(Date.now() / 1000) - 600 }), /iat/],
    ];
    for (const [name, make, description] of cases) {
      it(`RFC 9449 §4.3, §7.1: ${name}`, async () => {
        const error = await call(await make());
        assert.equal(error.status, 401);
        assert.equal(error.error, 'invalid_dpop_proof');
        assert.match(error.description, description);
        assert.match(error.wwwAuthenticate, /^DPoP realm="[^"]+", algs="[^"]+", error="invalid_dpop_proof"/);
      });
    }

    it('RFC 9449 §11.1: the same proof twice: the second is refused', async () => {
      const dpop = await proofBy(keys);
      const headers = { authorization: `DPoP ${token}`, dpop };
      await verifier.verify(new Request(apiUrl, { headers }), ['api']);
      const error = await bearerError(verifier.verify(new Request(apiUrl, { headers }), ['api']));
      assert.match(error.description, /already used/);
    });
  });

  it('RFC 9449 §7.1: a bearer token with the DPoP scheme is 401 invalid_token', async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      machine,
      auth,
      new URLSearchParams({ scope: 'api', resource: apiUrl }),
      { [oauth.allowInsecureRequests]: true },
    );
    const { access_token: token } = await oauth.processClientCredentialsResponse(as, machine, response);
    const error = await bearerError(
      verifier.verify(new Request(apiUrl, { headers: { authorization: `DPoP ${token}` } }), ['api']),
    );
    assert.equal(error.error, 'invalid_token');
    assert.match(error.description, /not DPoP-bound/);
  });
});
