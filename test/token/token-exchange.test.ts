/**
 * Token exchange, RFC 8693, driven by openid-client (`genericGrantRequest`) against a running
 * Gatehouse on SQLite and on PostgreSQL: an agent exchanges a user's access token for one at
 * another registered resource, narrowed, naming itself in `act` (§4.1); the policy of which
 * client may exchange for which resource (`token_exchange_resources`); every refusal of §2.2.2
 * with its status, `error` and `Cache-Control: no-store`; and revocation of the user's grant
 * reaching what was exchanged from it.
 *
 * Run: node --import tsx --test test/token/token-exchange.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { ClientFixture, ResourceFixture } from '../../src/config/settings.js';
import { registerClient } from '../../src/core/registration/client-registration.js';
import type { RunningGatehouse } from '../../src/server.js';
import { CONFIDENTIAL_CLIENT, MACHINE_CLIENT, STORE_TARGETS } from '../helpers/server.js';
import { assertNoStore, postToken } from '../helpers/code-flow.js';
import {
  assertOAuthError,
  codeFlow,
  decodeAccessToken,
  interopClient,
  startServerOn,
  type InteropClient,
} from '../helpers/interop-client.js';
import { assertOneLineFailure, runCli } from '../helpers/cli.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

const NOTES: ResourceFixture = {
  resource: 'https://notes.example.test/',
  name: 'Notes',
  scopes: ['notes:read'],
  introspection_client_ids: [],
};
const CALENDAR: ResourceFixture = {
  resource: 'https://calendar.example.test/',
  name: 'Calendar',
  scopes: ['calendar:read'],
  introspection_client_ids: [],
};
const BILLING: ResourceFixture = {
  resource: 'https://billing.example.test/',
  name: 'Billing',
  scopes: ['billing:read'],
  introspection_client_ids: [],
};

/** The user's app: signs Alice in and gets a token for Notes. */
const WEB: ClientFixture = { ...CONFIDENTIAL_CLIENT, scope: 'openid profile offline_access notes:read calendar:read' };

/** An agent that may exchange Alice's tokens for tokens at Calendar (and only there). */
const AGENT: ClientFixture = {
  ...MACHINE_CLIENT,
  client_id: 'calendar-agent',
  client_secret: 'calendar-agent-secret-long-enough',
  grant_types: ['client_credentials', GRANT],
  scope: 'calendar:read notes:read',
  token_exchange_resources: [CALENDAR.resource],
};

/** A second agent, downstream of the first: exchanges the first agent's tokens for Notes. */
const SUB_AGENT: ClientFixture = {
  ...MACHINE_CLIENT,
  client_id: 'notes-sub-agent',
  client_secret: 'notes-sub-agent-secret-long-enough',
  grant_types: [GRANT],
  scope: 'calendar:read notes:read',
  token_exchange_resources: [NOTES.resource, CALENDAR.resource],
};

const OFFLINE_SCOPE = 'openid profile offline_access notes:read calendar:read';

