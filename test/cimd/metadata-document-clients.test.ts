/**
 * Clients identified by a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document)
 * end to end, on SQLite and PostgreSQL: discovery, a full code flow with openid-client as a
 * public client (PKCE) and as a private_key_jwt client with the document's keys, refresh,
 * revocation, PAR, the consent page, the cache lifetime on the server's clock, and the errors of
 * a document that cannot be fetched: an error page at /authorize, an explanatory
 * invalid_client at the token endpoint, and an audit event.
 *
 * Run: node scripts/run-tests.mjs test/cimd/metadata-document-clients
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { exportJWK, generateKeyPair } from 'jose';
import type { TimedEvent } from '../../src/core/events.js';
import type { RunningGatehouse } from '../../src/server.js';
import { assertErrorPage } from '../helpers/authorization-pages.js';
import { assertNoStore, authorizeParams, authorizeUrl, postToken } from '../helpers/code-flow.js';
import { DocumentServer } from '../helpers/document-server.js';
import { codeFlow, decodeAccessToken, interopClient, assertOAuthError } from '../helpers/interop-client.js';
import { TEST_DOCUMENT_SETTINGS, documentClientFixture, metadataDocument } from '../helpers/metadata-documents.js';
import { pushAuthorizationRequest } from '../helpers/par.js';
import { postgresSkipMessage } from '../helpers/postgres.js';
import { ALICE, CONFIDENTIAL_CLIENT, STORE_TARGETS, startTestServer } from '../helpers/server.js';
import { UserAgent, isConsentPage } from '../helpers/user-agent.js';

for (const target of STORE_TARGETS) {
  describe(`draft-ietf-oauth-client-id-metadata-document: URL client_ids (${target.name})`, () => {
    let documents: DocumentServer;
    let gatehouse: RunningGatehouse | undefined;
    let databaseUrl: string | undefined;
    // The server's clock starts at the real time (client assertions are checked against it) and is moved by the cache tests.
    const clock = { now: Date.now() };
    const events: TimedEvent[] = [];

    before(async () => {
      documents = await DocumentServer.start();
      databaseUrl = await target.url();
      if (databaseUrl === undefined) return;
      gatehouse = await startTestServer({
        databaseUrl,
        clients: [CONFIDENTIAL_CLIENT],
        settings: { clientMetadataDocuments: TEST_DOCUMENT_SETTINGS },
        outboundCa: documents.ca,
        audit: { flushIntervalMs: 10 },
      });
      gatehouse.context.now = () => clock.now;
      gatehouse.context.events.onAny((event) => events.push(event));
    });
    after(async () => {
      await gatehouse?.close();
      if (databaseUrl !== undefined) await target.cleanup(databaseUrl);
      await documents.close();
    });

    /** The running server, or a skip when the target's database is missing (PostgreSQL outside CI). */
    function server(t: TestContext): RunningGatehouse | undefined {
      if (!gatehouse) t.skip(postgresSkipMessage());
      return gatehouse;
    }

    /** Serves a public client's document at `path` and returns its URL (the client_id). */
    function serveDocument(path: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
      const url = documents.url(path);
      documents.serve(path, { headers, body: metadataDocument(url, extra) });
      return url;
    }

    it('draft §5: discovery says client_id_metadata_document_supported', async (t) => {
      const gh = server(t);
      if (!gh) return;
      const metadata = (await (await fetch(`${gh.url}/.well-known/oauth-authorization-server`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(metadata['client_id_metadata_document_supported'], true);
    });

    it('draft §4, RFC 7636: a public URL client runs the code flow with PKCE, refreshes, and revokes (openid-client)', async (t) => {
      const gh = server(t);
      if (!gh) return;
      const url = serveDocument('/clients/public.json');
      const ic = await interopClient(gh, documentClientFixture(url));
      const tokens = await codeFlow(gh, ic, { scope: 'openid profile offline_access' });
      assert.equal(decodeAccessToken(tokens.access_token).client_id, url);
      assert.equal(tokens.claims()?.aud, url);
      const refreshed = await client.refreshTokenGrant(ic.config, tokens.refresh_token!);
      assert.ok(refreshed.access_token);
      await client.tokenRevocation(ic.config, refreshed.refresh_token!);
      await assertOAuthError(client.refreshTokenGrant(ic.config, refreshed.refresh_token!), 400, 'invalid_grant');
      // The client's row exists for its tokens' references, marked as a document's client.
      assert.equal((await gh.store.clients.get(url))?.metadataDocument, true);
    });

    it('draft §4, RFC 7523 §2.2: a private_key_jwt URL client authenticates with a key of its document', async (t) => {
      const gh = server(t);
      if (!gh) return;
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'document-key', alg: 'ES256', use: 'sig' };
      const url = serveDocument('/clients/keyed.json', {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
      });
      const fixture = { ...documentClientFixture(url), token_endpoint_auth_method: 'private_key_jwt' as const };
      const ic = await interopClient(gh, fixture, client.PrivateKeyJwt({ key: privateKey, kid: 'document-key' }));
      const tokens = await codeFlow(gh, ic, { scope: 'openid offline_access' });
      assert.equal(decodeAccessToken(tokens.access_token).client_id, url);
      assert.ok((await client.refreshTokenGrant(ic.config, tokens.refresh_token!)).access_token);
      // Without the assertion it is refused: the document's method is the only one.
      const response = await postToken(gh, {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token!,
        client_id: url,
      });
      assert.equal(response.status, 400, response.text);
      assert.equal(response.body['error'], 'invalid_client');
    });

    it('RFC 9126 §2: a public URL client pushes its authorization request', async (t) => {
      const gh = server(t);
      if (!gh) return;
      const url = serveDocument('/clients/pushed.json');
      const response = await pushAuthorizationRequest(gh, authorizeParams(documentClientFixture(url)));
      assert.equal(response.status, 201, response.text);
      assertNoStore(response);
    });

    it('draft §6.3: the consent page names the client by its URL host and marks it unverified', async (t) => {
      const gh = server(t);
      if (!gh) return;
      const url = serveDocument('/clients/consent.json', { client_name: 'Totally The Bank' });
      const ua = new UserAgent(gh.url);
      const login = await ua.navigate(authorizeUrl(gh, authorizeParams(documentClientFixture(url))));
      const consent = await ua.submit(login, { username: ALICE.username, password: ALICE.password });
      assert.ok(isConsentPage(consent), consent.body.slice(0, 300));
      assert.match(consent.body, /<h1>127\.0\.0\.1:\d+ wants to access your account<\/h1>/);
      assert.match(consent.body, /Unverified application/);
      assert.doesNotMatch(consent.body, /Totally The Bank/);
      assert.doesNotMatch(consent.body, /<img/);
    });

    it('draft §4.1: the document is fetched again after its Cache-Control max-age, on the server clock, and not before', async (t) => {
      const gh = server(t);
      if (!gh) return;
      const path = '/clients/cached.json';
      const url = serveDocument(path, {}, { 'cache-control': 'max-age=600' });
      const authorize = () =>
        fetch(authorizeUrl(gh, authorizeParams(documentClientFixture(url))), { redirect: 'manual' });
      assert.equal((await authorize()).status, 303);
      assert.equal(documents.requests(path), 1);
      clock.now += 590_000;
      assert.equal((await authorize()).status, 303);
      assert.equal(documents.requests(path), 1, 'fresh for max-age');
      clock.now += 20_000;
      assert.equal((await authorize()).status, 303);
      assert.equal(documents.requests(path), 2, 'fetched again after max-age');
    });

    it('draft §4.1: when refetching fails, the earlier copy is used until max_cache_seconds and never after (audit event each time)', async (t) => {
      const gh = server(t);
      if (!gh) return;
      const path = '/clients/flaky.json';
      const url = serveDocument(path, {}, { 'cache-control': 'max-age=60' });
      const ic = await interopClient(gh, documentClientFixture(url));
      const tokens = await codeFlow(gh, ic, { scope: 'openid offline_access' });
      documents.serve(path, { status: 500, body: 'down' });
      clock.now += 120_000;
      const refreshed = await client.refreshTokenGrant(ic.config, tokens.refresh_token!);
      const stale = events.find((event) => event.type === 'client_metadata_document.failed' && event.clientId === url);
      assert.deepEqual(stale && { ...stale, at: 0 }, {
        type: 'client_metadata_document.failed',
        clientId: url,
        reason: 'the client metadata document at the client_id URL answered HTTP 500, not 200',
        stale: true,
        at: 0,
      });
      clock.now += TEST_DOCUMENT_SETTINGS.maxCacheSeconds * 1000;
      const body = await assertOAuthError(
        client.refreshTokenGrant(ic.config, refreshed.refresh_token!),
        400,
        'invalid_client',
      );
      assert.equal(
        body['error_description'],
        'the client metadata document at the client_id URL answered HTTP 500, not 200',
      );
      assert.ok(events.some((event) => event.type === 'client_metadata_document.failed' && !event.stale));
    });

    it('RFC 6749 §4.1.2.1: a document that cannot be fetched is an error page at /authorize, never a redirect, and an audit entry', async (t) => {
      const gh = server(t);
      if (!gh) return;
      const url = documents.url('/clients/missing.json');
      const ua = new UserAgent(gh.url);
      const page = await ua.navigate(authorizeUrl(gh, authorizeParams(documentClientFixture(url))));
      assertErrorPage(page, 400, 'Application unavailable', url, 'answered HTTP 404, not 200');
      await gh.audit.flush();
      const entries = await gh.store.audit.list({
        types: ['client_metadata_document.failed'],
        clientId: url,
        limit: 10,
      });
      assert.ok(entries.some((entry) => entry.clientId === url));
    });

    it('RFC 6749 §5.2: a document that cannot be fetched is invalid_client at the token endpoint, saying why', async (t) => {
      const gh = server(t);
      if (!gh) return;
      const url = documents.serve('/clients/html.json', { headers: { 'content-type': 'text/html' }, body: '<p>' });
      const response = await postToken(gh, { grant_type: 'authorization_code', code: 'x', client_id: url });
      assert.equal(response.status, 400, response.text);
      assertNoStore(response);
      assert.equal(response.body['error'], 'invalid_client');
      assert.equal(
        response.body['error_description'],
        "the client metadata document at the client_id URL has the content type 'text/html', not application/json",
      );
    });
  });
}

describe('client_metadata_documents.enabled: false (the default)', () => {
  let gatehouse: RunningGatehouse;
  let documents: DocumentServer;
  before(async () => {
    documents = await DocumentServer.start();
    gatehouse = await startTestServer({ outboundCa: documents.ca });
  });
  after(async () => {
    await gatehouse.close();
    await documents.close();
  });

  it('a URL client_id is an unknown client, nothing is fetched, and discovery does not announce the feature', async () => {
    const path = '/clients/off.json';
    const url = documents.url(path);
    documents.serve(path, { body: metadataDocument(url) });
    const page = await new UserAgent(gatehouse.url).navigate(
      authorizeUrl(gatehouse, authorizeParams(documentClientFixture(url))),
    );
    assertErrorPage(page, 400, 'Unknown application');
    assert.equal(documents.requests(path), 0);
    const metadata = (await (await fetch(`${gatehouse.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(metadata['client_id_metadata_document_supported'], undefined);
  });
});
