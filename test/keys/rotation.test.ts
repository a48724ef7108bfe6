/**
 * Signing key rotation (OpenID Connect Core §10.1.1, RFC 7517): a new key is published before it
 * signs, tokens signed by the previous key keep validating, a retired key stays in the JWKS while
 * its tokens may live and leaves it afterwards, and every instance on one database follows.
 *
 * Run: node --import tsx --test test/keys/rotation.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader } from 'jose';
import { rotateSigningKey } from '../../src/core/keys/key-lifecycle.js';
import { createVerifier, type ResourceVerifier } from '../../src/resource/resource.js';
import type { RunningGatehouse } from '../../src/server.js';
import { basicAuthorization } from '../helpers/code-flow.js';
import { codeFlow, interopClient, sleep, type InteropClient } from '../helpers/interop-client.js';
import { dropPostgresSchema, postgresSkipMessage, postgresTestUrl } from '../helpers/postgres.js';
import { openStore } from '../../src/store/open-store.js';
import { CONFIDENTIAL_CLIENT, TEST_SECRET, startTestServer, type TestServerOptions } from '../helpers/server.js';
import { KeyManagementError } from '../../src/core/errors.js';
import { bearerError } from '../helpers/bearer-error.js';

const API = 'https://notes.api.example/';
// ES256 ID tokens (registered; the default is RS256), so that ID tokens follow the ES256 key rotated here, as access tokens do.
const WEB = {
  ...CONFIDENTIAL_CLIENT,
  scope: `${CONFIDENTIAL_CLIENT.scope} notes:read`,
  id_token_signed_response_alg: 'ES256' as const,
};
const SERVER: TestServerOptions = {
  clients: [WEB],
  resources: [{ resource: API, scopes: ['notes:read'], introspection_client_ids: [] }],
};

const kidOf = (jwt: string): string => {
  const { kid } = decodeProtectedHeader(jwt);
  assert.equal(typeof kid, 'string');
  return kid as string;
};

async function jwksKids(gatehouse: RunningGatehouse): Promise<string[]> {
  const response = await fetch(`${gatehouse.url}/jwks`);
  assert.equal(response.status, 200);
  const { keys } = (await response.json()) as { keys: Array<{ kid: string }> };
  return keys.map((key) => key.kid);
}

/** An access token (and ID token) for API, from a full code flow through openid-client. */
async function tokensFrom(
  gatehouse: RunningGatehouse,
  web: InteropClient,
): Promise<{ accessToken: string; idToken: string }> {
  const tokens = await codeFlow(gatehouse, web, { scope: 'openid notes:read', resource: [API] });
  assert.ok(tokens.id_token);
  return { accessToken: tokens.access_token, idToken: tokens.id_token };
}

/** RFC 7662 introspection at `gatehouse`, as the client the token was issued to. */
async function introspect(gatehouse: RunningGatehouse, token: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${gatehouse.url}/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basicAuthorization(WEB.client_id, WEB.client_secret!),
    },
    body: new URLSearchParams({ token }).toString(),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, unknown>;
}

/** A verifier of the resource module that counts its JWKS requests. */
function countingVerifier(
  gatehouse: RunningGatehouse,
  options: { jwksCooldownSeconds?: number; clockToleranceSeconds?: number } = {},
) {
  const counter = { jwks: 0 };
  const verifier: ResourceVerifier = createVerifier({
    issuer: gatehouse.url,
    audience: API,
    ...options,
    fetch: async (input, init) => {
      if (String(input instanceof Request ? input.url : input).endsWith('/jwks')) counter.jwks += 1;
      return fetch(input, init);
    },
  });
  return { verifier, counter };
}