for (const target of STORE_TARGETS) {
  describe(`RFC 8693: token exchange on ${target.name}`, () => {
    let stop: () => Promise<void> = async () => {};
    let gatehouse: RunningGatehouse;
    let web: InteropClient;
    let agent: InteropClient;
    let subAgent: InteropClient;
    let machine: InteropClient;

    before(async () => {
      const server = await startServerOn(target, {
        clients: [WEB, AGENT, SUB_AGENT, MACHINE_CLIENT],
        resources: [NOTES, CALENDAR, BILLING],
      });
      stop = server.stop;
      gatehouse = server.gatehouse;
      web = await interopClient(gatehouse, WEB);
      agent = await interopClient(gatehouse, AGENT);
      subAgent = await interopClient(gatehouse, SUB_AGENT);
      machine = await interopClient(gatehouse, MACHINE_CLIENT);
    });
    after(() => stop());

    /** Alice's tokens at the user's app: an access token for Notes, and a refresh token. */
    async function aliceTokens() {
      const tokens = await codeFlow(gatehouse, web, { scope: OFFLINE_SCOPE, resource: [NOTES.resource] });
      return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token! };
    }

    function exchange(ic: InteropClient, params: Record<string, string | string[]>) {
      const body = new URLSearchParams();
      for (const [name, value] of Object.entries(params)) for (const item of [value].flat()) body.append(name, item);
      return client.genericGrantRequest(ic.config, GRANT, body);
    }

    /** A raw exchange request as the agent, for refusals (every header and the body checked). */
    async function rawExchange(form: Record<string, string | undefined>, who: ClientFixture = AGENT) {
      return postToken(
        gatehouse,
        { grant_type: GRANT, ...form },
        { basic: { id: who.client_id!, secret: who.client_secret! } },
      );
    }

    /** The parameters of an exchange of `subjectToken` (an access token) for Calendar, and `extra`. */
    function forCalendar(subjectToken: string, extra: Record<string, string> = {}) {
      return {
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN_TYPE,
        resource: CALENDAR.resource,
        ...extra,
      };
    }

    function assertRefused(response: Awaited<ReturnType<typeof rawExchange>>, status: number, error: string) {
      assert.equal(response.status, status, response.text);
      assert.equal(response.body['error'], error, response.text);
      assert.equal(typeof response.body['error_description'], 'string');
      assertNoStore(response);
    }

    it('RFC 8693 §2.1, §2.2.1: exchanges a user access token for a token at another registered resource, with issued_token_type', async () => {
      const alice = await aliceTokens();
      const response = await exchange(agent, forCalendar(alice.accessToken, { scope: 'calendar:read' }));
      assertNoStore(agent.lastResponse('/token'));
      assert.equal(response.issued_token_type, ACCESS_TOKEN_TYPE);
      assert.equal(response.token_type, 'bearer');
      assert.equal(response.scope, 'calendar:read');
      assert.ok(response.expires_in !== undefined && response.expires_in > 0);
      assert.equal(response.refresh_token, undefined, 'no refresh token from an exchange');
      assert.equal(response.id_token, undefined, 'no ID token from an exchange');
      const original = decodeAccessToken(alice.accessToken);
      const exchanged = decodeAccessToken(response.access_token);
      assert.equal(exchanged.aud, CALENDAR.resource);
      assert.equal(exchanged.sub, original.sub, 'the subject stays the user');
      assert.equal(exchanged.client_id, AGENT.client_id);
      assert.deepEqual(exchanged['act'], { sub: AGENT.client_id }, 'RFC 8693 §4.1: the agent is the actor');
    });

    it('RFC 8693 §2.1: audience names the target as resource does; a jwt subject_token_type is accepted for the JWT access token', async () => {
      const alice = await aliceTokens();
      const response = await exchange(agent, {
        subject_token: alice.accessToken,
        subject_token_type: JWT_TYPE,
        audience: CALENDAR.resource,
        requested_token_type: ACCESS_TOKEN_TYPE,
      });
      const exchanged = decodeAccessToken(response.access_token);
      assert.equal(exchanged.aud, CALENDAR.resource);
      // No scope asked: the subject token's scope within the agent's registered scope.
      assert.equal(response.scope, 'notes:read calendar:read');
    });

    it('RFC 8693 §4.1: exchanging an exchanged token nests the earlier actor inside the new one', async () => {
      const alice = await aliceTokens();
      const first = await exchange(agent, forCalendar(alice.accessToken));
      const second = await exchange(subAgent, {
        subject_token: first.access_token,
        subject_token_type: ACCESS_TOKEN_TYPE,
        resource: NOTES.resource,
        scope: 'notes:read',
      });
      const exchanged = decodeAccessToken(second.access_token);
      assert.deepEqual(exchanged['act'], { sub: SUB_AGENT.client_id, act: { sub: AGENT.client_id } });
      assert.equal(exchanged.sub, decodeAccessToken(alice.accessToken).sub);
    });

    it('RFC 8693 §2.1, §4.1: an actor_token names the actor (its sub) in act', async () => {
      const alice = await aliceTokens();
      const actor = await client.clientCredentialsGrant(machine.config, { scope: 'api' });
      const response = await exchange(agent, {
        subject_token: alice.accessToken,
        subject_token_type: ACCESS_TOKEN_TYPE,
        actor_token: actor.access_token,
        actor_token_type: ACCESS_TOKEN_TYPE,
        resource: CALENDAR.resource,
      });
      assert.deepEqual(decodeAccessToken(response.access_token)['act'], { sub: MACHINE_CLIENT.client_id });
    });

    it('RFC 7662 §2.2 + RFC 8693 §4.1: introspection of an exchanged token gives its client, audience, subject and act', async () => {
      const alice = await aliceTokens();
      const response = await exchange(agent, forCalendar(alice.accessToken));
      const introspected = await client.tokenIntrospection(agent.config, response.access_token);
      assert.equal(introspected.active, true);
      assert.equal(introspected.client_id, AGENT.client_id);
      assert.equal(introspected.aud, CALENDAR.resource);
      assert.equal(introspected.sub, decodeAccessToken(alice.accessToken).sub);
      assert.deepEqual(introspected['act'], { sub: AGENT.client_id });
    });

    it("RFC 8693 §2.2.2 + RFC 7009 §2.1: revoking the user's grant (its refresh token) revokes what was exchanged from it", async () => {
      const alice = await aliceTokens();
      const response = await exchange(agent, forCalendar(alice.accessToken));
      await client.tokenRevocation(web.config, alice.refreshToken);
      assert.deepEqual(await client.tokenIntrospection(agent.config, response.access_token), { active: false });
      const again = await rawExchange(forCalendar(alice.accessToken));
      assertRefused(again, 400, 'invalid_request');
    });

    it('RFC 8693 §2.2.2: a revoked subject token is invalid_request', async () => {
      const alice = await aliceTokens();
      await client.tokenRevocation(web.config, alice.accessToken);
      const response = await rawExchange(forCalendar(alice.accessToken));
      assertRefused(response, 400, 'invalid_request');
      assert.match(response.body['error_description'] as string, /not an active access token/);
    });

    it('RFC 8693 §2.2.2: the scope can only narrow: a scope beyond the subject token is invalid_scope', async () => {
      const alice = await aliceTokens();
      await assertOAuthError(
        exchange(agent, {
          subject_token: (await codeFlow(gatehouse, web, { scope: 'openid notes:read' })).access_token,
          subject_token_type: ACCESS_TOKEN_TYPE,
          resource: CALENDAR.resource,
          scope: 'calendar:read',
        }),
        400,
        'invalid_scope',
      );
      const beyondClient = await rawExchange(forCalendar(alice.accessToken, { scope: 'profile' }));
      assertRefused(beyondClient, 400, 'invalid_scope');
      assert.match(beyondClient.body['error_description'] as string, /not allowed for this client/);
    });

    describe('RFC 8693 §2.2.2 invalid_target: the policy of token_exchange_resources', () => {
      const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
        ['no resource and no audience', {}, /resource or audience/],
        ['an unregistered resource', { resource: 'https://unknown.example.test/' }, /not registered/],
        ['an unregistered audience', { audience: 'unknown-api' }, /not a registered resource/],
        [
          'a registered resource outside its token_exchange_resources',
          { resource: BILLING.resource },
          /may not exchange/,
        ],
        [
          'a registered audience outside its token_exchange_resources',
          { audience: NOTES.resource },
          /may not exchange/,
        ],
      ];
      for (const [name, target, description] of cases) {
        it(`RFC 8693 §2.2.2: ${name} is invalid_target`, async () => {
          const alice = await aliceTokens();
          const response = await rawExchange({
            subject_token: alice.accessToken,
            subject_token_type: ACCESS_TOKEN_TYPE,
            ...target,
          });
          assertRefused(response, 400, 'invalid_target');
          assert.match(response.body['error_description'] as string, description);
        });
      }
    });

    describe('RFC 8693 §2.1, §2.2.2 invalid_request: the subject and actor tokens', () => {
      const cases: Array<[string, (token: string) => Record<string, string | undefined>, RegExp]> = [
        ['subject_token missing', () => ({ subject_token_type: ACCESS_TOKEN_TYPE }), /subject_token is required/],
        ['subject_token_type missing', (token) => ({ subject_token: token }), /subject_token_type is required/],
        [
          'a subject_token_type other than an access token or JWT',
          (token) => ({ subject_token: token, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
          /not supported/,
        ],
        [
          'a subject_token that is not one of our tokens',
          () => ({ subject_token: 'not-a-token', subject_token_type: ACCESS_TOKEN_TYPE }),
          /not an active access token/,
        ],
        [
          'a refresh token as subject_token',
          () => ({ subject_token: 'refresh', subject_token_type: ACCESS_TOKEN_TYPE }),
          /not an active access token/,
        ],
        [
          'actor_token without actor_token_type',
          (token) => ({ subject_token: token, subject_token_type: ACCESS_TOKEN_TYPE, actor_token: token }),
          /actor_token_type is required/,
        ],
        [
          'actor_token_type without actor_token',
          (token) => ({
            subject_token: token,
            subject_token_type: ACCESS_TOKEN_TYPE,
            actor_token_type: ACCESS_TOKEN_TYPE,
          }),
          /must not be sent without actor_token/,
        ],
        [
          'an actor_token that is not one of our tokens',
          (token) => ({
            subject_token: token,
            subject_token_type: ACCESS_TOKEN_TYPE,
            actor_token: 'not-a-token',
            actor_token_type: ACCESS_TOKEN_TYPE,
          }),
          /actor_token is not an active access token/,
        ],
        [
          'a requested_token_type Gatehouse does not issue',
          (token) => ({
            subject_token: token,
            subject_token_type: ACCESS_TOKEN_TYPE,
            requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token',
          }),
          /requested_token_type .* is not supported/,
        ],
      ];
      for (const [name, form, description] of cases) {
        it(`RFC 8693 §2.2.2: ${name} is invalid_request`, async () => {
          const alice = await aliceTokens();
          const fields = form(alice.accessToken);
          if (fields['subject_token'] === 'refresh') fields['subject_token'] = alice.refreshToken;
          const response = await rawExchange({ resource: CALENDAR.resource, ...fields });
          assertRefused(response, 400, 'invalid_request');
          assert.match(response.body['error_description'] as string, description);
        });
      }

      it("RFC 8693 §2.2.2: a client's own token (client credentials) is not exchanged: invalid_request", async () => {
        const own = await client.clientCredentialsGrant(machine.config, { scope: 'api' });
        const response = await rawExchange(forCalendar(own.access_token));
        assertRefused(response, 400, 'invalid_request');
        assert.match(response.body['error_description'] as string, /client_credentials instead/);
      });
    });

    it('RFC 6749 §5.2: a client without the token exchange grant is unauthorized_client', async () => {
      const alice = await aliceTokens();
      const response = await rawExchange(
        { subject_token: alice.accessToken, subject_token_type: ACCESS_TOKEN_TYPE, resource: CALENDAR.resource },
        WEB,
      );
      assertRefused(response, 400, 'unauthorized_client');
    });

    it('RFC 8414 §2: discovery lists the token exchange grant type', async () => {
      const metadata = (await (
        await fetch(new URL('/.well-known/oauth-authorization-server', gatehouse.url))
      ).json()) as Record<string, unknown>;
      assert.ok((metadata['grant_types_supported'] as string[]).includes(GRANT));
    });
  });
}

