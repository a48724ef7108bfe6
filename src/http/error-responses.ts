/**
 * The one place where errors become HTTP responses.
 *
 * Routes declare whether they answer in JSON (the back-channel OAuth endpoints) or HTML (the
 * pages a browser sees). Protocol errors map to their RFC status and code; framework errors
 * (bad content type, body too large, malformed body) map to `invalid_request`; anything else
 * is logged and answered with a generic `server_error`, never a stack trace.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AdminProblem,
  ClientMetadataError,
  KeyManagementError,
  UserClaimError,
  type FieldProblem,
  CsrfMismatch,
  InteractionNotFound,
  InvalidClient,
  InvalidRequest,
  InvalidToken,
  OAuthError,
  ServerError,
  TemporarilyUnavailable,
  TooManyAttempts,
  TooManyInteractions,
  UnsafeAuthorizationRequest,
  UseDpopNonce,
} from '../core/errors.js';
import { isStoreUnavailableError } from '../store/store-errors.js';
import { renderErrorPage } from '../ui/pages.js';
import { parseBasicAuthorization } from '../core/clients/client-authentication.js';
import { Params } from '../core/params.js';
import { sendHtml } from './html-response.js';
import { pageContext, type PageContext } from './page-context.js';
import type { ProviderContext } from '../core/context.js';
import { ENGLISH } from '../ui/i18n.js';
import { AuthorizationServerUnavailableError, BearerError } from '../resource/bearer-errors.js';

export type ResponseKind = 'json' | 'html';

/** The error code each failed request was answered with, for the request metrics. */
export const mappedErrorCodes = new WeakMap<FastifyRequest, string>();

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How errors on this route are answered. */
    responseKind?: ResponseKind;
    /**
     * The route is an RFC 6750 protected resource (UserInfo): its error responses carry a
     * `WWW-Authenticate: Bearer` challenge (§3), also for requests refused before the handler
     * ran (control characters, a malformed or oversized body).
     */
    bearerRealm?: string;
  }
}

/** RFC 6749 §5.1, §5.2: token responses must not be cached. */
export function sendOAuthJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(body));
}

function oauthErrorJson(reply: FastifyReply, error: OAuthError, bearerRealm?: string): FastifyReply {
  // RFC 6750 §3: a protected resource answers a malformed request (400 invalid_request) with
  // a Bearer challenge naming the error. asciiDescription (src/core/errors.ts) left out `"` and
  // `\`, so the description needs no escaping in the quoted-string.
  if (bearerRealm !== undefined && error.status === 400) {
    reply.header(
      'www-authenticate',
      `Bearer realm="${bearerRealm}", error="${error.error}", error_description="${error.description}"`,
    );
  }
  if (error instanceof InvalidClient && error.basicChallenge) {
    // RFC 6749 §5.2: a failed Basic authentication answers 401 with a matching challenge
    // (RFC 9110 §15.5.2: every 401 carries one). Without Basic it is a 400 (InvalidClient).
    reply.header('www-authenticate', 'Basic realm="gatehouse", charset="UTF-8"');
  }
  // RFC 9449 §8.1: the nonce the client must put into its next proof.
  if (error instanceof UseDpopNonce) reply.header('dpop-nonce', error.nonce);
  if (error instanceof TemporarilyUnavailable) reply.header('retry-after', '5');
  // RFC 6750 §3 (RFC 7592 §2.1-2.3): a refused registration or initial access token.
  if (error instanceof InvalidToken)
    reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${error.description}"`);
  // RFC 6585 §4: a limited client learns when it may retry.
  if (error instanceof TooManyAttempts) reply.header('retry-after', String(error.retryAfterSeconds));
  return sendOAuthJson(reply, error.status, { error: error.error, error_description: error.description });
}

/** Fastify's own errors for input it refused before a handler ran. */
function fromFrameworkError(error: FastifyError): OAuthError | undefined {
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new InvalidRequest('content type must be application/x-www-form-urlencoded');
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new InvalidRequest('request body is too large');
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new InvalidRequest('malformed request');
  }
  return undefined;
}

/** The client_id a failed client authentication named, for the log (never the secret). */
function claimedClientId(request: FastifyRequest): string | null {
  const body = request.body;
  const fromBody = body instanceof Params ? (body.get('client_id') ?? null) : null;
  try {
    return parseBasicAuthorization(request.headers.authorization)?.clientId ?? fromBody;
  } catch {
    return fromBody;
  }
}

export interface ErrorHandlerOptions {
  /**
   * Show the developer-only details of a refused authorization request (the registered
   * redirect URIs and the side-by-side comparison) on the error page; see explainsErrors.
   */
  explainErrors: boolean;
  /** The settings the error pages take their languages and branding from (defaults without). */
  context?: Pick<ProviderContext, 'settings'>;
}

