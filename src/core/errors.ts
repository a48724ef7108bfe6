/**
 * Every error that protocol code in src/core throws, in one module.
 *
 * OAuth errors: classes named after their RFC error codes (RFC 6749 §4.1.2.1, §5.2; RFC 6750
 * §3.1; RFC 8707 §2; OIDC Core §3.1.2.6, §6); they reach the client as `error` and
 * `error_description`. Page errors: what the End-User sees as an error page instead of a
 * redirect (an untrusted authorization or logout request, an expired interaction, too many
 * sign-in requests). Operator errors: refused client metadata, key management or user claims
 * (config file, CLI). The one place that turns them into HTTP responses is
 * src/http/error-responses.ts.
 *
 * `error_description` must be printable ASCII without `"` or `\` (RFC 6749 §5.2:
 * %x20-21 / %x23-5B / %x5D-7E), so every description passes through `asciiDescription`.
 */
import type { StoredAuthorizationRequest } from '../store/store.js';

export abstract class OAuthError extends Error {
  /** The RFC error code, e.g. `invalid_grant`. */
  abstract readonly error: string;
  /** HTTP status when the error is returned directly (token endpoint, error page). */
  readonly status: number = 400;
  readonly description: string;
  /**
   * The flow the refused request belongs to, when what it presented names one (a code): its
   * `token.refused` event, and so the audit trail, file the refusal under that flow.
   */
  flowId: string | null = null;

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

/**
 * The base of an OAuth error class that is its error code alone, with the HTTP status it is
 * returned with directly (400 unless given): `class InvalidGrant extends oauthError('invalid_grant') {}`.
 * Each error is still a class of its own, for `instanceof` and its `name`.
 */
function oauthError<const Code extends string>(code: Code, status = 400) {
  return class extends OAuthError {
    readonly error = code;
    override readonly status: number = status;
  };
}

export class InvalidRequest extends oauthError('invalid_request') {}

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
 * `reason` says which check failed; it goes to the log (src/http/error-responses.ts), and to the
 * client only when disclosed (see the constructor): otherwise it reads CLIENT_AUTHENTICATION_FAILED.
 */
export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client';
  override readonly status: number;
  readonly basicChallenge: boolean;
  readonly reason: string;

  /**
   * `disclose`: the reason is the `error_description` too, for failures that tell nothing about
   * which clients exist: those of a client assertion whose signature was verified (the caller
   * holds the client's key; RFC 7521 §4.2.1 allows the detail) or whose form alone is wrong.
   */
  constructor(reason: string, options: { usedBasic: boolean; disclose?: boolean }) {
    super(options.disclose ? reason : CLIENT_AUTHENTICATION_FAILED);
    this.reason = asciiDescription(reason);
    this.basicChallenge = options.usedBasic;
    this.status = options.usedBasic ? 401 : 400;
  }
}

/**
 * draft-ietf-oauth-client-id-metadata-document: the metadata document at a client_id URL could
 * not be fetched or is not acceptable (src/core/clients/client-metadata-document.ts). At the
 * token, PAR and revocation endpoints an invalid_client whose error_description says why (the
 * document is public: the reason tells nothing secret); at the authorization endpoint an error
 * page (src/core/authorize/authorization-request.ts), as for an unknown client.
 */
export class ClientMetadataDocumentUnavailable extends InvalidClient {
  constructor(
    readonly clientId: string,
    why: string,
  ) {
    super(`the client metadata document at the client_id URL ${why}`, { usedBasic: false, disclose: true });
  }
}

export class InvalidGrant extends oauthError('invalid_grant') {}

export class UnauthorizedClient extends oauthError('unauthorized_client') {}

export class UnsupportedGrantType extends oauthError('unsupported_grant_type') {}

export class UnsupportedResponseType extends oauthError('unsupported_response_type') {}

export class InvalidScope extends oauthError('invalid_scope') {}

export class AccessDenied extends oauthError('access_denied', 403) {}

/** RFC 6749 §4.1.2.1: an unexpected condition; never carries internal details. */
export class ServerError extends oauthError('server_error', 500) {}

/** RFC 6749 §4.1.2.1: temporary overload or an unreachable store. */
export class TemporarilyUnavailable extends oauthError('temporarily_unavailable', 503) {}

// --- RFC 8628 §3.5: the device's poll of the token endpoint (400, as every token error) ---

/** The user has not decided yet; the device polls again after its interval. */
export class AuthorizationPending extends oauthError('authorization_pending') {}

/** Still pending, and the device polled too soon: its interval is raised by 5 seconds. */
export class SlowDown extends oauthError('slow_down') {}

/** The user denied the device authorization request (a token error: 400, unlike AccessDenied's page). */
export class DeviceAccessDenied extends oauthError('access_denied') {}

/** The device code expired; the device may start a new device authorization request. */
export class ExpiredToken extends oauthError('expired_token') {}

/** RFC 8707 §2: the requested resource is unknown or not allowed. */
export class InvalidTarget extends oauthError('invalid_target') {}

/** RFC 9449 §5 / §7.1: the DPoP proof (or a key binding it should match) is invalid. */
export class InvalidDpopProof extends oauthError('invalid_dpop_proof') {}

