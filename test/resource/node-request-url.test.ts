/**
 * The Node adapters of gatehouse-resource (protectExpress, protectFastify) hand the verifier the
 * URL the client called: `https` on a TLS connection, the Host header and the path (Express:
 * `originalUrl`). So the DPoP `htu` check (RFC 9449 §4.3 check 9) compares with the real request
 * URL, or, with `dpop.origin`, with the externally visible origin the verifier is configured
 * with and the request's path; and a report to the flow inspector (reportTo) names the real
 * path, which the Resource lane draws.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { accessTokenHash } from '../../src/core/dpop/dpop-proof-jwt.js';
import { createVerifier, protectExpress, webRequestFromNode } from '../../src/resource/resource.js';
import type { ResourceVerifier } from '../../src/resource/types.js';
import type { RunningGatehouse } from '../../src/server.js';
import { dpopProof, type ProofKey, proofKey } from '../helpers/dpop-proofs.js';
import { MACHINE_CLIENT, startTestServer } from '../helpers/server.js';

const RESOURCE = 'https://api.example.com/';

describe('webRequestFromNode: the URL the client called', () => {
  const base = { method: 'GET', headers: { host: 'api.example.com:8443' } };

  it('http, the Host header, the path and query', () => {
    const request = webRequestFromNode({ ...base, url: '/api/notes?page=2' });
    assert.equal(request.url, 'http://api.example.com:8443/api/notes?page=2');
  });

  it('https on a TLS connection', () => {
    const request = webRequestFromNode({ ...base, url: '/api/notes', socket: { encrypted: true } });
    assert.equal(request.url, 'https://api.example.com:8443/api/notes');
  });

  it('Express: originalUrl, before the mount path was stripped from url', () => {
    const request = webRequestFromNode({ ...base, url: '/notes', originalUrl: '/api/notes' });
    assert.equal(request.url, 'http://api.example.com:8443/api/notes');
  });

  it('a missing or malformed Host names no host; a path never changes the host', () => {
    assert.equal(webRequestFromNode({ method: 'GET', url: '/x', headers: {} }).url, 'http://resource.invalid/x');
    for (const host of ['evil.example@api.example.com', 'a b', 'api.example.com/x', ''])
      assert.equal(
        webRequestFromNode({ method: 'GET', url: '/x', headers: { host } }).url,
        'http://resource.invalid/x',
      );
    assert.equal(
      webRequestFromNode({ ...base, url: '//evil.example/x' }).url,
      'http://api.example.com:8443//evil.example/x',
    );
    assert.equal(webRequestFromNode({ ...base, url: 'http://evil.example/x' }).url, 'http://api.example.com:8443/');
  });

  it('RFC 9449 §4.1: the DPoP header reaches the verifier', () => {
    const request = webRequestFromNode({ ...base, url: '/', headers: { ...base.headers, dpop: 'proof' } });
    assert.equal(request.headers.get('dpop'), 'proof');
  });
});

describe('protectExpress with DPoP-bound tokens (RFC 9449 §4.3, §7.1) and the inspector’s Resource lane', () => {
  let gatehouse: RunningGatehouse;
  let api: Server;
  let apiOrigin = '';
  const reports: Array<Promise<unknown>> = [];
  /** The verifier the API uses for the next requests. */
  let verifier: ResourceVerifier;

  before(async () => {
    gatehouse = await startTestServer({
      clients: [MACHINE_CLIENT],
      resources: [{ resource: RESOURCE, scopes: ['api'], introspection_client_ids: [] }],
      settings: { inspector: { ...DEFAULT_SETTINGS.inspector, enabled: true } },
    });
    api = createServer((request: IncomingMessage, response: ServerResponse) => {
      protectExpress(verifier, ['api'])(request, response, (error?: unknown) => {
        if (error !== undefined) return response.writeHead(500).end(String(error));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"notes":[]}');
      });
    });
    await new Promise<void>((done) => api.listen(0, '127.0.0.1', done));
    apiOrigin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  after(async () => {
    api.closeAllConnections();
    await new Promise((done) => api.close(done));
    await gatehouse?.close();
  });

  const keepReports: typeof fetch = (input, init) => {
    const response = fetch(input, init);
    reports.push(response.catch(() => undefined));
    return response;
  };

  function verifierWith(options: { origin?: string } = {}): ResourceVerifier {
    return createVerifier({
      issuer: gatehouse.url,
      audience: RESOURCE,
      reportTo: `${gatehouse.url}/_gatehouse/resource-events`,
      fetch: keepReports,
      ...(options.origin !== undefined ? { dpop: { origin: options.origin } } : {}),
    });
  }

  /** A DPoP-bound access token of the machine client (client credentials, a proof of `key`). */
  async function boundToken(key: ProofKey): Promise<string> {
    const response = await fetch(`${gatehouse.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${MACHINE_CLIENT.client_id}:${MACHINE_CLIENT.client_secret}`).toString('base64')}`,
        dpop: await dpopProof(`${gatehouse.url}/token`, key),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource: RESOURCE }).toString(),
    });
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body['token_type'], 'DPoP');
    return body['access_token'] as string;
  }

  async function callApi(token: string, key: ProofKey, htu: string) {
    const response = await fetch(`${apiOrigin}/api/notes?page=2`, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await dpopProof(htu, key, { ath: accessTokenHash(token) }, {}, 'GET'),
      },
    });
    return {
      status: response.status,
      body: await response.text(),
      challenge: response.headers.get('www-authenticate'),
    };
  }

  it('htu is the URL the client called: accepted; a proof for another host is refused', async () => {
    verifier = verifierWith();
    const key = await proofKey();
    const token = await boundToken(key);
    const accepted = await callApi(token, key, `${apiOrigin}/api/notes`);
    assert.equal(accepted.status, 200, accepted.body);
    const elsewhere = await callApi(token, key, 'http://other.example/api/notes');
    assert.equal(elsewhere.status, 401);
    assert.match(elsewhere.challenge ?? '', /^DPoP .*error="invalid_dpop_proof"/);
    assert.match(elsewhere.body, /htu must be http:\/\/127\.0\.0\.1:\d+\/api\/notes/);
  });

  it('dpop.origin: htu is the configured external origin with the request’s path, not the Host the API saw', async () => {
    verifier = verifierWith({ origin: 'https://api.example.com' });
    const key = await proofKey();
    const token = await boundToken(key);
    const accepted = await callApi(token, key, 'https://api.example.com/api/notes');
    assert.equal(accepted.status, 200, accepted.body);
    const internal = await callApi(token, key, `${apiOrigin}/api/notes`);
    assert.equal(internal.status, 401);
    assert.match(internal.body, /htu must be https:\/\/api\.example\.com\/api\/notes/);
    assert.throws(
      () => createVerifier({ issuer: gatehouse.url, audience: RESOURCE, dpop: { origin: 'api.example.com' } }),
      /dpop\.origin/,
    );
  });

  it('the report to the inspector names the real path; the Resource lane draws GET /api/notes', async () => {
    verifier = verifierWith();
    const key = await proofKey();
    const token = await boundToken(key);
    assert.equal((await callApi(token, key, `${apiOrigin}/api/notes`)).status, 200);
    await Promise.all(reports);
    const inspector = gatehouse.context.inspector!;
    await inspector.flush();
    const [flow] = await inspector.recent({ clientId: MACHINE_CLIENT.client_id, limit: 1 });
    assert.ok(flow);
    const steps = await inspector.flow(flow.flowId);
    const resourceSteps = steps.filter((step) => step.request.to === 'resource');
    assert.ok(resourceSteps.length > 0, 'the resource reported to the token’s flow');
    for (const step of resourceSteps)
      assert.match(step.request.title, /^GET \/api\/notes \(https:\/\/api\.example\.com\/\)$/);
    const page = await (await fetch(`${gatehouse.url}/_gatehouse/flows/${flow.flowId}`)).text();
    assert.match(
      page,
      /data-channel="back" data-from="client" data-to="resource" data-kind="request"><span class="channel">back channel<\/span>Client → Resource: GET \/api\/notes \(https:\/\/api\.example\.com\/\)/,
    );
    assert.ok(!page.includes(token), 'the access token appears in the page');
  });
});
