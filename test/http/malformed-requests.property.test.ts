/**
 * Property-based tests (fast-check): random and malformed requests against the authorization,
 * token, introspection, revocation and UserInfo endpoints. Whatever arrives:
 *
 * - no 5xx (RFC 6749 §5.2: input errors are the client's, answered 4xx);
 * - no token is issued, and introspection never calls a random token active;
 * - the body is well formed: JSON with an `error` from the endpoint's RFC list and a printable
 *   ASCII description (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 7662 §2.3, RFC 6750 §3.1), or the HTML
 *   error page, or a redirect to the interaction or to the registered redirect_uri with `error`;
 * - and afterwards the server still completes a normal authorization code flow.
 *
 * Reproduce a failure with the seed it prints: GATEHOUSE_FC_SEED=<seed> (and GATEHOUSE_FC_RUNS
 * for more runs per property; the default keeps the file well under 30 seconds).
 *
 * Run: node --import tsx --test test/http/malformed-requests.property.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunningGatehouse } from '../../src/server.js';
import { ALICE, CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, startTestServer } from '../helpers/server.js';
import {
  assertErrorDescription,
  basicAuthorization,
  codeRequest,
  obtainCode,
  postToken,
} from '../helpers/code-flow.js';
import { readAnswer, type Answer } from '../helpers/http-answer.js';

const SEED = process.env['GATEHOUSE_FC_SEED'] !== undefined ? Number(process.env['GATEHOUSE_FC_SEED']) : undefined;
const RUNS = Number(process.env['GATEHOUSE_FC_RUNS'] ?? 200);
const FC_OPTIONS = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: true };

let gatehouse: RunningGatehouse;
before(async () => {
  // The brute-force limits (tested in test/abuse/) would soon answer these thousands of failed
  // client authentications with 429 and lock the test's clients out; this file is about
  // malformed input, so it runs with limits no run reaches.
  const unreachable = { freeAttempts: 1_000_000, backoffBaseMs: 1, lockAfter: 1_000_000, lockSeconds: 1 };
  gatehouse = await startTestServer({
    settings: {
      limits: {
        loginUserAddress: unreachable,
        loginUsername: unreachable,
        loginIp: unreachable,
        loginDevice: unreachable,
        clientId: unreachable,
        clientIp: unreachable,
        interactionIp: unreachable,
        userCodeIp: unreachable,
        userCodeGlobal: unreachable,
        registrationIp: unreachable,
      },
    },
  });
});
after(async () => {
  await gatehouse.close();
});

// --- arbitraries ------------------------------------------------------------------------------

const KNOWN_NAMES = [
  'grant_type',
  'code',
  'redirect_uri',
  'client_id',
  'client_secret',
  'code_verifier',
  'refresh_token',
  'scope',
  'resource',
  'token',
  'token_type_hint',
  'access_token',
  'response_type',
  'response_mode',
  'state',
  'nonce',
  'prompt',
  'max_age',
  'code_challenge',
  'code_challenge_method',
  'id_token_hint',
  'login_hint',
  'ui_locales',
  'request',
  'request_uri',
  '__proto__',
  'constructor',
  'prototype',
  'scope[]',
  'client_id[]',
  '__proto__[x]',
];
const PLAUSIBLE_VALUES = [
  '',
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'password',
  'implicit',
  'code',
  'token',
  'id_token',
  CONFIDENTIAL_CLIENT.client_id,
  PUBLIC_CLIENT.client_id,
  CONFIDENTIAL_CLIENT.client_secret!,
  CONFIDENTIAL_CLIENT.redirect_uris[0]!,
  PUBLIC_CLIENT.redirect_uris[0]!,
  'openid',
  'openid profile offline_access',
  'S256',
  'plain',
  'form_post',
  'query',
  'fragment',
  'none',
  'login',
  'consent',
  'access_token',
  '-1',
  '99999999999',
  'https://attacker.example/cb',
  'javascript:alert(1)',
  'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'x'.repeat(300),
  '%00',
  '\u0000',
  '\r\n',
  '\u2028',
  '<script>',
  '"\\',
];

const name = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_NAMES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);
const value = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PLAUSIBLE_VALUES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 60 }) },
);
const entries = fc.array(fc.tuple(name, value), { maxLength: 12 });

/** A body: well-formed form entries, or raw text that may not even be a form. */
const body = fc.oneof(
  { weight: 4, arbitrary: entries.map((list) => new URLSearchParams(list).toString()) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '%',
      '%%%',
      '=&=&',
      '&&&&',
      'a=%E0%A4%A',
      '{"grant_type":"client_credentials"}',
      'grant_type=authorization_code&grant_type=refresh_token',
    ),
  },
);
const contentType = fc.oneof(
  { weight: 5, arbitrary: fc.constant<string | null>('application/x-www-form-urlencoded') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<string | null>(
      null,
      'application/json',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded; charset=latin1',
      'application/x-www-form-urlencoded; charset=UTF-8',
    ),
  },
);
const authorization = fc.oneof(
  { weight: 2, arbitrary: fc.constant<string | null>(null) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<string | null>(
      basicAuthorization(CONFIDENTIAL_CLIENT.client_id, CONFIDENTIAL_CLIENT.client_secret!),
      basicAuthorization(CONFIDENTIAL_CLIENT.client_id, 'wrong'),
      'Basic',
      'Basic !!!',
      'Basic ' + Buffer.from('no-colon').toString('base64'),
      'Bearer x',
      'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      'Digest x',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((text) => `Basic ${text}`) },
);
const request = fc.record({
  body,
  contentType,
  authorization,
  query: entries.map((list) => new URLSearchParams(list).toString()),
});

// --- sending and checking ---------------------------------------------------------------------

async function send(
  method: string,
  path: string,
  input: { body?: string; contentType?: string | null; authorization?: string | null; query?: string },
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (input.contentType) headers['content-type'] = input.contentType;
  if (input.authorization) headers['authorization'] = input.authorization;
  const url = new URL(path, gatehouse.url);
  if (input.query) url.search = input.query;
  return readAnswer(
    await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: input.body ?? '' }),
    }),
  );
}