/**
 * RFC 9449 §8.1 (and §9 at a resource): the server requires a nonce in the proof; `nonce` is
 * the fresh one to use, sent in the `DPoP-Nonce` header.
 */
export class UseDpopNonce extends OAuthError {
  readonly error = 'use_dpop_nonce';

  constructor(
    description: string,
    readonly nonce: string,
  ) {
    super(description);
  }
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

// --- OAuth errors of the authorization endpoint ---

/** OpenID Connect Core §3.1.2.6: errors for `prompt=none` when the user would have to act. */
export class LoginRequired extends oauthError('login_required') {}

export class ConsentRequired extends oauthError('consent_required') {}

/** Where and how an error (or a code) may be sent once the redirect_uri is validated. */
export interface ResponseTarget {
  redirectUri: string;
  responseMode: StoredAuthorizationRequest['responseMode'];
  state: string | null;
}

export class RedirectableError extends Error {
  constructor(
    readonly oauthError: OAuthError,
    readonly target: ResponseTarget,
    readonly clientId: string,
  ) {
    super(oauthError.message);
    this.name = 'RedirectableError';
  }
}

/**
 * RFC 9101 §6.3 and §7 (`invalid_request_object`): a signed request object whose signature
 * verified but whose claims are refused (expired, wrong audience, replayed, ...). Answered to
 * the client at the PAR endpoint, and to the request object's validated redirect_uri at the
 * authorization endpoint (the client signed it, so its redirect_uri can be trusted).
 */
export class InvalidRequestObject extends oauthError('invalid_request_object') {}

export class RequestUriNotSupported extends oauthError('request_uri_not_supported') {}

// --- Page errors: shown to the End-User, never redirected ---

/**
 * A pushed request_uri (RFC 9126 §4) that cannot be used: unknown, used before, expired, or
 * pushed by another client than the one named by client_id. RFC 9101 §7 calls this
 * `invalid_request_uri`; the pushed request's redirect_uri cannot be trusted for this request
 * (it belongs to a request that is not this client's, or not any more), so the End-User sees an
 * error page, never a redirect.
 */
export class InvalidRequestUri extends UnsafeAuthorizationRequest {
  constructor(detail: string, facts: Array<{ label: string; value: string }> = []) {
    super('Authorization request cannot be used', detail, [{ label: 'error', value: 'invalid_request_uri' }, ...facts]);
    this.name = 'InvalidRequestUri';
  }
}

/**
 * RFC 9101 §6.3, §7 `invalid_request_object` at the authorization endpoint for a request object
 * that cannot be trusted (not a JWT, unsigned, not signed by the client's key, unreadable): its
 * redirect_uri is untrusted, so the End-User sees an error page, never a redirect. At the PAR
 * endpoint the same refusal is InvalidRequestObject, answered to the client.
 */
export class UntrustedRequestObject extends UnsafeAuthorizationRequest {
  constructor(detail: string, facts: Array<{ label: string; value: string }> = []) {
    super('Invalid request object', detail, [{ label: 'error', value: 'invalid_request_object' }, ...facts]);
    this.name = 'UntrustedRequestObject';
  }
}

/** An interaction that is unknown, expired, finished, or started by another browser. */
export class InteractionNotFound extends Error {
  readonly status = 400;
  constructor() {
    super(
      'This sign-in request has expired or was started in another browser. Go back to the application and try again.',
    );
    this.name = 'InteractionNotFound';
  }
}

/** A form submitted without the interaction's CSRF token. */
export class CsrfMismatch extends Error {
  readonly status = 403;
  constructor() {
    super('The form could not be verified. Reload the page and try again.');
    this.name = 'CsrfMismatch';
  }
}

/**
 * A logout request that must not lead to a redirect (unknown client, unregistered
 * post_logout_redirect_uri, an id_token_hint that is not ours or not for client_id): the
 * End-User sees an error page, as for an authorization request that cannot be trusted.
 */
export class InvalidLogoutRequest extends UnsafeAuthorizationRequest {
  constructor(detail: string, facts: Array<{ label: string; value: string }> = []) {
    super('Cannot sign out', detail, facts);
    this.name = 'InvalidLogoutRequest';
  }
}

/**
 * A request refused because its client (or IP address) failed to authenticate too often.
 *
 * Status 429 (RFC 6585 §4) with Retry-After. The token endpoint has no error code for this:
 * RFC 6749 §5.2 defines invalid_request, invalid_client, invalid_grant, unauthorized_client,
 * unsupported_grant_type and invalid_scope, none of which fits (invalid_client would tell a
 * client whose secret is right that it is wrong, and RFC 8628's `slow_down` belongs to the
 * device flow). `temporarily_unavailable` (RFC 6749 §4.1.2.1: "unable to handle the request due
 * to a temporary overloading or maintenance") says exactly what the client needs to know: the
 * request may be fine, retry later; libraries already treat it as retryable.
 */
export class TooManyAttempts extends OAuthError {
  readonly error = 'temporarily_unavailable';
  override readonly status = 429;
  /** `what`: what came too often (client registrations from one address, RFC 7591, use it too). */
  constructor(
    readonly retryAfterSeconds: number,
    what = 'failed client authentication attempts',
  ) {
    super(`too many ${what}; retry after ${retryAfterSeconds} seconds`);
  }
}

/**
 * An authorization request refused because its address started too many interactions it did
 * not finish, or because the server holds as many unfinished ones as it may (`status` 503).
 * An error page, not a redirect: RFC 6749 §4.1.2.1's `temporarily_unavailable` would send a
 * flood's every request on to the client; 429 (RFC 6585 §4) or 503 (RFC 9110 §15.6.4) with
 * Retry-After tells the browser (and the flooding script) when to come back.
 */
export class TooManyInteractions extends Error {
  constructor(
    readonly status: 429 | 503,
    readonly retryAfterSeconds: number,
  ) {
    super(
      status === 429
        ? `Too many sign-in requests came from your network. Try again in ${retryAfterSeconds} seconds.`
        : 'The server is handling too many sign-in requests right now. Try again in a minute.',
    );
    this.name = 'TooManyInteractions';
  }
}

// --- Dynamic client registration (RFC 7591 §3.2.2, RFC 7592 §2) ---

/** RFC 7591 §3.2.2: a redirect URI refused (the description names the field, e.g. `redirect_uris[1]`). */
export class InvalidRedirectUri extends oauthError('invalid_redirect_uri') {}

/** RFC 7591 §3.2.2: other client metadata refused (the description names the field). */
export class InvalidClientMetadata extends oauthError('invalid_client_metadata') {}

/**
 * RFC 7592 §2.1-2.3 and RFC 7591 §3: a missing, unknown or expired registration access token or
 * initial access token, answered as RFC 6750 §3.1 says: 401 with a Bearer challenge.
 */
export class InvalidToken extends oauthError('invalid_token', 401) {}

// --- Outbound requests (src/core/outbound/safe-fetch.ts) ---

export type OutboundFailureKind =
  /** The URL or its addresses are not allowed; nothing was sent. */
  | 'refused'
  /** No complete answer within the time limit. */
  | 'timeout'
  /** The answer was a redirect, which is not followed. */
  | 'redirect'
  /** The response body was larger than allowed. */
  | 'too-large'
  /** DNS or the connection failed. */
  | 'network'
  /** The caller's signal aborted the request. */
  | 'aborted';

/** Why an outbound request was refused or failed; `reason` is for logs, not for clients. */
export class OutboundRequestFailed extends Error {
  readonly kind: OutboundFailureKind;
  readonly reason: string;