/**
 * The error page's language and branding: `ui_locales` of the query (an authorization request
 * refused before it became an interaction, OIDC Core §3.1.2.1), else Accept-Language.
 */
function errorPageContext(request: FastifyRequest, options: ErrorHandlerOptions): PageContext | undefined {
  if (options.context === undefined) return undefined;
  const query = request.query as Record<string, unknown> | undefined;
  const uiLocales = typeof query?.['ui_locales'] === 'string' ? query['ui_locales'].split(' ') : [];
  return pageContext(request, options.context, uiLocales);
}

/** The error handler of the app (`setErrorHandler`). */
export function errorHandler(options: ErrorHandlerOptions) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    handleError(error, request, reply, options);
}

export function handleError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  options: ErrorHandlerOptions,
): FastifyReply {
  if (error instanceof TooManyInteractions) {
    // RFC 6585 §4 (429) and RFC 9110 §10.2.3: the browser learns when it may come back.
    mappedErrorCodes.set(request, 'temporarily_unavailable');
    reply.header('retry-after', String(error.retryAfterSeconds));
    const page = errorPageContext(request, options);
    const t = page?.t ?? ENGLISH;
    return sendHtml(
      reply,
      error.status,
      renderErrorPage({ title: t.text('error.try_later'), message: error.message, lang: page?.lang }, page?.kit),
    );
  }
  const kind: ResponseKind = request.routeOptions.config?.responseKind ?? 'json';
  let mapped: OAuthError | UnsafeAuthorizationRequest | InteractionNotFound | CsrfMismatch;
  if (
    error instanceof OAuthError ||
    error instanceof UnsafeAuthorizationRequest ||
    error instanceof InteractionNotFound ||
    error instanceof CsrfMismatch
  ) {
    mapped = error;
  } else if (isStoreUnavailableError(error)) {
    // RFC 6749 §4.1.2.1 / §5.2: the store is unreachable or overloaded; the client may retry.
    request.log.error({ err: error }, 'store unavailable');
    mapped = new TemporarilyUnavailable('the service is temporarily unavailable, try again');
  } else {
    const framework = fromFrameworkError(error as FastifyError);
    if (framework) {
      mapped = framework;
    } else {
      request.log.error({ err: error }, 'unexpected error');
      mapped = new ServerError('the server encountered an unexpected error');
    }
  }
  mappedErrorCodes.set(request, mapped instanceof OAuthError ? mapped.error : 'invalid_request');
  if (mapped instanceof InvalidClient) {
    // The client reads only CLIENT_AUTHENTICATION_FAILED (no client enumeration); the operator
    // reads here which check failed, for which client_id.
    request.log.info({ clientId: claimedClientId(request), reason: mapped.reason }, 'client authentication failed');
  }
  if (kind === 'json') {
    const bearerRealm = request.routeOptions.config?.bearerRealm;
    if (mapped instanceof OAuthError) return oauthErrorJson(reply, mapped, bearerRealm);
    return oauthErrorJson(reply, new InvalidRequest(mapped.message), bearerRealm);
  }
  // RFC 9110 §10.2.3: a 503 says when to come back, on the error page as in JSON.
  if (mapped instanceof TemporarilyUnavailable) reply.header('retry-after', '5');
  return sendHtml(reply, mapped.status, errorPageFor(mapped, request, options));
}

function errorPageFor(
  error: OAuthError | UnsafeAuthorizationRequest | InteractionNotFound | CsrfMismatch,
  request: FastifyRequest,
  options: ErrorHandlerOptions,
): string {
  const page = errorPageContext(request, options);
  const t = page?.t ?? ENGLISH;
  const render = (p: Parameters<typeof renderErrorPage>[0]) => renderErrorPage({ ...p, lang: page?.lang }, page?.kit);
  if (error instanceof UnsafeAuthorizationRequest) {
    const revealing = error.comparison !== null || error.registrationFacts.length > 0;
    if (revealing) {
      // The full explanation is always in the log, under this request's id (reqId).
      request.log.info(
        {
          refused: {
            title: error.title,
            facts: [...error.facts, ...error.registrationFacts],
            comparison: error.comparison,
          },
        },
        `authorization request refused: ${error.title}`,
      );
    }
    if (options.explainErrors || !revealing) {
      return render({
        title: error.title,
        message: error.detail,
        details: [...error.facts, ...error.registrationFacts],
        ...(error.comparison ? { comparison: error.comparison } : {}),
      });
    }
    // RFC 9700 §4.1: the client's registered redirect URIs are not shown to whoever sends a
    // wrong one (an attacker looking for a forgotten URI). The developer gives the operator
    // the request id shown here, which finds the log line above.
    return render({
      title: error.title,
      message: `${error.detail} ${t.text('error.see_log')}`,
      details: [...error.facts, { label: t.text('error.request_id'), value: String(request.id) }],
    });
  }
  if (error instanceof OAuthError) {
    return render({
      title: t.text('error.generic'),
      message: error.description,
      details: [{ label: t.text('error.code'), value: error.error }],
    });
  }
  return render({ title: t.text('error.cannot_continue'), message: error.message });
}

