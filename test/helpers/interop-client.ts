/**
 * openid-client (v6) as the real client of the token-lifecycle tests: discovery, the code flow
 * through the scripted browser, and assertions on the errors it raises. The configuration
 * records the last HTTP response of every endpoint, so tests can check headers
 * (`Cache-Control: no-store`) of responses openid-client consumed.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import * as client from 'openid-client';
import { decodeJwt, type JWTPayload } from 'jose';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { storedTokenKey } from '../../src/core/secrets.js';
import type { Grant, RefreshTokenRecord } from '../../src/store/store.js';
import { assertErrorDescription, assertNoStore } from './code-flow.js';
import { postgresSkipMessage } from './postgres.js';
import { ALICE, startTestServer, type StoreTarget, type TestServerOptions } from './server.js';
import { UserAgent, type PageResponse } from './user-agent.js';

export type TokenSet = Awaited<ReturnType<typeof client.authorizationCodeGrant>>;

export interface InteropClient {
  config: client.Configuration;
  fixture: ClientFixture;
  /** The last response openid-client received from `path` (e.g. `/token`); its body is consumed. */
  lastResponse(path: string): Response;
}

/** Discovers `gatehouse` (OpenID Connect Discovery 1.0 §4) as the fixture's client, with its authentication method. */
export function discoverAs(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  fixture: ClientFixture,
  /** The authentication method, when the fixture's cannot be derived from it (private_key_jwt needs the private key). */
  clientAuth?: client.ClientAuth,
): Promise<client.Configuration> {
  const secret = fixture.client_secret ?? '';
  const method = fixture.token_endpoint_auth_method;
  const auth =
    clientAuth ??
    (method === 'none'
      ? client.None()
      : method === 'client_secret_post'
        ? client.ClientSecretPost(secret)
        : method === 'client_secret_jwt'
          ? client.ClientSecretJwt(secret)
          : client.ClientSecretBasic(secret));
  return client.discovery(new URL(gatehouse.url), fixture.client_id, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
}

/** An authorization request with PKCE S256 (RFC 7636), state and nonce, built by openid-client. */
export async function authorizationRequest(
  config: client.Configuration,
  redirectUri: string,
  scope: string,
  extra: Record<string, string> = {},
) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** Discovers `gatehouse` and configures openid-client with the fixture's authentication method. */
export async function interopClient(
  gatehouse: RunningGatehouse,
  fixture: ClientFixture,
  clientAuth?: client.ClientAuth,
): Promise<InteropClient> {
  const config = await discoverAs(gatehouse, fixture, clientAuth);
  const responses = new Map<string, Response>();
  config[client.customFetch] = async (url, options) => {
    const response = await fetch(url, options as RequestInit);
    responses.set(new URL(url).pathname, response);
    return response;
  };
  return {
    config,
    fixture,
    lastResponse(path) {
      const response = responses.get(path);
      assert.ok(response, `openid-client made no request to ${path}`);
      return response;
    },
  };
}

export interface CodeFlowOptions {
  scope: string;
  /** RFC 8707 resources of the authorization request. */
  resource?: string[];
  /** Extra token request parameters (e.g. `resource`), as openid-client sends them. */
  tokenParams?: URLSearchParams;
  redirectUri?: string;
  ua?: UserAgent;
  /** RFC 9449: the token request carries a DPoP proof of this handle's key. */
  dpop?: client.DPoPHandle;
}

/** The authorization URL of a code flow with PKCE (and a nonce when the scope has `openid`). */
export async function buildCodeRequest(ic: InteropClient, options: CodeFlowOptions) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = options.scope.split(' ').includes('openid') ? client.randomNonce() : undefined;
  const params = new URLSearchParams({
    redirect_uri: options.redirectUri ?? ic.fixture.redirect_uris[0]!,
    scope: options.scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  if (nonce !== undefined) params.set('nonce', nonce);
  for (const resource of options.resource ?? []) params.append('resource', resource);
  return { url: client.buildAuthorizationUrl(ic.config, params), verifier, state, nonce };
}

/** Runs the authorization code flow: login and consent as ALICE, then the code exchange. */
export async function codeFlow(
  gatehouse: RunningGatehouse,
  ic: InteropClient,
  options: CodeFlowOptions,
): Promise<TokenSet> {
  const request = await buildCodeRequest(ic, options);
  const ua = options.ua ?? new UserAgent(gatehouse.url);
  const final: PageResponse = await ua.authorize(request.url.href, ALICE);
  assert.equal(
    final.status,
    303,
    `expected a redirect to the client, got ${final.status}: ${final.body.slice(0, 300)}`,
  );
  return client.authorizationCodeGrant(
    ic.config,
    new URL(final.location!),
    { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce },
    options.tokenParams,
    options.dpop ? { DPoP: options.dpop } : {},
  );
}

/**
 * Awaits an openid-client call that must fail with an OAuth error response: exact HTTP status,
 * exact `error` code, `Cache-Control: no-store`. Returns the error body.
 */
export async function assertOAuthError(
  promise: Promise<unknown>,
  status: number,
  error: string,
): Promise<Record<string, unknown>> {
  let caught: unknown;
  try {
    await promise;
  } catch (thrown) {
    caught = thrown;
  }
  assert.ok(caught !== undefined, `expected ${status} ${error}, but the request succeeded`);
  let response: Response;
  let body: Record<string, unknown>;
  if (caught instanceof client.ResponseBodyError) {
    response = caught.response;
    body = caught.cause;
  } else if (caught instanceof client.WWWAuthenticateChallengeError) {
    // A 401 with a challenge (RFC 6749 §5.2); openid-client leaves the body unread.
    response = caught.response;
    body = (await response.json()) as Record<string, unknown>;
    assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="[^"]+"/);
  } else {
    throw caught;
  }
  assert.equal(response.status, status, `expected ${status} ${error}, got ${response.status} ${JSON.stringify(body)}`);
  assert.equal(body['error'], error, JSON.stringify(body));
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assertNoStore(response);
  assertErrorDescription(body['error_description']);
  return body;
}

export function decodeAccessToken(token: string): JWTPayload & { scope?: string; client_id?: string } {
  return decodeJwt(token) as JWTPayload & { scope?: string; client_id?: string };
}

/** The stored record of a refresh token (looked up by hash, as the server does). */
export async function refreshRecord(gatehouse: RunningGatehouse, refreshToken: string): Promise<RefreshTokenRecord> {
  const record = await gatehouse.store.refreshTokens.get(storedTokenKey(refreshToken));
  assert.ok(record, 'the refresh token is stored');
  return record;
}

/** The grant (the refresh token family) a refresh token belongs to. */
export async function grantOf(gatehouse: RunningGatehouse, refreshToken: string): Promise<Grant> {
  const grant = await gatehouse.store.grants.get((await refreshRecord(gatehouse, refreshToken)).grantId);
  assert.ok(grant, 'the grant is stored');
  return grant;
}

interface ServerOnTarget {
  gatehouse: RunningGatehouse;
  databaseUrl: string;
  stop(): Promise<void>;
}

/** A Gatehouse on `target`; PostgreSQL must really run (no silent skip). */
export async function startServerOn(target: StoreTarget, options: TestServerOptions = {}): Promise<ServerOnTarget> {
  const databaseUrl = await target.url();
  if (databaseUrl === undefined) throw new Error(postgresSkipMessage());
  return startServerAt(target, databaseUrl, options);
}

/**
 * A Gatehouse on `target` for the tests of the enclosing suite: started before them (then
 * `ready` gets it), stopped after them. Without the target's database (PostgreSQL outside CI)
 * nothing starts, and `skipped(t)` skips each test with the reason.
 */
export function suiteServerOn(
  target: StoreTarget,
  options: TestServerOptions,
  ready: (gatehouse: RunningGatehouse) => Promise<void>,
): { skipped(t: { skip(message: string): void }): boolean } {
  let started: ServerOnTarget | undefined;
  let skipReason: string | undefined;
  before(async () => {
    const databaseUrl = await target.url();
    if (databaseUrl === undefined) {
      skipReason = postgresSkipMessage();
      return;
    }
    started = await startServerAt(target, databaseUrl, options);
    await ready(started.gatehouse);
  });
  after(async () => {
    await started?.stop();
  });
  return {
    skipped(t) {
      if (skipReason === undefined) return false;
      t.skip(skipReason);
      return true;
    },
  };
}

async function startServerAt(
  target: StoreTarget,
  databaseUrl: string,
  options: TestServerOptions,
): Promise<ServerOnTarget> {
  const gatehouse = await startTestServer({ ...options, databaseUrl });
  assert.equal(gatehouse.store.dialect, target.name);
  return {
    gatehouse,
    databaseUrl,
    async stop() {
      await gatehouse.close();
      await target.cleanup(databaseUrl);
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
