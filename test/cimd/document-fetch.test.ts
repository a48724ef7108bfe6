/**
 * Fetching and validating Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document)
 * against a local https server with a self-signed certificate, trusted through the fetch's `ca`
 * option: the client identifier URL rules (§3), the document rules (§4), and the SSRF rules of
 * §6 (https only, no redirects, size and time limits, JSON only, no loopback address unless
 * allowed), each refused with a clear reason and no connection left open.
 *
 * Run: node scripts/run-tests.mjs test/cimd/document-fetch
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { fetchClientMetadataDocument, isClientIdUrl } from '../../src/core/clients/client-metadata-document.js';
import { ClientMetadataDocumentUnavailable } from '../../src/core/errors.js';
import { DocumentServer } from '../helpers/document-server.js';
import { TEST_DOCUMENT_SETTINGS, eventually, metadataDocument } from '../helpers/metadata-documents.js';

const NOW = 1_900_000_000_000;
let documents: DocumentServer;

before(async () => {
  documents = await DocumentServer.start();
});
after(async () => {
  await documents.close();
});

function fetchDocument(url: string, settings = TEST_DOCUMENT_SETTINGS) {
  return fetchClientMetadataDocument(url, settings, NOW, { ca: documents.ca });
}

/** The fetch of `url` is refused with a reason matching `reason`, and leaves no connection open. */
async function assertRefused(url: string, reason: RegExp, settings = TEST_DOCUMENT_SETTINGS): Promise<void> {
  await assert.rejects(fetchDocument(url, settings), (error: unknown) => {
    assert.ok(error instanceof ClientMetadataDocumentUnavailable, String(error));
    assert.equal(error.error, 'invalid_client');
    assert.match(error.description, reason);
    return true;
  });
  await eventually(() => documents.openConnections === 0, 'the refused fetch left a connection open');
}

describe('draft-ietf-oauth-client-id-metadata-document §3: client identifier URLs', () => {
  it('§3: an https URL with a path is a client identifier URL, also with a port and a query', () => {
    for (const url of ['https://app.example.com/client.json', 'https://app.example.com:8443/oauth/client?v=2']) {
      assert.equal(isClientIdUrl(url), true, url);
    }
  });

  it('§3: refuses http, no path, a fragment, user information, dot segments, non-normalised forms and more than 255 characters', () => {
    for (const url of [
      'http://app.example.com/client.json',
      'https://app.example.com',
      'https://app.example.com/',
      'https://app.example.com/client.json#frag',
      'https://user:pass@app.example.com/client.json',
      'https://app.example.com/a/../client.json',
      'https://app.example.com/./client.json',
      'https://APP.example.com/client.json',
      'https://app.example.com:443/client.json',
      `https://app.example.com/${'a'.repeat(250)}`,
      'my-client',
    ]) {
      assert.equal(isClientIdUrl(url), false, url);
    }
  });
});

describe('draft-ietf-oauth-client-id-metadata-document §4: the document', () => {
  it('§4: a valid document becomes a public client that must use PKCE, marked as a metadata document client', async () => {
    const url = documents.serve('/valid.json', (request) => ({ body: metadataDocument(documents.url(request.url!)) }));
    const { client, freshUntil } = await fetchDocument(url);
    assert.equal(client.clientId, url);
    assert.equal(client.metadataDocument, true);
    assert.equal(client.tokenEndpointAuthMethod, 'none');
    assert.equal(client.clientSecretHash, null);
    assert.equal(client.requirePkce, true);
    assert.deepEqual(client.redirectUris, ['http://127.0.0.1:9000/cimd-callback']);
    // No Cache-Control: kept the minimum lifetime.
    assert.equal(freshUntil, NOW + TEST_DOCUMENT_SETTINGS.minCacheSeconds * 1000);
  });

  it('§4.1: Cache-Control max-age sets the lifetime, clamped to min_cache_seconds and max_cache_seconds', async () => {
    const cases: Array<[string, number]> = [
      ['max-age=600', 600_000],
      ['max-age=5', TEST_DOCUMENT_SETTINGS.minCacheSeconds * 1000],
      ['public, max-age=99999999', TEST_DOCUMENT_SETTINGS.maxCacheSeconds * 1000],
      ['no-store', TEST_DOCUMENT_SETTINGS.minCacheSeconds * 1000],
    ];
    for (const [cacheControl, lifetime] of cases) {
      const path = `/cache-${lifetime}-${cacheControl.length}.json`;
      const url = documents.serve(path, { headers: { 'cache-control': cacheControl }, body: {} });
      documents.serve(path, { headers: { 'cache-control': cacheControl }, body: metadataDocument(url) });
      assert.equal((await fetchDocument(url)).freshUntil, NOW + lifetime, cacheControl);
    }
  });

  it('§4.1: refuses a document whose client_id is not exactly the URL it was fetched from', async () => {
    const url = documents.url('/mismatch.json');
    documents.serve('/mismatch.json', { body: metadataDocument(`${url}?other`) });
    await assertRefused(url, /names the client_id 'https:\/\/127\.0\.0\.1:\d+\/mismatch\.json\?other', not the URL/);
  });

  it('§4.1: refuses shared secrets: client_secret in the document, or a secret-based token_endpoint_auth_method', async () => {
    const url = documents.url('/secret.json');
    documents.serve('/secret.json', { body: metadataDocument(url, { client_secret: 'shh-this-is-public-now' }) });
    await assertRefused(url, /contains client_secret/);
    for (const method of ['client_secret_basic', 'client_secret_jwt', undefined]) {
      documents.serve('/secret.json', { body: metadataDocument(url, { token_endpoint_auth_method: method }) });
      await assertRefused(url, /token_endpoint_auth_method .*uses none \(with PKCE\) or private_key_jwt/);
    }
  });

  it('§4: redirect URIs are checked as at registration: RFC 6749 §3.1.2 refuses a fragment, RFC 9700 §2.1 plain http off loopback', async () => {
    const url = documents.url('/redirects.json');
    documents.serve('/redirects.json', {
      body: metadataDocument(url, { redirect_uris: ['https://app.example/cb#x'] }),
    });
    await assertRefused(url, /must not include a fragment/);
    documents.serve('/redirects.json', { body: metadataDocument(url, { redirect_uris: ['http://app.example/cb'] }) });
    await assertRefused(url, /uses http on a non-loopback host/);
  });

  it('§4: only the code flow and refresh: refuses client_credentials', async () => {
    const url = documents.url('/machine.json');
    documents.serve('/machine.json', { body: metadataDocument(url, { grant_types: ['client_credentials'] }) });
    await assertRefused(url, /grant type 'client_credentials'/);
  });

  it('§4: refuses a document that is not a JSON object, or an answer that is not 200', async () => {
    const url = documents.serve('/array.json', { body: [1, 2] });
    await assertRefused(url, /is not a JSON object/);
    await assertRefused(documents.url('/missing.json'), /answered HTTP 404, not 200/);
  });
});