// --- The admin API: RFC 9457 problem details -------------------------------------------------

/** RFC 9457 §3: a problem details object; `errors` (validation) and `error` (RFC 6750 code) are extension members. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldProblem[];
  error?: string;
}

/** RFC 9457 §3.1.1: the problem type URI, a URN (it need not resolve). */
export function problemType(problem: string): string {
  return `urn:gatehouse:problem:${problem}`;
}

/** Sends an RFC 9457 problem details response (`application/problem+json`, §3). */
export function sendProblem(reply: FastifyReply, problem: ProblemDetails): FastifyReply {
  return reply
    .code(problem.status)
    .header('cache-control', 'no-store')
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(problem);
}

/** Fastify's schema validation failures, as field problems (the JSON pointer of each, or the missing member). */
function validationProblems(error: FastifyError): FieldProblem[] {
  return (error.validation ?? []).map((entry) => {
    const missing = (entry.params as { missingProperty?: unknown } | undefined)?.missingProperty;
    const path = entry.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const field = typeof missing === 'string' ? (path === '' ? missing : `${path}.${missing}`) : path || '(body)';
    return { field, message: entry.message ?? 'is invalid' };
  });
}

function adminProblemOf(error: unknown, request: FastifyRequest): ProblemDetails {
  if (error instanceof AdminProblem) {
    return {
      type: problemType(error.problem),
      title: error.title,
      status: error.status,
      detail: error.message,
      ...(error.errors.length > 0 ? { errors: error.errors } : {}),
    };
  }
  if (error instanceof ClientMetadataError) {
    // RFC 7591 §3.2.2 invalid_client_metadata, as the CLI and the registration endpoint refuse it.
    const errors = [{ field: error.field, message: error.message }];
    return {
      type: problemType('validation-failed'),
      title: 'Validation failed',
      status: 422,
      detail: error.message,
      errors,
    };
  }
  if (error instanceof UserClaimError) {
    const errors = [{ field: error.field, message: error.message }];
    return {
      type: problemType('validation-failed'),
      title: 'Validation failed',
      status: 422,
      detail: error.message,
      errors,
    };
  }
  if (error instanceof KeyManagementError) {
    return { type: problemType('conflict'), title: 'Conflict', status: 409, detail: error.message };
  }
  if (error instanceof AuthorizationServerUnavailableError || isStoreUnavailableError(error)) {
    request.log.error({ err: error }, 'admin API: a dependency is unavailable');
    return {
      type: problemType('unavailable'),
      title: 'Service unavailable',
      status: 503,
      detail: 'the service is temporarily unavailable, try again',
    };
  }
  const framework = error as FastifyError;
  if (framework.validation !== undefined) {
    const errors = validationProblems(framework);
    const where = framework.validationContext ?? 'request';
    return {
      type: problemType('invalid-request'),
      title: 'Invalid request',
      status: 400,
      detail: `the ${where} does not match the schema: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
      errors,
    };
  }
  if (framework.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return {
      type: problemType('unsupported-media-type'),
      title: 'Unsupported media type',
      status: 415,
      detail: 'send the body as application/json',
    };
  if (framework.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { type: problemType('too-large'), title: 'Payload too large', status: 413, detail: 'the body is too large' };
  if (typeof framework.statusCode === 'number' && framework.statusCode >= 400 && framework.statusCode < 500)
    return {
      type: problemType('invalid-request'),
      title: 'Invalid request',
      status: 400,
      detail: 'the request is malformed (a body that is not JSON, or an empty JSON body)',
    };
  request.log.error({ err: error }, 'unexpected error');
  return {
    type: problemType('server-error'),
    title: 'Internal server error',
    status: 500,
    detail: 'the server encountered an unexpected error',
  };
}

/**
 * The admin API's error handler: every refusal as RFC 9457 problem details; a refused access
 * token also carries its RFC 6750 §3 `WWW-Authenticate` challenge, and its code as `error`.
 */
export function adminErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof BearerError) {
    mappedErrorCodes.set(request, error.error ?? 'unauthorized');
    reply.header('www-authenticate', error.wwwAuthenticate);
    const title = error.status === 403 ? 'Forbidden' : error.status === 400 ? 'Invalid request' : 'Unauthorized';
    return sendProblem(reply, {
      type: problemType(error.error ?? 'unauthorized'),
      title,
      status: error.status,
      detail: error.description,
      ...(error.error !== undefined ? { error: error.error } : {}),
    });
  }
  const problem = adminProblemOf(error, request);
  mappedErrorCodes.set(request, problem.type.slice(problemType('').length));
  return sendProblem(reply, problem);
}