  constructor(kind: OutboundFailureKind, reason: string) {
    super(`outbound request ${kind === 'refused' ? 'refused' : 'failed'}: ${reason}`);
    this.name = 'OutboundRequestFailed';
    this.kind = kind;
    this.reason = reason;
  }
}

// --- Operator errors: config file and CLI ---

/** Invalid client metadata; `field` names the offending key, e.g. `redirect_uris[0]`. */
export class ClientMetadataError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.name = 'ClientMetadataError';
    this.field = field;
  }
}

/** Key management refused (e.g. retiring the last active key); the message is for the operator. */
export class KeyManagementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyManagementError';
  }
}

/** A claim value that does not fit OIDC Core §5.1; `field` is the claim (or address member). */
export class UserClaimError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'UserClaimError';
  }
}

// --- Admin API errors (RFC 9457 problem details; src/http/error-responses.ts) ---

/** One refused field of an admin API request body: `field` is its JSON name or path. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * A refused admin API request, answered as RFC 9457 problem details: `problem` names its kind
 * (the `type` URI ends with it), `title` is the same for every occurrence of the kind (§3.1.3),
 * `message` (the `detail`) says what was wrong with this request; `errors` lists refused fields.
 */
export class AdminProblem extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 412 | 422 | 428,
    readonly problem: string,
    readonly title: string,
    detail: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(detail);
    this.name = 'AdminProblem';
  }
}

/** 404: the resource the path names does not exist. */
export class AdminNotFound extends AdminProblem {
  constructor(detail: string) {
    super(404, 'not-found', 'Not found', detail);
  }
}

/** 422: the body is well-formed but names values the server refuses (validation, as the CLI's). */
export class AdminValidationFailed extends AdminProblem {
  constructor(detail: string, errors: FieldProblem[]) {
    super(422, 'validation-failed', 'Validation failed', detail, errors);
  }
}

/** 409: the change conflicts with the current state (an existing id, the last active key, ...). */
export class AdminConflict extends AdminProblem {
  constructor(detail: string) {
    super(409, 'conflict', 'Conflict', detail);
  }
}

/**
 * An admin API access token refused before any resource was touched (RFC 6750 §3.1): the
 * token is unusable (`invalid_token`, 401) or lacks the scope (`insufficient_scope`, 403, with
 * the scope that would do).
 */
export class AdminTokenRefused extends Error {
  constructor(
    readonly error: 'invalid_token' | 'insufficient_scope',
    readonly description: string,
    readonly scope?: string,
  ) {
    super(description);
    this.name = 'AdminTokenRefused';
  }
}