describe('draft-ietf-oauth-client-id-metadata-document §6: the fetch is SSRF-safe', () => {
  it('§6: a redirect is not followed', async () => {
    const target = documents.serve('/target.json', { body: {} });
    const url = documents.serve('/redirect.json', { status: 302, headers: { location: target } });
    await assertRefused(url, /redirects are not followed/);
    assert.equal(documents.requests('/target.json'), 0);
  });

  it('§6: a body over max_response_bytes (5 KiB by default) is refused', async () => {
    const url = documents.url('/big.json');
    documents.serve('/big.json', { body: metadataDocument(url, { client_name: 'x'.repeat(6000) }) });
    await assertRefused(url, /over the limit of 5120 bytes/);
  });

  it('§6: a slow body is cut off at timeout_ms and its connection closed', async () => {
    const url = documents.serve('/slow.json', { body: { padding: 'x'.repeat(100) }, stall: true });
    const started = Date.now();
    await assertRefused(url, /no complete response within 1500 ms/);
    assert.ok(Date.now() - started < 3000);
  });

  it('§6: a server that accepts the connection but never completes TLS is cut off at connect_timeout_ms', async () => {
    const sockets = new Set<Socket>();
    const silent = createNetServer((socket) => {
      sockets.add(socket);
      // Read (and ignore) the TLS ClientHello: a paused socket would never see the client's end.
      socket.resume();
      socket.on('close', () => sockets.delete(socket));
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}/client.json`;
      const started = Date.now();
      await assert.rejects(
        fetchDocument(url, { ...TEST_DOCUMENT_SETTINGS, connectTimeoutMs: 200 }),
        /could not be fetched \(timeout\): no connection within 200 ms/,
      );
      assert.ok(Date.now() - started < TEST_DOCUMENT_SETTINGS.timeoutMs, 'before the total time limit');
      await eventually(() => sockets.size === 0, 'the timed-out connection was closed');
    } finally {
      silent.close();
    }
  });

  it('§6: only application/json is accepted', async () => {
    const url = documents.serve('/html.json', { headers: { 'content-type': 'text/html' }, body: '<html></html>' });
    await assertRefused(url, /has the content type 'text\/html', not application\/json/);
  });

  it('§6: a loopback address is refused without allow_private_addresses, before any request is sent', async () => {
    const url = documents.url('/private.json');
    documents.serve('/private.json', { body: metadataDocument(url) });
    await assertRefused(url, /could not be fetched \(refused\): address 127\.0\.0\.1 is loopback/, {
      ...TEST_DOCUMENT_SETTINGS,
      allowPrivateAddresses: false,
    });
    assert.equal(documents.requests('/private.json'), 0);
  });

  it('§6: a certificate the fetch does not trust is refused', async () => {
    const url = documents.url('/valid.json');
    await assert.rejects(fetchClientMetadataDocument(url, TEST_DOCUMENT_SETTINGS, NOW), /could not be fetched/);
  });
});
