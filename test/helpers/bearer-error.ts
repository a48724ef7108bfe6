/**
 * The resource-server module's refusals (RFC 6750 §3): a verification that must fail, and the
 * BearerError it fails with.
 */
import assert from 'node:assert/strict';
import { BearerError } from '../../src/resource/resource.js';

/** Runs `promise`, expecting a BearerError; returns it. */
export async function bearerError(promise: Promise<unknown>): Promise<BearerError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BearerError, `expected a BearerError, got ${String(error)}`);
    return error;
  }
  assert.fail('the token was accepted');
}
