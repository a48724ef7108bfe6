/**
 * Errors of the resource-server verifier: RFC 6750 §3 bearer-token failures with their
 * `WWW-Authenticate` challenge, and an unusable authorization server.
 */
import { DPOP_SIGNING_ALGS } from '../core/dpop/dpop-proof-jwt.js';

export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof';

/** What every challenge of one verifier carries: its realm and RFC 9728 §5.1 `resource_metadata`. */
export interface Challenge {
  realm: string;
  resourceMetadataUrl: string | undefined;
}

/**
 * A bearer-token failure, RFC 6750 §3. `status` and `wwwAuthenticate` are ready to send; `toJSON()` is a
 * response body. A request without any token has no `error` code (RFC 6750 §3.1).
 */
export class BearerError extends Error {
  readonly status: 400 | 401 | 403;
  /** Fastify reads `statusCode` when the error is thrown from a handler. */
  readonly statusCode: 400 | 401 | 403;
  readonly error: BearerErrorCode | undefined;
  readonly description: string;
  /** For `insufficient_scope`: the scope needed (RFC 6750 §3). */
  readonly scope: string | undefined;
  readonly wwwAuthenticate: string;

  constructor(init: {
    status: 400 | 401 | 403;
    error?: BearerErrorCode;
    description: string;
    scope?: string;
    challenge: Challenge;
    /** RFC 9449 §7.1: `DPoP` for a failure of a DPoP-bound token or its proof (default `Bearer`). */
    scheme?: 'Bearer' | 'DPoP';
  }) {
    super(init.description);
    this.name = 'BearerError';
    this.status = init.status;
    this.statusCode = init.status;
    this.error = init.error;
    this.description = init.description;
    this.scope = init.scope;
    const params: string[] = [`realm=${quoteString(init.challenge.realm)}`];
    if (init.scheme === 'DPoP') params.push(`algs="${DPOP_SIGNING_ALGS.join(' ')}"`);
    if (init.error !== undefined) {
      params.push(`error="${init.error}"`);
      params.push(`error_description=${quoteString(sanitizeDescription(init.description))}`);
    }
    if (init.scope !== undefined) params.push(`scope=${quoteString(init.scope)}`);
    if (init.challenge.resourceMetadataUrl !== undefined) {
      params.push(`resource_metadata=${quoteString(init.challenge.resourceMetadataUrl)}`);
    }
    this.wwwAuthenticate = `${init.scheme ?? 'Bearer'} ${params.join(', ')}`;
  }

  /** Response body: `{ error, error_description }` (no `error` when the request carried no token). */
  toJSON(): { error?: BearerErrorCode; error_description: string } {
    return this.error === undefined
      ? { error_description: this.description }
      : { error: this.error, error_description: sanitizeDescription(this.description) };
  }
}

/**
 * The authorization server (metadata, JWKS or introspection endpoint) could not be used. Not the client's
 * fault: adapters pass it on as a 503; `cause` holds the underlying error.
 */
export class AuthorizationServerUnavailableError extends Error {
  readonly status = 503;
  readonly statusCode = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthorizationServerUnavailableError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Header syntax helpers

/** RFC 9110 §5.6.4 quoted-string, escaping `"` and `\`. */
function quoteString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E (no `"`, no `\`, ASCII only). */
function sanitizeDescription(value: string): string {
  return value
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?');
}