/** Polls `condition` until it holds (the instances reload their keys on a timer). */
async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe('key rotation on one instance', () => {
  let gatehouse: RunningGatehouse;
  let web: InteropClient;

  before(async () => {
    gatehouse = await startTestServer(SERVER);
    web = await interopClient(gatehouse, WEB);
  });
  after(() => gatehouse.close());

  it('a pending key (activate-after 3600 s) is published in /jwks at once but does not sign', async () => {
    const keys = gatehouse.context.keys;
    const signing = keys.active().kid;
    const pending = await keys.rotate('ES256', 3600);
    assert.ok((await jwksKids(gatehouse)).includes(pending.kid), 'published before it signs');
    assert.ok((await jwksKids(gatehouse)).includes(signing));
    const tokens = await tokensFrom(gatehouse, web);
    assert.equal(kidOf(tokens.accessToken), signing, 'access tokens are still signed by the active key');
    assert.equal(kidOf(tokens.idToken), signing, 'ID tokens too');
    assert.equal(keys.states().find((entry) => entry.record.kid === pending.kid)?.state, 'pending');
    // Once its time has come, it signs.
    assert.equal(keys.active(pending.activatesAt).kid, pending.kid);
    assert.equal(keys.active(pending.activatesAt - 1).kid, signing);
    // Clean up for the next test: retire the pending key (the active one remains).
    await keys.retire(pending.kid);
  });

  it('rotate with activate-after 0: new tokens carry the new kid; tokens signed before still validate at a resource server', async () => {
    const keys = gatehouse.context.keys;
    const { verifier, counter } = countingVerifier(gatehouse, { jwksCooldownSeconds: 0 });
    const before = await tokensFrom(gatehouse, web);
    const oldKid = kidOf(before.accessToken);
    await verifier.verifyToken(before.accessToken, ['notes:read']);
    assert.equal(counter.jwks, 1);

    const rotated = await keys.rotate('ES256', 0);
    assert.notEqual(rotated.kid, oldKid);
    const afterRotation = await tokensFrom(gatehouse, web);
    assert.equal(kidOf(afterRotation.accessToken), rotated.kid, 'access tokens are signed by the new key');
    assert.equal(kidOf(afterRotation.idToken), rotated.kid, 'ID tokens are signed by the new key');

    // The resource server has only the old key cached: the unknown kid makes it fetch the JWKS again.
    assert.equal((await verifier.verifyToken(afterRotation.accessToken, ['notes:read'])).client_id, WEB.client_id);
    assert.equal(counter.jwks, 2);
    // The previous key keeps validating the tokens it signed, from the refreshed JWKS.
    await verifier.verifyToken(before.accessToken, ['notes:read']);
    assert.equal(counter.jwks, 2);
    assert.ok((await jwksKids(gatehouse)).includes(oldKid));
    assert.equal(keys.states().find((entry) => entry.record.kid === oldKid)?.state, 'previous');
    // Gatehouse itself still recognises both (introspection, revocation).
    assert.equal((await introspect(gatehouse, before.accessToken))['active'], true);
    assert.equal((await introspect(gatehouse, afterRotation.accessToken))['active'], true);
  });

  it('refuses to retire the only active key of the default algorithm', async () => {
    const keys = gatehouse.context.keys;
    const active = keys.active();
    // Previous keys could take over: retire them first.
    for (const { record, state } of keys.states())
      if (record.alg === 'ES256' && state === 'previous') await keys.retire(record.kid);
    await assert.rejects(keys.retire(active.kid), (error: unknown) => {
      assert.ok(error instanceof KeyManagementError);
      assert.match(error.message, /only active ES256 signing key/);
      return true;
    });
    assert.equal(keys.active().kid, active.kid);
    // The RS256 key (ID tokens on request) is protected the same way.
    await assert.rejects(keys.retire(keys.active(Date.now(), 'RS256').kid), KeyManagementError);
  });
});

describe('retiring a key', () => {
  const TTL_SECONDS = 2;
  const RELOAD_MS = 300;
  let gatehouse: RunningGatehouse;
  let web: InteropClient;

  before(async () => {
    gatehouse = await startTestServer({
      ...SERVER,
      settings: { accessTokenTtlSeconds: TTL_SECONDS },
      keyReloadIntervalMs: RELOAD_MS,
    });
    web = await interopClient(gatehouse, WEB);
  });
  after(() => gatehouse.close());

  it('the retired key stops signing, stays in the JWKS while its tokens may live, and is gone after', async () => {
    const keys = gatehouse.context.keys;
    const old = await tokensFrom(gatehouse, web);
    const oldKid = kidOf(old.accessToken);
    const rotated = await keys.rotate('ES256', 0);
    const retired = await keys.retire(oldKid);
    assert.ok(retired.retiredAt !== null);
    assert.equal(keys.active().kid, rotated.kid);

    // Still published, and a resource server that never saw it can still validate the old token.
    assert.ok((await jwksKids(gatehouse)).includes(oldKid));
    assert.equal(keys.states().find((entry) => entry.record.kid === oldKid)?.state, 'retired');
    await countingVerifier(gatehouse, { clockToleranceSeconds: 0 }).verifier.verifyToken(old.accessToken, [
      'notes:read',
    ]);
    assert.equal(kidOf((await tokensFrom(gatehouse, web)).accessToken), rotated.kid, 'a retired key never signs');

    // Every token it signed has expired after the token lifetime (exp rounded up to the second), plus one reload interval.
    const retention = (TTL_SECONDS + 1) * 1000 + RELOAD_MS;
    // Until then it stays published, while tokens it signed may still be alive.
    await sleep(retired.retiredAt + retention - 200 - Date.now());
    assert.ok((await jwksKids(gatehouse)).includes(oldKid), 'still published just before the end');
    await sleep(retired.retiredAt + retention + 50 - Date.now());
    assert.ok(!(await jwksKids(gatehouse)).includes(oldKid), 'gone from the JWKS');
    assert.ok((await jwksKids(gatehouse)).includes(rotated.kid));
    assert.equal(keys.states().find((entry) => entry.record.kid === oldKid)?.state, 'expired');
    const error = await bearerError(
      countingVerifier(gatehouse, { clockToleranceSeconds: 0 }).verifier.verifyToken(old.accessToken),
    );
    assert.equal(error.error, 'invalid_token');
  });
});