describe('token_exchange_resources: the client metadata of the exchange policy', () => {
  const base = { ...MACHINE_CLIENT, client_id: 'agent', grant_types: [GRANT] };
  const refusals: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['the grant without resources', { ...base }, 'token_exchange_resources', /at least one resource/],
    [
      'resources without the grant',
      { ...base, grant_types: ['client_credentials'], token_exchange_resources: [CALENDAR.resource] },
      'token_exchange_resources',
      /only used with/,
    ],
    [
      'a public client with the grant',
      {
        ...base,
        token_endpoint_auth_method: 'none',
        client_secret: undefined,
        token_exchange_resources: [CALENDAR.resource],
      },
      'grant_types',
      /confidential client/,
    ],
    [
      'a resource with a fragment',
      { ...base, token_exchange_resources: ['https://calendar.example.test/#x'] },
      'token_exchange_resources[0]',
      /without a fragment/,
    ],
    [
      'a relative resource',
      { ...base, token_exchange_resources: ['/calendar'] },
      'token_exchange_resources[0]',
      /absolute URI/,
    ],
  ];
  for (const [name, metadata, field, message] of refusals) {
    it(`refuses ${name}, naming the field`, async () => {
      await assert.rejects(
        registerClient(metadata, { generateSecret: true, now: 0, outbound: { allowPrivateAddresses: false } }),
        (error: Error & { field?: string }) => {
          assert.equal(error.field, field);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('gatehouse clients create --grant-type <token exchange> --token-exchange-resource stores the policy', async () => {
    const created = await runCli([
      'clients',
      'create',
      '--database',
      'sqlite::memory:',
      '--client-id',
      'cli-agent',
      '--grant-type',
      GRANT,
      '--scope',
      'calendar:read',
      '--token-exchange-resource',
      CALENDAR.resource,
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const view = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.deepEqual(view['token_exchange_resources'], [CALENDAR.resource]);
    assert.deepEqual(view['grant_types'], [GRANT]);

    const refused = await runCli([
      'clients',
      'create',
      '--database',
      'sqlite::memory:',
      '--grant-type',
      GRANT,
      '--scope',
      'calendar:read',
    ]);
    assertOneLineFailure(refused, /token_exchange_resources must name at least one resource/);
  });
});
