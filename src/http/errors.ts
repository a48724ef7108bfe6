/**
 * The one place where errors become HTTP responses.
 *
 * Routes declare whether they answer in JSON (the back-channel OAuth endpoints) or HTML (the
 * pages a browser sees). Protocol errors map to their RFC status and code; framework errors
 * (bad content type, body too large, malformed body) map to `invalid_request`; anything else
 * is logged and answered with a generic `server_error`, never a stack trace.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidClient, InvalidRequest, OAuthError, ServerError, TemporarilyUnavailable, UnsafeAuthorizationRequest } from '../core/errors.js';
import { CsrfMismatch, InteractionNotFound } from '../core/authorize/interaction.js';
import { isStoreUnavailableError } from '../store/store-errors.js';
import { TooManyAttempts, TooManyInteractions } from '../core/limits.js';
import { renderErrorPage } from '../ui/pages.js';
import { sendHtml } from './html-response.js';

export type ResponseKind = 'json' | 'html';

/** The error code each failed request was answered with, for the request metrics. */
export const mappedErrorCodes = new WeakMap<FastifyRequest, string>();

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How errors on this route are answered. */
    responseKind?: ResponseKind;
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

function oauthErrorJson(reply: FastifyReply, error: OAuthError): FastifyReply {
  if (error instanceof InvalidClient && (error.basicChallenge || error.status === 401)) {
    // RFC 6749 §5.2: a failed Basic authentication answers 401 with a matching challenge; and
    // RFC 9110 §15.5.2: every 401 carries a challenge, also when Basic was not used.
    reply.header('www-authenticate', 'Basic realm="gatehouse", charset="UTF-8"');
  }
  if (error instanceof TemporarilyUnavailable) reply.header('retry-after', '5');
  // RFC 6585 §4: a limited client learns when it may retry.
  if (error instanceof TooManyAttempts) reply.header('retry-after', String(error.retryAfterSeconds));
  return sendOAuthJson(reply, error.status, { error: error.error, error_description: error.description });
}

/** Fastify's own errors for input it refused before a handler ran. */
function fromFrameworkError(error: FastifyError): OAuthError | undefined {
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new InvalidRequest('content type must be application/x-www-form-urlencoded');
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new InvalidRequest('request body is too large');
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new InvalidRequest('malformed request');
  }
  return undefined;
}


export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof TooManyInteractions) {
    // RFC 6585 §4 (429) and RFC 9110 §10.2.3: the browser learns when it may come back.
    mappedErrorCodes.set(request, 'temporarily_unavailable');
    reply.header('retry-after', String(error.retryAfterSeconds));
    return sendHtml(reply, error.status, renderErrorPage({ title: 'Try again later', message: error.message }));
  }
  const kind: ResponseKind = request.routeOptions.config?.responseKind ?? 'json';
  let mapped: OAuthError | UnsafeAuthorizationRequest | InteractionNotFound | CsrfMismatch;
  if (error instanceof OAuthError || error instanceof UnsafeAuthorizationRequest || error instanceof InteractionNotFound || error instanceof CsrfMismatch) {
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
  if (kind === 'json') {
    if (mapped instanceof OAuthError) return oauthErrorJson(reply, mapped);
    return oauthErrorJson(reply, new InvalidRequest(mapped.message));
  }
  // RFC 9110 §10.2.3: a 503 says when to come back, on the error page as in JSON.
  if (mapped instanceof TemporarilyUnavailable) reply.header('retry-after', '5');
  return sendHtml(reply, mapped.status, errorPageFor(mapped));
}

function errorPageFor(error: OAuthError | UnsafeAuthorizationRequest | InteractionNotFound | CsrfMismatch): string {
  if (error instanceof UnsafeAuthorizationRequest) {
    return renderErrorPage({
      title: error.title,
      message: error.detail,
      details: error.facts,
      ...(error.comparison ? { comparison: error.comparison } : {}),
    });
  }
  if (error instanceof OAuthError) {
    return renderErrorPage({ title: 'Something went wrong', message: error.description, details: [{ label: 'error', value: error.error }] });
  }
  return renderErrorPage({ title: 'Cannot continue', message: error.message });
}
