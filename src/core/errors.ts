/**
 * OAuth errors as classes named after their RFC error codes (RFC 6749 §4.1.2.1, §5.2;
 * RFC 6750 §3.1; RFC 8707 §2; OIDC Core §3.1.2.6). Protocol handlers throw these; the one
 * place that turns them into HTTP responses is src/http/errors.ts.
 *
 * `error_description` must be printable ASCII without `"` or `\` (RFC 6749 §5.2:
 * %x20-21 / %x23-5B / %x5D-7E), so every description passes through `asciiDescription`.
 */
export abstract class OAuthError extends Error {
  /** The RFC error code, e.g. `invalid_grant`. */
  abstract readonly error: string;
  /** HTTP status when the error is returned directly (token endpoint, error page). */
  readonly status: number = 400;
  readonly description: string;

  constructor(description: string) {
    const ascii = asciiDescription(description);
    super(ascii);
    this.description = ascii;
    this.name = new.target.name;
  }
}

/** RFC 6749 §5.2 allows only %x20-21 / %x23-5B / %x5D-7E in error_description. */
export function asciiDescription(text: string): string {
  const cleaned = text.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');
  return cleaned.length > 200 ? `${cleaned.slice(0, 197)}...` : cleaned;
}

export class InvalidRequest extends OAuthError {
  readonly error = 'invalid_request';
}

/**
 * RFC 6749 §5.2: 401 when the client tried HTTP Basic authentication, with a matching
 * WWW-Authenticate challenge; 400 (or 401) otherwise.
 */
export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client';
  override readonly status: number;
  readonly basicChallenge: boolean;

  constructor(description: string, options: { usedBasic: boolean }) {
    super(description);
    this.basicChallenge = options.usedBasic;
    this.status = 401;
  }
}

export class InvalidGrant extends OAuthError {
  readonly error = 'invalid_grant';
}

export class UnauthorizedClient extends OAuthError {
  readonly error = 'unauthorized_client';
}

export class UnsupportedGrantType extends OAuthError {
  readonly error = 'unsupported_grant_type';
}

export class UnsupportedResponseType extends OAuthError {
  readonly error = 'unsupported_response_type';
}

export class InvalidScope extends OAuthError {
  readonly error = 'invalid_scope';
}

export class AccessDenied extends OAuthError {
  readonly error = 'access_denied';
  override readonly status = 403;
}

/** RFC 6749 §4.1.2.1: an unexpected condition; never carries internal details. */
export class ServerError extends OAuthError {
  readonly error = 'server_error';
  override readonly status = 500;
}

/** RFC 6749 §4.1.2.1: temporary overload or an unreachable store. */
export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable';
  override readonly status = 503;
}

/** RFC 8707 §2: the requested resource is unknown or not allowed. */
export class InvalidTarget extends OAuthError {
  readonly error = 'invalid_target';
}

/**
 * A received value set against the expected one it comes closest to, for the developer who
 * sent it: `at` is the index (UTF-16, never inside a surrogate pair) of the first difference.
 */
export interface ValueComparison {
  name: string;
  received: string;
  expected: string;
  at: number;
}

/**
 * An authorization request whose client or redirect_uri cannot be trusted. RFC 6749 §4.1.2.1:
 * the server MUST NOT redirect; it informs the resource owner on an error page instead.
 */
export class UnsafeAuthorizationRequest extends Error {
  readonly status = 400;
  constructor(
    readonly title: string,
    readonly detail: string,
    readonly facts: Array<{ label: string; value: string }> = [],
    readonly comparison: ValueComparison | null = null,
  ) {
    super(`${title}: ${detail}`);
    this.name = 'UnsafeAuthorizationRequest';
  }
}
