/**
 * The client metadata of signed request objects, RFC 9101 §10.5 (registered in the OAuth
 * Dynamic Client Registration Metadata registry; OpenID Connect Dynamic Client Registration §2
 * defines `request_object_signing_alg`): which algorithm the client signs its request objects
 * with, and whether it must always send one.
 */
import { ClientMetadataError } from '../errors.js';
import { REQUEST_OBJECT_SIGNING_ALGS, type ValidatedClientMetadata } from './client-metadata-fields.js';

type Reader<T> = (metadata: Record<string, unknown>, field: string) => T | undefined;

/**
 * `request_object_signing_alg` (one of REQUEST_OBJECT_SIGNING_ALGS; never `none`) and
 * `require_signed_request_object` (default false). Both concern authorization requests, so only
 * a client with the authorization_code grant may set them; and a request object is verified with
 * the client's public keys (RFC 9101 §6.1), so the client must register `jwks` or `jwks_uri`.
 */
export function validateRequestObjectMetadata(
  input: Record<string, unknown>,
  usesCode: boolean,
  hasKeys: boolean,
  readers: { optionalString: Reader<string>; optionalBoolean: Reader<boolean> },
): Pick<ValidatedClientMetadata, 'request_object_signing_alg' | 'require_signed_request_object'> {
  const alg = readers.optionalString(input, 'request_object_signing_alg');
  const required = readers.optionalBoolean(input, 'require_signed_request_object') ?? false;
  if (alg !== undefined && !REQUEST_OBJECT_SIGNING_ALGS.includes(alg)) {
    throw new ClientMetadataError(
      'request_object_signing_alg',
      `request_object_signing_alg "${alg}" is not supported; use ${REQUEST_OBJECT_SIGNING_ALGS.join(', ')} (asymmetric only, never "none"; RFC 9101 §10.5)`,
    );
  }
  for (const [field, set] of [
    ['request_object_signing_alg', alg !== undefined],
    ['require_signed_request_object', required],
  ] as const) {
    if (!set) continue;
    if (!usesCode) {
      throw new ClientMetadataError(
        field,
        `${field} concerns authorization requests, so only clients using the authorization_code grant may set it (RFC 9101 §10.5)`,
      );
    }
    if (!hasKeys) {
      throw new ClientMetadataError(
        field,
        `${field} needs the client's public keys in jwks or jwks_uri: request objects are verified with them (RFC 9101 §6.1)`,
      );
    }
  }
  return { request_object_signing_alg: alg, require_signed_request_object: required };
}