describe('several instances on one PostgreSQL database', () => {
  const RELOAD_MS = 200;
  let databaseUrl: string | undefined;
  let a: RunningGatehouse | undefined;
  let b: RunningGatehouse | undefined;

  before(async () => {
    databaseUrl = await postgresTestUrl();
    if (databaseUrl === undefined) return;
    a = await startTestServer({ ...SERVER, databaseUrl, keyReloadIntervalMs: RELOAD_MS });
    b = await startTestServer({ ...SERVER, databaseUrl, keyReloadIntervalMs: RELOAD_MS });
    assert.equal(a.store.dialect, 'postgres');
  });
  after(async () => {
    await a?.close();
    await b?.close();
    if (databaseUrl !== undefined) await dropPostgresSchema(databaseUrl);
  });

  it('a key rotated in by the CLI (through the store) is picked up by every instance; a retirement too', async (t) => {
    if (a === undefined || b === undefined) return t.skip(postgresSkipMessage());
    const webA = await interopClient(a, WEB);
    const webB = await interopClient(b, WEB);
    const initial = a.context.keys.active().kid;
    assert.equal(b.context.keys.active().kid, initial, 'the second instance uses the key the first one created');

    // What `gatehouse keys rotate --activate-after 0` does: no running instance is told.
    const rotated = await rotateSigningKey(a.store, TEST_SECRET, { alg: 'ES256', activateAfterSeconds: 0 });
    for (const instance of [a, b])
      await eventually('the instance reloaded', () => instance.context.keys.publicKeyFor(rotated.kid) !== undefined);
    for (const [instance, web] of [
      [a, webA],
      [b, webB],
    ] as const) {
      assert.ok((await jwksKids(instance)).includes(rotated.kid), 'published by every instance');
      assert.ok((await jwksKids(instance)).includes(initial), 'the previous key stays published');
      const tokens = await tokensFrom(instance, web);
      assert.equal(kidOf(tokens.accessToken), rotated.kid, 'every instance signs with the new key');
      assert.equal(kidOf(tokens.idToken), rotated.kid);
    }

    // `gatehouse keys retire` through the store: the instances see it at their next reload.
    await a.store.signingKeys.retire(initial, Date.now());
    for (const instance of [a, b]) {
      await eventually(
        'the instance saw the retirement',
        () => instance.context.keys.states().find((entry) => entry.record.kid === initial)?.state === 'retired',
      );
      assert.ok(
        (await jwksKids(instance)).includes(initial),
        'the retired key is still published (default 1 h tokens)',
      );
    }
  });

  it('a token signed by a key another instance just created is recognised at once (reload on unknown kid)', async (t) => {
    if (a === undefined || b === undefined) return t.skip(postgresSkipMessage());
    // An instance with the default 30 s reload interval that does not LISTEN for the other
    // instances' key changes (as if a notification were lost): only the unknown kid can make it
    // reload now. (Notifications themselves are tested in test/scale/change-notifications.test.ts.)
    const cStore = await openStore(databaseUrl!, { listen: false });
    const c = await startTestServer({ ...SERVER, databaseUrl, store: cStore });
    // Instances behind one load balancer share one issuer.
    c.context.settings.issuer = a.context.settings.issuer;
    try {
      const webA = await interopClient(a, WEB);
      const rotated = await a.context.keys.rotate('ES256', 0);
      const tokens = await tokensFrom(a, webA);
      assert.equal(kidOf(tokens.accessToken), rotated.kid);
      assert.equal(c.context.keys.publicKeyFor(rotated.kid), undefined, 'c has not loaded the new key yet');
      assert.equal(
        (await introspect(c, tokens.accessToken))['active'],
        true,
        'c reloaded its keys for the unknown kid',
      );
      assert.ok(c.context.keys.publicKeyFor(rotated.kid));
      assert.ok((await jwksKids(c)).includes(rotated.kid));
    } finally {
      await c.close();
      await cStore.close();
    }
  });
});
