/**
 * src/core/token/grants/grant-registry.ts: the one list of grant types. Each handler declares
 * the parameters it reads (`allowedParams`, RFC 6749 §4.1.3, §4.4.2, §6; RFC 7636 §4.5;
 * RFC 8707 §2.2) and sees no other (Params.only); client registration and discovery take the
 * grant types from the handler map.
 *
 * Run: node --import tsx --test test/token/grant-registry.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GRANT_HANDLERS, SUPPORTED_GRANT_TYPES } from '../../src/core/token/grants/grant-registry.js';
import { validateClientMetadata } from '../../src/core/registration/client-metadata.js';
import { ClientMetadataError } from '../../src/core/errors.js';
import { Params } from '../../src/core/params.js';

describe('grant registry', () => {
  it('the supported grant types are the keys of the handler map, in order', () => {
    assert.deepEqual(SUPPORTED_GRANT_TYPES, [...GRANT_HANDLERS.keys()]);
    assert.deepEqual(SUPPORTED_GRANT_TYPES, [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:device_code',
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ]);
    for (const [grantType, handler] of GRANT_HANDLERS) assert.equal(handler.grantType, grantType);
  });

  it('each handler declares the parameters of its RFC section, and only those may repeat', () => {
    assert.deepEqual(GRANT_HANDLERS.get('authorization_code')?.allowedParams, [
      'code',
      'redirect_uri',
      'code_verifier',
      'resource',
    ]);
    assert.deepEqual(GRANT_HANDLERS.get('refresh_token')?.allowedParams, ['refresh_token', 'scope', 'resource']);
    assert.deepEqual(GRANT_HANDLERS.get('client_credentials')?.allowedParams, ['scope', 'resource']);
    // RFC 8628 §3.4.
    assert.deepEqual(GRANT_HANDLERS.get('urn:ietf:params:oauth:grant-type:device_code')?.allowedParams, [
      'device_code',
    ]);
    // RFC 8693 §2.1, as the handler declares them.
    assert.equal(
      GRANT_HANDLERS.get('urn:ietf:params:oauth:grant-type:token-exchange')?.allowedParams.join(' '),
      'subject_token subject_token_type actor_token actor_token_type requested_token_type resource audience scope',
    );
    for (const handler of GRANT_HANDLERS.values()) {
      for (const name of handler.repeatableParams ?? [])
        assert.ok(handler.allowedParams.includes(name), `${handler.grantType}: ${name}`);
    }
  });

  it('client registration refuses a grant type without a handler, naming the supported ones', () => {
    assert.throws(
      () =>
        validateClientMetadata({
          client_id: 'c',
          redirect_uris: ['https://app.example/cb'],
          grant_types: ['urn:example:unknown'],
        }),
      (error: unknown) =>
        error instanceof ClientMetadataError && error.message.includes(`use ${SUPPORTED_GRANT_TYPES.join(', ')}`),
    );
  });
});

describe('Params.only', () => {
  it('keeps the named parameters with all their values and hides the rest', () => {
    const params = Params.fromUrlEncoded(
      'grant_type=client_credentials&scope=a&resource=https%3A%2F%2Fr1&resource=https%3A%2F%2Fr2&client_secret=s&extra=x',
    );
    const view = params.only(['scope', 'resource']);
    assert.equal(view.get('scope'), 'a');
    assert.deepEqual(view.getAll('resource'), ['https://r1', 'https://r2']);
    assert.equal(view.has('client_secret'), false);
    assert.equal(view.get('extra'), undefined);
    assert.deepEqual(view.names(), ['scope', 'resource']);
  });

  it('keeps the control-character check of the named parameters only', () => {
    const params = Params.fromUrlEncoded('scope=a%0Ab&other=c%0Ad');
    assert.throws(
      () => params.only(['scope']).assertNoControlCharacters(),
      /parameter scope contains control characters/,
    );
    assert.doesNotThrow(() => params.only(['resource']).assertNoControlCharacters());
  });
});
