/**
 * OAuth errors as classes named after their RFC error codes (RFC 6749 §4.1.2.1, §5.2;
 * RFC 6750 §3.1; RFC 8707 §2; OIDC Core §3.1.2.6). Protocol handlers throw these; the one
 * place that turns them into HTTP responses is src/http/error-responses.ts.
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
 * The one `error_description` of every failed client authentication (unknown client, wrong
 * secret, wrong method, missing or malformed credentials): a different text per cause would
 * tell an attacker which client_ids exist and how they authenticate. The cause is logged.
 */
export const CLIENT_AUTHENTICATION_FAILED = 'client authentication failed';

/**
 * RFC 6749 §5.2: "The authorization server MAY return an HTTP 401 (Unauthorized) status code
 * to indicate which HTTP authentication schemes are supported. If the client attempted to
 * authenticate via the "Authorization" request header field, the authorization server MUST
 * respond with an HTTP 401 (Unauthorized) status code and include the "WWW-Authenticate"
 * response header field matching the authentication scheme used by the client."
 * So 401 with a Basic challenge when Basic was used; otherwise 400, whose JSON body client
 * libraries show (openid-client and oauth4webapi report a 401 with a challenge as a challenge
 * error and leave the body unread).
 *
 * `reason` says which check failed; it goes to the log only (src/http/error-responses.ts), never to
 * the client, which always reads CLIENT_AUTHENTICATION_FAILED.
 */
export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client';
  override readonly status: number;
  readonly basicChallenge: boolean;
  readonly reason: string;

  constructor(reason: string, options: { usedBasic: boolean }) {
    super(CLIENT_AUTHENTICATION_FAILED);
    this.reason = asciiDescription(reason);
    this.basicChallenge = options.usedBasic;
    this.status = options.usedBasic ? 401 : 400;
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
 *
 * `facts` are shown to anyone. `comparison` and `registrationFacts` reveal the client's
 * registration (its registered redirect URIs), which would help an attacker find a forgotten
 * one (RFC 9700 §4.1): the page shows them only while errors are explained (development,
 * `explain_errors`); otherwise they are logged with the request id the page shows.
 */
export class UnsafeAuthorizationRequest extends Error {
  readonly status = 400;
  constructor(
    readonly title: string,
    readonly detail: string,
    readonly facts: Array<{ label: string; value: string }> = [],
    readonly comparison: ValueComparison | null = null,
    readonly registrationFacts: Array<{ label: string; value: string }> = [],
  ) {
    super(`${title}: ${detail}`);
    this.name = 'UnsafeAuthorizationRequest';
  }
}