function assertJsonError(answer: Answer, codes: readonly string[], context: string): void {
  assert.ok(
    answer.status >= 400 && answer.status < 500,
    `${context}: status ${answer.status} ${answer.text.slice(0, 200)}`,
  );
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, context);
  assert.ok(answer.json, `${context}: a JSON body`);
  assert.ok(codes.includes(String(answer.json['error'])), `${context}: error ${String(answer.json['error'])}`);
  assertErrorDescription(answer.json['error_description']);
  assert.equal(answer.json['access_token'], undefined, `${context}: no token`);
}

/** RFC 6749 §5.2 (and RFC 8707 §2 invalid_target). */
const TOKEN_ERRORS = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
];
/** RFC 7009 §2.2.1 and RFC 7662 §2.3 answer with the RFC 6749 §5.2 errors. */
const MANAGEMENT_ERRORS = ['invalid_request', 'invalid_client', 'unsupported_token_type'];
/** RFC 6750 §3.1. */
const BEARER_ERRORS = ['invalid_request', 'invalid_token', 'insufficient_scope'];
/** RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6. */
const AUTHORIZATION_ERRORS = [
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  'invalid_target',
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
  'request_not_supported',
  'request_uri_not_supported',
  'invalid_request_object',
];

describe('property: malformed requests never break the server or issue a token', () => {
  it('RFC 6749 §5.2: the token endpoint answers every random request with a JSON error and never a token', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const answer = await send('POST', '/token', input);
        assertJsonError(answer, TOKEN_ERRORS, `POST /token ${JSON.stringify(input)}`);
        assert.equal(answer.headers.get('cache-control'), 'no-store');
      }),
      FC_OPTIONS,
    );
  });

  it('RFC 7662 §2.2, §2.3: introspection answers {"active":false} or a JSON error, never an active token', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const answer = await send('POST', '/introspect', input);
        if (answer.status === 200) assert.deepEqual(answer.json, { active: false }, JSON.stringify(input));
        else assertJsonError(answer, MANAGEMENT_ERRORS, `POST /introspect ${JSON.stringify(input)}`);
      }),
      FC_OPTIONS,
    );
  });

  it('RFC 7009 §2.2, §2.2.1: revocation answers 200 or a JSON error', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const answer = await send('POST', '/revoke', input);
        if (answer.status !== 200) assertJsonError(answer, MANAGEMENT_ERRORS, `POST /revoke ${JSON.stringify(input)}`);
      }),
      FC_OPTIONS,
    );
  });

  it('OIDC Core §5.3.3 / RFC 6750 §3.1: UserInfo answers a challenge (with or without a JSON error), never claims', async () => {
    await fc.assert(
      fc.asyncProperty(request, fc.constantFrom('GET', 'POST'), async (input, method) => {
        const answer = await send(method, '/userinfo', input);
        const context = `${method} /userinfo ${JSON.stringify(input)}`;
        assert.ok(
          answer.status >= 400 && answer.status < 500,
          `${context}: ${answer.status} ${answer.text.slice(0, 200)}`,
        );
        if (answer.text === '') assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer/, context);
        else assertJsonError(answer, BEARER_ERRORS, context);
        assert.equal(answer.json?.['sub'], undefined, context);
      }),
      FC_OPTIONS,
    );
  });

  it('RFC 6749 §4.1.2.1: the authorization endpoint answers an error page, an error redirect to a registered URI, or the login step; never a code', async () => {
    const registered = [...CONFIDENTIAL_CLIENT.redirect_uris, ...PUBLIC_CLIENT.redirect_uris];
    await fc.assert(
      fc.asyncProperty(request, fc.constantFrom('GET', 'POST'), async (input, method) => {
        const answer = await send(
          method,
          '/authorize',
          method === 'GET' ? { query: input.query, authorization: input.authorization } : input,
        );
        const context = `${method} /authorize ${JSON.stringify(input)}`;
        assert.ok(answer.status < 500, `${context}: ${answer.status}`);
        if (answer.status === 303) {
          const location = answer.headers.get('location') ?? '';
          if (location.startsWith('/interaction/')) return;
          const target = new URL(location);
          assert.ok(
            registered.some((uri) => location.startsWith(uri)),
            `${context}: redirect to an unregistered ${location}`,
          );
          assert.ok(AUTHORIZATION_ERRORS.includes(target.searchParams.get('error') ?? ''), `${context}: ${location}`);
          assert.equal(target.searchParams.get('code'), null, context);
        } else if (answer.status === 200) {
          // form_post: an auto-submitting page carrying an error, never a code.
          assert.match(answer.text, /name="error" value="[a-z_]+"/, context);
          assert.ok(!/name="code"/.test(answer.text), context);
        } else {
          assert.ok(answer.status === 400 || answer.status === 405, `${context}: ${answer.status}`);
          assert.match(answer.headers.get('content-type') ?? '', /^text\/html/, context);
          assert.match(answer.text, /^<!doctype html>/i, context);
        }
      }),
      FC_OPTIONS,
    );
  });

  it('RFC 6749 §4.1: after all of that, a normal authorization code flow still works', async () => {
    const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
    const tokens = await postToken(gatehouse, codeRequest(obtained), {
      basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! },
    });
    assert.equal(tokens.status, 200, tokens.text);
    const userinfo = await fetch(new URL('/userinfo', gatehouse.url), {
      headers: { authorization: `Bearer ${tokens.body['access_token'] as string}` },
    });
    assert.equal(userinfo.status, 200);
    assert.equal(((await userinfo.json()) as { sub: string }).sub.length > 0, true);
    assert.ok(ALICE.username);
  });
});
